package org.dl4jsr.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on 127.0.0.1: one Master and {@code workers} Workers, each in its own JVM started by the
 * test (as {@code sbin/start-master.sh} and {@code start-worker.sh} would, without a Spark distribution: Spark's
 * classes come from the test classpath, and SPARK_HOME is a directory with an empty {@code jars/}). Every port is a free
 * one, every web UI listens on 127.0.0.1 only (SPARK_LOCAL_IP), and everything the cluster writes (logs, the Workers'
 * work directories with the executors' stderr) is under one directory in target/. {@link #close} ends every process it
 * started (executors first) and deletes that directory.
 */
final class StandaloneCluster implements AutoCloseable {
    private final Path dir;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();
    private final String masterUrl;

    /** Starts the Master and the Workers ({@code coresPerWorker} cores and {@code memoryPerWorker} e.g. "1g" each). */
    StandaloneCluster(String name, int workerCount, int coresPerWorker, String memoryPerWorker) {
        dir = SparkSessions.tmpDir(name).toPath();
        Process m = null;
        try {
            Files.createDirectories(dir.resolve("spark-home/jars"));
            int port = freePort();
            masterUrl = "spark://127.0.0.1:" + port;
            m = start("master", Map.of(), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort()));
            awaitListening(m, port, "master");
            for (int w = 0; w < workerCount; w++) {
                // Each Worker has its own directories, as on separate machines, and they exist before it starts:
                // Spark 3.5's Worker creates SPARK_LOCAL_DIRS with "exists || mkdirs" at its first executor launch, so
                // two Workers sharing a missing directory race; the loser ignores it, keeps an empty list, and fails
                // every launch ("No subfolder can be created") while the Master relaunches without end.
                Path local = Files.createDirectories(dir.resolve("local-" + w));
                Path work = Files.createDirectories(workDir().resolve("worker-" + w));
                workers.add(start("worker-" + w, Map.of("SPARK_LOCAL_DIRS", local.toString()),
                        "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--port", String.valueOf(freePort()), "--webui-port", String.valueOf(freePort()),
                        "--cores", String.valueOf(coresPerWorker), "--memory", memoryPerWorker,
                        "--work-dir", work.toString(), masterUrl));
            }
        } catch (IOException | RuntimeException e) {
            workers.forEach(StandaloneCluster::end);
            end(m);
            SparkSessions.deleteRecursively(dir);
            throw e instanceof IOException ? new UncheckedIOException((IOException) e) : (RuntimeException) e;
        }
        master = m;
    }

    String masterUrl() {
        return masterUrl;
    }

    /** Where the Workers put the executors' directories (stderr, stdout), one subdirectory per Worker. */
    Path workDir() {
        return dir.resolve("work");
    }

    /** Whether {@code pid} is an executor JVM of this cluster (a child of one of its Workers). */
    boolean isExecutor(long pid) {
        return workers.stream().anyMatch(w -> w.descendants().anyMatch(p -> p.pid() == pid));
    }

    private Process start(String role, Map<String, String> extraEnv, String mainClass, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.addAll(Arrays.asList(System.getProperty("spark.test.jvm.flags", "").trim().split("\\s+")));
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path"));
        cmd.add(mainClass);
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(role + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", dir.resolve("spark-home").toString());
        env.put("SPARK_LOCAL_IP", "127.0.0.1"); // web UIs bind to this instead of 0.0.0.0
        env.put("SPARK_SCALA_VERSION", "2.12");
        // the Workers start executors with $JAVA_HOME/bin/java when JAVA_HOME is set: make it this JVM's, whatever
        // the build's environment says, so every process of the cluster runs on the same Java
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.putAll(extraEnv); // a Worker's SPARK_LOCAL_DIRS: its executors' scratch space (else /tmp)
        return pb.start();
    }

    private void awaitListening(Process p, int port, String role) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("The Spark " + role + " exited: " + log(role));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                sleep(200);
            }
        }
        throw new IllegalStateException("The Spark " + role + " did not listen on port " + port + " within 60 s: "
                + log(role));
    }

    /** How many times the Master has removed an executor because it FAILED (it then launches another at once). */
    int failedExecutorLaunches() {
        return (int) logLines("master").stream().filter(l -> l.contains("because it is FAILED")).count();
    }

    /**
     * What a person needs to see when executors do not come up: the Master's last lines, every Worker's first
     * error (with the two lines before it and its stack trace), and the start of the first executor's stderr.
     */
    String diagnosis() {
        StringBuilder out = new StringBuilder();
        List<String> master = logLines("master");
        out.append("executor launches that FAILED: ").append(failedExecutorLaunches())
                .append("\n--- master log, last 20 lines:\n");
        master.subList(Math.max(0, master.size() - 20), master.size()).forEach(l -> out.append(l).append('\n'));
        for (int w = 0; w < workers.size(); w++) {
            List<String> log = logLines("worker-" + w);
            int first = 0;
            while (first < log.size() && !log.get(first).contains(" ERROR ")) {
                first++;
            }
            out.append("--- worker-").append(w).append(first < log.size() ? ": first error:\n"
                    : ": no error; last 10 lines:\n");
            int from = first < log.size() ? Math.max(0, first - 2) : Math.max(0, log.size() - 10);
            log.subList(from, Math.min(log.size(), from + 16)).forEach(l -> out.append(l).append('\n'));
        }
        try (Stream<Path> files = Files.walk(workDir())) {
            Optional<Path> stderr = files.filter(f -> f.getFileName().toString().equals("stderr")).sorted()
                    .findFirst();
            out.append("--- ").append(stderr.map(Path::toString).orElse("no executor stderr under " + workDir()))
                    .append('\n');
            if (stderr.isPresent()) {
                List<String> lines = Files.readAllLines(stderr.get(), StandardCharsets.UTF_8);
                lines.subList(0, Math.min(lines.size(), 30)).forEach(l -> out.append(l).append('\n'));
            }
        } catch (IOException | UncheckedIOException e) {
            out.append("(cannot read ").append(workDir()).append(": ").append(e).append(")\n");
        }
        return out.toString();
    }

    private List<String> logLines(String role) {
        try {
            return Files.readAllLines(dir.resolve(role + ".log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of("(no log: " + e + ")");
        }
    }

    private String log(String role) {
        return String.join("\n", logLines(role));
    }

    @Override
    public void close() {
        for (Process w : workers) {
            w.descendants().forEach(StandaloneCluster::end); // executors
            end(w);
        }
        end(master);
        SparkSessions.deleteRecursively(dir);
    }

    private static void end(ProcessHandle p) {
        p.destroy();
        try {
            p.onExit().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
        }
    }

    private static void end(Process p) {
        if (p != null) {
            end(p.toHandle());
        }
    }

    /** A port free at the time of the call (the OS does not hand it out again at once). */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
