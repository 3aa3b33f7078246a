package org.dl4jsr.examples.spark;

import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerBlockUpdated;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.storage.BlockUpdatedInfo;

/**
 * Measures what a training master moves over Spark, from Spark's own bookkeeping, the same way for every master.
 * Every successful task counts except those of DL4J's {@code count()} of the training data (a job of its own before
 * each round, the same for every master):
 * <ul>
 * <li>into the driver: the task results ({@code resultSize} task metric; a training or summing task's result, or the
 * small map status of a task that writes shuffle output);</li>
 * <li>out of the driver: the bytes of the broadcast blocks the driver stores (what each executor fetches once per
 * broadcast), as reported in Spark's block-update events;</li>
 * <li>per task: out = result + shuffle bytes written; per executor: out = its tasks' results and shuffle writes, in =
 * its tasks' shuffle reads (local and remote) + the broadcast pieces it stored.</li>
 * </ul>
 * Register with {@link #register(JavaSparkContext)}; read after {@link #settle()}.
 */
public final class SparkTraffic extends SparkListener {
    private final JavaSparkContext sc;
    private final Map<Integer, String> stageNames = new TreeMap<>();
    private final Map<String, long[]> executors = new TreeMap<>();
    private long resultBytes;
    private long resultTasks;
    private long maxTaskOutBytes;
    private long shuffleWriteBytes;
    private long shuffleReadBytes;
    private long broadcastBytes;

    private SparkTraffic(JavaSparkContext sc) {
        this.sc = sc;
    }

    public static SparkTraffic register(JavaSparkContext sc) {
        SparkTraffic t = new SparkTraffic(sc);
        sc.sc().addSparkListener(t);
        return t;
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted event) {
        stageNames.put(event.stageInfo().stageId(), event.stageInfo().name());
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd event) {
        String name = stageNames.getOrDefault(event.stageId(), "");
        TaskMetrics m = event.taskMetrics();
        if (name.startsWith("count ") || m == null || !"Success".equals(String.valueOf(event.reason()))) {
            return;
        }
        long result = m.resultSize();
        long written = m.shuffleWriteMetrics().bytesWritten();
        long read = m.shuffleReadMetrics().totalBytesRead();
        resultBytes += result;
        resultTasks++;
        shuffleWriteBytes += written;
        shuffleReadBytes += read;
        maxTaskOutBytes = Math.max(maxTaskOutBytes, result + written);
        long[] flow = executor(event.taskInfo().executorId());
        flow[0] += read;
        flow[1] += result + written;
    }

    @Override
    public synchronized void onBlockUpdated(SparkListenerBlockUpdated event) {
        BlockUpdatedInfo info = event.blockUpdatedInfo();
        if (info.blockId().isBroadcast() && info.blockId().name().contains("_piece") && info.storageLevel().isValid()) {
            long bytes = info.memSize() + info.diskSize();
            if (info.blockManagerId().isDriver()) {
                broadcastBytes += bytes;
            } else {
                executor(info.blockManagerId().executorId())[0] += bytes;
            }
        }
    }

    private long[] executor(String id) {
        return executors.computeIfAbsent(id, k -> new long[2]);
    }

    /** Waits until Spark has delivered every event so far to this listener. */
    public void settle() {
        try {
            sc.sc().listenerBus().waitUntilEmpty(60_000);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Spark's listener bus did not drain in 60 s", e);
        }
    }

    public synchronized void reset() {
        resultBytes = 0;
        resultTasks = 0;
        maxTaskOutBytes = 0;
        shuffleWriteBytes = 0;
        shuffleReadBytes = 0;
        broadcastBytes = 0;
        executors.clear();
    }

    /** Bytes of all task results since the last reset: what the driver received from the executors. */
    public synchronized long resultBytes() {
        return resultBytes;
    }

    /** Successful tasks counted since the last reset. */
    public synchronized long resultTasks() {
        return resultTasks;
    }

    /** The largest result + shuffle output of one task since the last reset (what one worker or summing task sent). */
    public synchronized long maxTaskOutBytes() {
        return maxTaskOutBytes;
    }

    public synchronized long shuffleWriteBytes() {
        return shuffleWriteBytes;
    }

    public synchronized long shuffleReadBytes() {
        return shuffleReadBytes;
    }

    /** Bytes of broadcast pieces stored by the driver (driver to each executor) since the last reset. */
    public synchronized long broadcastBytes() {
        return broadcastBytes;
    }

    /** Per executor id (not the driver): {bytes in, bytes out} since the last reset. */
    public synchronized Map<String, long[]> executorFlows() {
        Map<String, long[]> copy = new TreeMap<>();
        executors.forEach((k, v) -> {
            if (!"driver".equals(k)) {
                copy.put(k, v.clone());
            }
        });
        return copy;
    }
}
