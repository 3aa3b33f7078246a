package org.dl4jsr.examples.spark;

import java.util.HashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerBlockUpdated;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.storage.BlockUpdatedInfo;

/**
 * Measures what a training master moves over Spark, from Spark's own bookkeeping, the same way for every master:
 * <ul>
 * <li>worker to driver: the size of the task results of the averaging stages (Spark's {@code resultSize} task
 * metric; the stages are those whose call site is a {@code ...ParameterAveragingTrainingMaster} class, except its
 * {@code count()} of the training data);</li>
 * <li>driver to workers: the bytes of the broadcast blocks the driver stores (what each executor fetches once per
 * broadcast), as reported in Spark's block-update events.</li>
 * </ul>
 * Register with {@link #register(JavaSparkContext)}; read after {@link #settle()}.
 */
public final class SparkTraffic extends SparkListener {
    private final JavaSparkContext sc;
    private final Map<Integer, String> stageNames = new HashMap<>();
    private long resultBytes;
    private long resultTasks;
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
        // the averaging stage (DL4J: treeAggregate, BF16 master: collect), not the master's count() of the data
        if (name.contains("ParameterAveragingTrainingMaster") && !name.startsWith("count ") && event.taskMetrics() != null
                && "Success".equals(String.valueOf(event.reason()))) {
            resultBytes += event.taskMetrics().resultSize();
            resultTasks++;
        }
    }

    @Override
    public synchronized void onBlockUpdated(SparkListenerBlockUpdated event) {
        BlockUpdatedInfo info = event.blockUpdatedInfo();
        if (info.blockId().isBroadcast() && info.blockId().name().contains("_piece")
                && info.blockManagerId().isDriver() && info.storageLevel().isValid()) {
            broadcastBytes += info.memSize() + info.diskSize();
        }
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
        broadcastBytes = 0;
    }

    /** Bytes of the averaging stages' task results (worker to driver) since the last reset. */
    public synchronized long resultBytes() {
        return resultBytes;
    }

    /** Successful tasks of the averaging stages since the last reset. */
    public synchronized long resultTasks() {
        return resultTasks;
    }

    /** Bytes of broadcast pieces stored by the driver (driver to each executor) since the last reset. */
    public synchronized long broadcastBytes() {
        return broadcastBytes;
    }
}
