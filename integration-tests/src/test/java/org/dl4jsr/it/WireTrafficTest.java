package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Iris;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.examples.spark.SparkTraffic;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Bytes per averaging round, measured by Spark (task results, shuffle output, broadcast blocks), for DL4J's master
 * with DL4J's FP32 Adam and for the BF16 master with AdamWSR, on the same network shape, data and rounds, two workers:
 * each worker sends 6 bytes per parameter (weights, m, v in BF16) plus a fixed framing with the BF16 master, 12 with
 * DL4J's; the driver receives one averaged result (6 bytes per parameter) from the BF16 master, every worker's (12
 * each) from DL4J's; the driver sends 6 bytes per parameter to each executor against 12.
 */
@SparkJre
class WireTrafficTest {
    private static final int HIDDEN = 384;
    private static final int ROUNDS = 3;
    private static JavaSparkContext sc;
    private static SparkTraffic traffic;

    @BeforeAll
    static void start() {
        // Uncompressed broadcasts and shuffles: the figures are the serialised sizes (Spark's lz4 would shrink the
        // all-zero updater state of the first round, for both masters).
        sc = SparkSessions.local(2, 1, "traffic", new SparkConf().set("spark.broadcast.compress", "false")
                .set("spark.shuffle.compress", "false"));
        traffic = SparkTraffic.register(sc);
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    @Test
    void bf16MasterMovesHalfTheBytesOfDl4jMaster() {
        long params = TestNets.irisMlp(new Adam(), 42, HIDDEN).numParams();
        long[] stock = bytesPerRound(new Adam(0.01), new ParameterAveragingTrainingMaster.Builder(2, 10)
                .batchSizePerWorker(10).averagingFrequency(1).saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never).build(), 2);
        long[] ours = bytesPerRound(new AdamWSR(0.01), new Bf16ParameterAveragingTrainingMaster.Builder(2, 10)
                .batchSizePerWorker(10).averagingFrequency(1)
                .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never).build(), 3);
        System.out.printf("RESULT wire_traffic params=%d stock_down=%d (%.3f B/param) stock_up=%d (%.3f B/param)"
                        + " stock_driver_in=%d (%.3f B/param) bf16_down=%d (%.3f B/param) bf16_up=%d (%.3f B/param)"
                        + " bf16_driver_in=%d (%.3f B/param)%n", params,
                stock[0], stock[0] / (double) params, stock[1], stock[1] / (double) params,
                stock[2], stock[2] / (double) params,
                ours[0], ours[0] / (double) params, ours[1], ours[1] / (double) params,
                ours[2], ours[2] / (double) params);
        assertTrue(stock[0] >= 12 * params && stock[1] >= 12 * params,
                "DL4J's master: at least 12 bytes per parameter per direction");
        assertTrue(stock[2] >= 2 * 12 * params, "DL4J's master: the driver receives both workers' results");
        // 6 bytes of payload per parameter (weight, m, v in BF16) plus a fixed framing: the configuration JSON in the
        // broadcast, Spark's task-result envelope, the serialised partial sum
        assertTrue(ours[0] <= 6 * params + 32_768, "BF16 master, driver to worker: " + ours[0] + " bytes");
        assertTrue(ours[1] <= 6 * params + 16_384, "BF16 master, largest task output: " + ours[1] + " bytes");
        // the executors sum; the driver receives the rounded average alone (plus the training tasks' map statuses)
        assertTrue(ours[2] <= 6 * params + 32_768, "BF16 master, into the driver: " + ours[2] + " bytes");
    }

    /** {driver to one worker, largest output of one task, into the driver} bytes per averaging round. */
    private static long[] bytesPerRound(IUpdater updater, TrainingMaster<?, ?> master, int tasksPerRound) {
        MultiLayerNetwork net = TestNets.irisMlp(updater, 42, HIDDEN);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        List<DataSet> batches = Iris.batches(10);
        traffic.settle();
        traffic.reset();
        for (int r = 0; r < ROUNDS; r++) {
            JavaRDD<DataSet> round = sc.parallelize(batches.subList(2 * r, 2 * r + 2), 2);
            spark.fit(round);
        }
        traffic.settle();
        // DL4J: two training tasks; BF16 master: two training tasks and the one that sums and rounds
        assertEquals((long) tasksPerRound * ROUNDS, traffic.resultTasks(), "tasks per round");
        return new long[] {traffic.broadcastBytes() / ROUNDS, traffic.maxTaskOutBytes(),
            traffic.resultBytes() / ROUNDS};
    }
}
