package org.dl4jsr.spark;

import java.io.IOException;
import java.time.Duration;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits, before a training job is submitted, until at least one executor has registered with the driver, and fails
 * with a message that says where to look if none does in time. Without it, a cluster whose executors cannot start
 * (wrong classpath, missing Java 17 flags, more memory or cores asked for than any worker has) makes the driver wait
 * forever, repeating Spark's "Initial job has not accepted any resources" while the real error sits in the executors'
 * stderr on the workers. On a standalone cluster it also reads the Master's status page while waiting and fails at
 * once when no live worker has the memory and cores one executor asks for: that request can never be met.
 *
 * <p>Local mode ({@code local[N]}: the tasks run in the driver JVM) is always ready. Only the first registration is
 * awaited: a job with fewer executors than asked for still runs, and Spark schedules replacements as they arrive.
 */
final class ExecutorRegistration {
    private static final Logger log = LoggerFactory.getLogger(ExecutorRegistration.class);
    /** Default wait: covers executor JVM start and container/pod scheduling on a busy cluster. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(3);
    private static final long POLL_MILLIS = 200;

    private ExecutorRegistration() {
    }

    /**
     * Returns once {@code sc} has an executor (at once in local mode, or if {@code timeout} is zero: no check).
     *
     * @throws IllegalStateException if none registered within {@code timeout}, or the context stopped meanwhile
     */
    static void await(SparkContext sc, Duration timeout) {
        if (timeout.isZero() || sc.isLocal()) {
            return;
        }
        SparkConf conf = sc.getConf();
        ClusterStatus status = StandaloneMasterStatus.of(sc.master(), conf.getInt("spark.master.ui.port", 8080));
        long memoryMb = conf.getSizeAsMb("spark.executor.memory", "1g");
        int cores = conf.getInt("spark.executor.cores", 1); // unset on standalone: all of a worker's, at least one
        await(() -> registeredExecutors(sc), timeout, POLL_MILLIS, () -> {
            if (sc.isStopped()) {
                throw new IllegalStateException("The SparkContext stopped while waiting for executors to register (the"
                        + " cluster manager may have removed the application after repeated executor failures). "
                        + whereToLook(sc));
            }
            failIfNeverSatisfiable(status, memoryMb, cores);
        }, () -> message(sc, timeout));
    }

    /**
     * Throws at once if the cluster's status says no live worker can ever hold one executor of {@code memoryMb} and
     * {@code cores} (Spark would wait forever). A status that cannot be read (no standalone master, web UI
     * unreachable) changes nothing: the wait goes on until executors register or time is up.
     */
    static void failIfNeverSatisfiable(ClusterStatus status, long memoryMb, int cores) {
        if (status == null) {
            return;
        }
        String why;
        try {
            why = ClusterStatus.neverSatisfiable(status.aliveWorkers(), memoryMb, cores);
        } catch (IOException | RuntimeException e) {
            return;
        }
        if (why != null) {
            throw new IllegalStateException(why);
        }
    }

    /** The waiting loop, on its own for tests: polls {@code registered} until it is positive or time is up. */
    static void await(IntSupplier registered, Duration timeout, long pollMillis, Runnable stillAlive,
                      Supplier<String> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean logged = false;
        while (registered.getAsInt() <= 0) {
            stillAlive.run();
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException(failure.get());
            }
            if (!logged) {
                log.info("Waiting up to {} s for a Spark executor to register", timeout.toSeconds());
                logged = true;
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for Spark executors to register", e);
            }
        }
    }

    /** Executors known to the driver; the status tracker lists the driver itself too (non-local modes). */
    static int registeredExecutors(SparkContext sc) {
        return sc.statusTracker().getExecutorInfos().length - 1;
    }

    private static String message(SparkContext sc, Duration timeout) {
        SparkConf c = sc.getConf();
        return "No Spark executor registered within " + timeout.toSeconds() + " s (master " + sc.master()
                + ", application " + sc.applicationId() + "); Spark itself would wait forever (\"Initial job has not"
                + " accepted any resources\"). " + whereToLook(sc) + " Usually one of: (1) the executors cannot load"
                + " the classes: \"Could not find or load main class ...CoarseGrainedExecutorBackend\" means Spark's own"
                + " jars are missing (SPARK_HOME/jars on the workers, or spark.executor.extraClassPath), a"
                + " ClassNotFoundException of DL4J/ND4J/the plugin means the application is not shipped (spark-submit the"
                + " assembly jar, or set spark.jars); (2) Java 17 flags: Spark's --add-opens list must reach the executors"
                + " (spark.executor.extraJavaOptions; Spark 3.3+ adds it itself); (3) resources: no worker offers the"
                + " memory and cores asked for (spark.executor.memory=" + c.get("spark.executor.memory", "1g")
                + ", spark.executor.cores=" + c.get("spark.executor.cores", "(all of a worker's)")
                + "; the Master's page shows what each worker has free), or executors die at start because ND4J's"
                + " off-heap limit (-Dorg.bytedeco.javacpp.maxbytes / maxphysicalbytes) does not fit"
                + " spark.executor.memoryOverhead. To wait longer, or not check at all (Duration.ZERO): "
                + "Bf16ParameterAveragingTrainingMaster.Builder.executorRegistrationTimeout(Duration).";
    }

    private static String whereToLook(SparkContext sc) {
        return "Look at the executors' stderr: on a standalone cluster <worker work dir>/" + sc.applicationId()
                + "/<executor id>/stderr (SPARK_HOME/work unless the Worker has --work-dir or SPARK_WORKER_DIR), also"
                + " linked from the application's page in the Master's web UI (port 8080 by default) with each executor's"
                + " exit status; on YARN `yarn logs -applicationId <id>`; on Kubernetes `kubectl logs` of the executor pods.";
    }
}
