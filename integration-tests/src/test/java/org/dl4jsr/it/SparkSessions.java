package org.dl4jsr.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Spark contexts for the tests, configured entirely from what the build passes in (pom.xml: SPARK_HOME,
 * SPARK_SCALA_VERSION, system properties). Every context writes its temporary files under target/ and
 * {@link #stop} deletes them. (One of Spark's JVM shutdown hooks recreates the first context's local directory, empty,
 * under target/spark-tmp when the test JVM exits.)
 */
final class SparkSessions {
    private SparkSessions() {
    }

    /** {@code local[threads, maxFailures]}: one JVM, tasks retried up to maxFailures - 1 times. */
    static JavaSparkContext local(int threads, int maxFailures, String name) {
        return local(threads, maxFailures, name, new SparkConf());
    }

    static JavaSparkContext local(int threads, int maxFailures, String name, SparkConf conf) {
        return start(conf.setMaster("local[" + threads + "," + maxFailures + "]"), name);
    }

    /** Separate executor JVMs: {@code local-cluster[workers, 1 core, 1024 MB]}, given the test classpath. */
    static JavaSparkContext localCluster(int workers, String name) {
        String home = System.getProperty("spark.test.home");
        try {
            Files.createDirectories(Paths.get(home, "jars"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SparkConf conf = new SparkConf().setMaster("local-cluster[" + workers + ",1,1024]")
                .set("spark.executor.extraClassPath", testClassPath())
                .set("spark.executor.extraJavaOptions", System.getProperty("spark.test.executor.flags", ""))
                .set("spark.executor.memory", "1024m");
        return start(conf, name);
    }

    /**
     * A driver in this JVM for a standalone cluster ({@link StandaloneCluster}); its executors get the test classpath
     * and the executor flags from the pom, and {@code executorMemory} of heap each, one core.
     */
    static JavaSparkContext standalone(String masterUrl, String name, String executorMemory, SparkConf conf) {
        conf.setMaster(masterUrl)
                .set("spark.executor.extraClassPath", testClassPath())
                .set("spark.executor.extraJavaOptions", System.getProperty("spark.test.executor.flags", ""))
                .set("spark.executor.memory", executorMemory)
                .set("spark.executor.cores", "1");
        return start(conf, name);
    }

    private static JavaSparkContext start(SparkConf conf, String name) {
        File tmp = tmpDir(name);
        conf.setAppName(name)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.local.dir", tmp.getAbsolutePath())
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false");
        return new JavaSparkContext(conf);
    }

    static void stop(JavaSparkContext sc) {
        if (sc == null) {
            return;
        }
        String dir = sc.getConf().get("spark.local.dir");
        boolean cluster = sc.master().startsWith("local-cluster");
        sc.stop();
        if (cluster) {
            // the executor JVMs are this JVM's child processes: let them finish before deleting what they wrote
            ProcessHandle.current().descendants().forEach(p -> awaitExit(p));
            // the executors' logs (SPARK_HOME/work) and the (empty) jars directory made for them
            deleteRecursively(Paths.get(System.getProperty("spark.test.home")));
        }
        deleteRecursively(Paths.get(dir));
    }

    private static void awaitExit(ProcessHandle p) {
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
        }
    }

    static File tmpDir(String name) {
        File dir = new File(System.getProperty("spark.test.tmp", "target/spark-tmp"), name);
        if (!dir.mkdirs() && !dir.isDirectory()) {
            throw new IllegalStateException("Cannot create " + dir);
        }
        return dir;
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isEmpty()) {
            throw new IllegalStateException("surefire.test.class.path is not set: run the tests with Maven");
        }
        return cp;
    }
}
