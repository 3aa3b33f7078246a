package org.dl4jsr.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLConnection;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The workers of a Spark standalone cluster, from its Master's JSON status page ({@code http://<master
 * host>:<web UI port>/json/}, port 8080 unless {@code spark.master.ui.port} says otherwise).
 */
final class StandaloneMasterStatus implements ClusterStatus {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URL url;
    private final String master;

    StandaloneMasterStatus(URL url, String master) {
        this.url = url;
        this.master = master;
    }

    /** The status of the master {@code spark://host:port} (first host of a list), or null for other masters. */
    static StandaloneMasterStatus of(String master, int uiPort) {
        if (master == null || !master.startsWith("spark://")) {
            return null;
        }
        String host = master.substring("spark://".length()).split(",")[0].split(":")[0];
        try {
            return new StandaloneMasterStatus(URI.create("http://" + host + ":" + uiPort + "/json/").toURL(), master);
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public List<Worker> aliveWorkers() throws IOException {
        URLConnection c = url.openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(2000);
        try (InputStream in = c.getInputStream()) {
            JsonNode status = JSON.readTree(in);
            if (!master.equals(status.path("url").asText())) {
                // another master's page (the UI port is a guess unless spark.master.ui.port is set): not ours
                throw new IOException("the status page at " + url + " is of master " + status.path("url").asText());
            }
            return parse(status);
        }
    }

    /** The ALIVE workers of the Master's status JSON. */
    static List<Worker> parse(JsonNode status) {
        List<Worker> out = new ArrayList<>();
        for (JsonNode w : status.path("workers")) {
            if ("ALIVE".equals(w.path("state").asText())) {
                out.add(new Worker(w.path("id").asText(), w.path("cores").asInt(), w.path("memory").asLong()));
            }
        }
        return out;
    }
}
