package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Spark standalone cluster (a Master and two Workers, each in its own JVM, 127.0.0.1 only) with the driver in
 * the test JVM:
 * <ul>
 * <li>four workers (partitions) per round on the two executors, summed in a tree of depth 2 (pairs, then the pair
 * sums, on the executors), and an executor JVM killed (SIGKILL) while its task is in the middle of a round: the tasks
 * and shuffle outputs it held are recomputed, and the run ends with weights and updater state bit-identical to a
 * fault-free {@code local[2]} run, and the executor the Master starts in its place receives tasks
 * ({@code spark.locality.wait=0s}: otherwise the tasks wait for the survivor, which holds the cached data);</li>
 * <li>executors that cannot start (more memory asked for than any Worker has) make the master fail after its
 * {@code executorRegistrationTimeout}, with a message that says where to look, instead of waiting forever.</li>
 * </ul>
 * The executors get the test classpath (spark.executor.extraClassPath), not the examples' assembly jar: the assembly
 * is 150 MB and built only by a profile, so plain {@code mvn verify} stays fast; the assembly is tried by hand (README).
 */
@SparkJre
class ClusterExecutorLossTest {
    private static final int EPOCHS = 4;
    private static final int WORKERS = 4;
    private static final int DEPTH = 2;
    /** Round 4 covers iterations 9, 10, 11: partition 0's task is held (then killed) before fitting iteration 10. */
    private static final int KILL_ITERATION = 10;
    private static StandaloneCluster cluster;

    @BeforeAll
    static void startCluster() {
        long start = System.nanoTime();
        cluster = new StandaloneCluster("standalone", 2, 1, "1g");
        System.out.printf("RESULT standalone_master_started seconds=%.1f%n", (System.nanoTime() - start) / 1e9);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void killedExecutorMidRoundGivesTheFaultFreeResultBitForBit() throws Exception {
        Path pidFile = SparkSessions.tmpDir("standalone-kill").toPath().resolve("paused-executor.pid");
        ExecutorEvents executors = new ExecutorEvents();
        AtomicLong killed = new AtomicLong(-1);
        MultiLayerNetwork onCluster;
        double trainingSeconds;
        JavaSparkContext driver = SparkSessions.standalone(cluster.masterUrl(), "standalone-driver", "1024m",
                new SparkConf().set("spark.locality.wait", "0s"));
        Thread killer = new Thread(() -> killWhenPaused(pidFile, killed), "executor-killer");
        try {
            driver.sc().addSparkListener(executors);
            awaitExecutors(driver, 2); // both Workers' executors, so the data is spread as on a real cluster
            killer.start();
            long start = System.nanoTime();
            onCluster = IrisTraining.spark(driver, WORKERS, DEPTH, EPOCHS, Bf16Options.defaults(), (round, net) -> {
                assertEquals(0, Bf16Grid.countOffGrid(net.params()), "weights off the BF16 grid after round " + round);
                if (killed.get() > 0) {
                    awaitExecutors(driver, 2); // the rest of the run has the replacement executor
                }
            }, new PauseHook(0, KILL_ITERATION, pidFile));
            trainingSeconds = (System.nanoTime() - start) / 1e9;
            driver.sc().listenerBus().waitUntilEmpty(60_000);
        } finally {
            killer.interrupt();
            killer.join();
            SparkSessions.stop(driver);
            SparkSessions.deleteRecursively(pidFile.getParent());
        }
        MultiLayerNetwork reference;
        JavaSparkContext sc = SparkSessions.local(2, 1, "standalone-reference");
        try {
            reference = IrisTraining.spark(sc, WORKERS, DEPTH, EPOCHS, Bf16Options.defaults(), (round, net) -> { });
        } finally {
            SparkSessions.stop(sc);
        }
        assertTrue(killed.get() > 0, "no executor was paused and killed");
        assertEquals(1, executors.removed(), "executors lost");
        assertTrue(executors.tasksOnReplacements() > 0, "the replacement executor never received a task");
        boolean identical = java.util.Arrays.equals(Bits.of(reference.params()), Bits.of(onCluster.params()));
        System.out.printf("RESULT standalone_executor_killed workers=%d depth=%d epochs=%d executors_added=%d"
                        + " tasks_on_replacement=%d seconds=%.1f accuracy=%.4f bit_identical_to_local=%b%n", WORKERS,
                DEPTH, EPOCHS, executors.added(),
                executors.tasksOnReplacements(), trainingSeconds, IrisTraining.accuracy(onCluster), identical);
        assertArrayEquals(Bits.of(reference.params()), Bits.of(onCluster.params()), "weights");
        assertArrayEquals(Bits.of(reference.getUpdater().getStateViewArray()),
                Bits.of(onCluster.getUpdater().getStateViewArray()), "updater state");
        assertEquals(reference.getIterationCount(), onCluster.getIterationCount(), "iterations");
    }

    @Test
    void noExecutorCanStartFailsWithWhereToLook() {
        // Each Worker offers 1g: an executor of 64g can be placed nowhere, and Spark alone would wait forever.
        JavaSparkContext sc = SparkSessions.standalone(cluster.masterUrl(), "standalone-no-executor", "64g",
                new SparkConf());
        try {
            Bf16ParameterAveragingTrainingMaster master = new Bf16ParameterAveragingTrainingMaster.Builder(
                    IrisTraining.WORKERS, IrisTraining.BATCH).batchSizePerWorker(IrisTraining.BATCH)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .executorRegistrationTimeout(Duration.ofSeconds(5)).build();
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, TestNets.irisMlp(IrisTraining.UPDATER, 42), master);
            long start = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> spark.fit(sc.parallelize(Iris.batches(IrisTraining.BATCH), IrisTraining.WORKERS)));
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("RESULT standalone_no_executor failed_after_s=%.1f timeout_s=5%n", seconds);
            String m = e.getMessage();
            assertTrue(m.startsWith("No Spark executor registered within 5 s"), m);
            assertTrue(m.contains("/" + sc.sc().applicationId() + "/<executor id>/stderr"), m);
            assertTrue(m.contains("spark.executor.memory=64g"), m);
            assertTrue(m.contains("CoarseGrainedExecutorBackend") && m.contains("--add-opens"), m);
            assertTrue(seconds >= 5 && seconds < 60, "failed after " + seconds + " s");
        } finally {
            SparkSessions.stop(sc);
        }
    }

    /** Kills the executor JVM that PauseHook reports (only if it is one of this cluster's executors). */
    private static void killWhenPaused(Path pidFile, AtomicLong killed) {
        while (!Thread.currentThread().isInterrupted()) {
            if (Files.exists(pidFile)) {
                try {
                    long pid = Long.parseLong(new String(Files.readAllBytes(pidFile), StandardCharsets.US_ASCII).trim());
                    if (!cluster.isExecutor(pid)) {
                        throw new IllegalStateException("Process " + pid + " is not an executor of the test cluster");
                    }
                    ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
                    p.destroyForcibly();
                    p.onExit().join();
                    killed.set(pid);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void awaitExecutors(JavaSparkContext sc, int count) {
        // generous: on a loaded 2-core machine an executor JVM took over a minute to register
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        long nextLogCheck = 0;
        // the status tracker lists the driver too
        while (sc.sc().statusTracker().getExecutorInfos().length - 1 < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Fewer than " + count + " executors after 180 s\n"
                        + cluster.diagnosis());
            }
            if (System.nanoTime() > nextLogCheck) {
                // A Worker that cannot launch executors makes the Master retry at once: without end while another
                // executor runs, else it removes the application after 10 (spark.deploy.maxExecutorRetries).
                // Stop after a few and say why.
                if (cluster.failedExecutorLaunches() >= 3) {
                    throw new IllegalStateException("Executors fail to launch\n" + cluster.diagnosis());
                }
                nextLogCheck = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            }
            StandaloneCluster.sleep(100);
        }
    }

    /** Executors added and removed, and tasks that ended successfully on executors added after a removal. */
    private static final class ExecutorEvents extends SparkListener {
        private final Set<String> replacements = new HashSet<>();
        private int added;
        private int removed;
        private int tasksOnReplacements;

        @Override
        public synchronized void onExecutorAdded(SparkListenerExecutorAdded event) {
            added++;
            if (removed > 0) {
                replacements.add(event.executorId());
            }
        }

        @Override
        public synchronized void onExecutorRemoved(SparkListenerExecutorRemoved event) {
            removed++;
        }

        @Override
        public synchronized void onTaskEnd(SparkListenerTaskEnd event) {
            if (event.taskInfo().successful() && replacements.contains(event.taskInfo().executorId())) {
                tasksOnReplacements++;
            }
        }

        synchronized int added() {
            return added;
        }

        synchronized int removed() {
            return removed;
        }

        synchronized int tasksOnReplacements() {
            return tasksOnReplacements;
        }
    }
}
