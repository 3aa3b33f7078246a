package org.dl4jsr.spark;

import java.io.IOException;
import java.util.List;

/**
 * What the cluster manager reports about its workers, read while the driver waits for executors
 * ({@link ExecutorRegistration}): if no live worker can ever hold one executor of the application, waiting is pointless.
 */
interface ClusterStatus {
    /** One live worker: its id, total cores and total memory (MB). */
    record Worker(String id, int cores, long memoryMb) {
    }

    /** The live workers, or an exception when the status cannot be read (then the driver just keeps waiting). */
    List<Worker> aliveWorkers() throws IOException;

    /**
     * Why no worker of {@code workers} can ever start an executor asking for {@code memoryMb} and {@code cores}, or
     * null if one can (or none is alive yet: a worker may still join).
     */
    static String neverSatisfiable(List<Worker> workers, long memoryMb, int cores) {
        if (workers.isEmpty()) {
            return null;
        }
        long maxMemory = 0;
        int maxCores = 0;
        for (Worker w : workers) {
            if (w.memoryMb() >= memoryMb && w.cores() >= cores) {
                return null;
            }
            maxMemory = Math.max(maxMemory, w.memoryMb());
            maxCores = Math.max(maxCores, w.cores());
        }
        return "No Spark worker can ever start an executor of this application: each executor asks for " + memoryMb
                + " MB (spark.executor.memory) and " + cores + " core(s) (spark.executor.cores), but the " + workers.size()
                + " live worker(s) offer at most " + maxMemory + " MB and " + maxCores + " core(s) (" + workers + ")."
                + " Lower spark.executor.memory / spark.executor.cores, or start workers with more (SPARK_WORKER_MEMORY,"
                + " SPARK_WORKER_CORES). Nothing was trained.";
    }
}
