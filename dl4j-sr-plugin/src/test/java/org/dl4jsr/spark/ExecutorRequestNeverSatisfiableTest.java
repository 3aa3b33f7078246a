package org.dl4jsr.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.SparkStatusTracker;
import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * A cluster whose workers are all too small for one executor: Spark would wait forever ("Initial job has not accepted
 * any resources"); the driver fails at once, with the numbers. The SparkContext and the cluster status are Mockito
 * fakes (a real cluster that cannot run the job costs minutes); the Master's status page is served by a local HTTP
 * server with the JSON a Spark 3.5 standalone Master writes.
 */
class ExecutorRequestNeverSatisfiableTest {
    private static final Duration LONG = Duration.ofMinutes(10);

    /** Two ALIVE workers of 1024 MB and 2 cores, one DEAD big one (dead workers do not count). */
    private static final String MASTER_JSON = "{\"url\":\"spark://127.0.0.1:7077\",\"workers\":["
            + worker("worker-1", 2, 1024, "ALIVE") + "," + worker("worker-2", 2, 1024, "ALIVE") + ","
            + worker("worker-3", 64, 262144, "DEAD") + "],\"aliveworkers\":2,\"cores\":4,\"coresused\":0,"
            + "\"memory\":2048,\"memoryused\":0,\"activeapps\":[],\"completedapps\":[],\"status\":\"ALIVE\"}";

    private static String worker(String id, int cores, long memory, String state) {
        return "{\"id\":\"" + id + "\",\"host\":\"10.0.0.2\",\"port\":40000,\"webuiaddress\":\"http://10.0.0.2:8081\","
                + "\"cores\":" + cores + ",\"coresused\":0,\"coresfree\":" + cores + ",\"memory\":" + memory
                + ",\"memoryused\":0,\"memoryfree\":" + memory + ",\"resources\":{},\"resourcesused\":{},"
                + "\"resourcesfree\":{},\"state\":\"" + state + "\",\"lastheartbeat\":1733300000000}";
    }

    @Test
    void statusParsing() throws Exception {
        List<ClusterStatus.Worker> alive = StandaloneMasterStatus.parse(new ObjectMapper().readTree(MASTER_JSON));
        assertEquals(List.of(new ClusterStatus.Worker("worker-1", 2, 1024), new ClusterStatus.Worker("worker-2", 2, 1024)),
                alive);
        assertTrue(ClusterStatus.neverSatisfiable(alive, 4096, 1).contains("4096 MB"));
        assertTrue(ClusterStatus.neverSatisfiable(alive, 1024, 4).contains("4 core(s)"));
        assertEquals(null, ClusterStatus.neverSatisfiable(alive, 1024, 2), "fits exactly");
        assertEquals(null, ClusterStatus.neverSatisfiable(List.of(), 4096, 1), "no worker yet: one may join");
    }

    /** The waiting loop with a fake status: fails at once when too small, keeps waiting when it fits or is unknown. */
    @Test
    void waitingLoopFailsFastOnlyWhenTheRequestCanNeverBeMet() throws IOException {
        ClusterStatus small = mock(ClusterStatus.class);
        when(small.aliveWorkers()).thenReturn(List.of(new ClusterStatus.Worker("w", 2, 1024)));
        IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(
                IllegalStateException.class, () -> ExecutorRegistration.await(() -> 0, LONG, 10,
                        () -> ExecutorRegistration.failIfNeverSatisfiable(small, 4096, 1), () -> "timed out")));
        assertTrue(e.getMessage().contains("4096 MB") && e.getMessage().contains("1024 MB"), e.getMessage());
        verify(small, atLeastOnce()).aliveWorkers();

        ClusterStatus unreadable = mock(ClusterStatus.class);
        when(unreadable.aliveWorkers()).thenThrow(new IOException("connection refused"));
        ClusterStatus bigEnough = mock(ClusterStatus.class);
        when(bigEnough.aliveWorkers()).thenReturn(List.of(new ClusterStatus.Worker("w", 8, 16384)));
        for (ClusterStatus status : List.of(unreadable, bigEnough)) {
            IllegalStateException timeout = assertThrows(IllegalStateException.class, () -> ExecutorRegistration.await(
                    () -> 0, Duration.ofMillis(300), 10, () -> ExecutorRegistration.failIfNeverSatisfiable(status, 4096,
                            1), () -> "timed out"));
            assertEquals("timed out", timeout.getMessage(), "kept waiting until time was up");
        }
    }

    /**
     * End to end through {@code await(SparkContext, timeout)}: a (mocked) driver on a standalone master whose (served)
     * status page lists only workers too small for spark.executor.memory=4g fails within seconds, not after 10 min.
     */
    @Test
    void driverFailsFastAgainstTheMastersStatusPage() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/json/", exchange -> {
            byte[] body = MASTER_JSON.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try {
            SparkConf conf = new SparkConf().set("spark.executor.memory", "4g")
                    .set("spark.master.ui.port", Integer.toString(server.getAddress().getPort()));
            SparkContext sc = mock(SparkContext.class);
            SparkStatusTracker tracker = mock(SparkStatusTracker.class);
            when(sc.isLocal()).thenReturn(false);
            when(sc.isStopped()).thenReturn(false);
            when(sc.master()).thenReturn("spark://127.0.0.1:7077");
            when(sc.applicationId()).thenReturn("app-test");
            when(sc.getConf()).thenReturn(conf);
            when(sc.statusTracker()).thenReturn(tracker);
            when(tracker.getExecutorInfos()).thenReturn(new SparkExecutorInfo[1]); // the driver only
            IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> assertThrows(IllegalStateException.class, () -> ExecutorRegistration.await(sc, LONG)));
            // the same page for a driver of another master (spark://127.0.0.1:7078) is not its cluster: it waits on
            when(sc.master()).thenReturn("spark://127.0.0.1:7078");
            IllegalStateException other = assertThrows(IllegalStateException.class,
                    () -> ExecutorRegistration.await(sc, Duration.ofMillis(500)));
            assertTrue(other.getMessage().startsWith("No Spark executor registered within"), other.getMessage());
            assertTrue(e.getMessage().startsWith("No Spark worker can ever start an executor"), e.getMessage());
            assertTrue(e.getMessage().contains("4096 MB") && e.getMessage().contains("1024 MB"), e.getMessage());
        } finally {
            server.stop(0);
        }
    }
}
