package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.JavaGradients;
import org.dl4jsr.testing.JavaMade;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Golden bits of a Spark run: two workers on {@code local[2]}, the BF16 master (AdamWSR, averaging every 3
 * minibatches), on weights, data and gradients made in Java ({@link JavaGradients} travels to the workers as a
 * listener and replaces each step's backward-pass gradients), so the hash holds on every x86-64 CPU and JDK (see
 * org.dl4jsr.GoldenBitsTest). A change to the wire format's values, the averaging order, the averaging's rounding keys
 * or the workers' steps fails here. The hash changed twice, deliberately: once when the averaging's rounding streams
 * moved from -2/-3 (which the converter also used) to their own numbers in RoundingStreams, once when the inputs
 * became Java-made (issue 16: the hash of Iris trained through DL4J's backward pass depended on OpenBLAS's GEMM kernel,
 * so on the CPU). The same Spark training on Iris is compared run against run in
 * {@link #theMastersSeedDecidesTheBits}.
 */
@SparkJre
class GoldenSparkBitsTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 1, "golden");
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    /** The seed of the master's Bf16Options decides every rounding bit: workers' updates and the averaging. */
    @Test
    void theMastersSeedDecidesTheBits() {
        String one = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(1).build(), (r, d) -> { }));
        String again = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(1).build(), (r, d) -> { }));
        String two = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(2).build(), (r, d) -> { }));
        assertEquals(one, again, "seed 1 repeats");
        assertNotEquals(one, two, "seeds 1 and 2 differ");
    }

    @Test
    void twoWorkerAveragingBitsAreUnchanged() {
        MultiLayerNetwork net = TestNets.irisMlp(IrisTraining.UPDATER, 42);
        JavaMade.params(net, 3);
        Bf16ParameterAveragingTrainingMaster master = new Bf16ParameterAveragingTrainingMaster.Builder(
                IrisTraining.WORKERS, IrisTraining.BATCH).batchSizePerWorker(IrisTraining.BATCH)
                .averagingFrequency(IrisTraining.FREQUENCY).rddTrainingApproach(RDDTrainingApproach.Direct)
                .repartionData(Repartition.Never).build();
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        spark.setListeners(new JavaGradients(11));
        int perRound = IrisTraining.WORKERS * IrisTraining.FREQUENCY;
        List<DataSet> batches = JavaMade.batches(13, 3 * perRound, IrisTraining.BATCH, DataType.FLOAT);
        long replaced = JavaGradients.replacedSoFar();
        for (int start = 0; start < batches.size(); start += perRound) {
            // one fit = one round: partition w holds worker w's FREQUENCY minibatches
            List<DataSet> round = new ArrayList<>(batches.subList(start, start + perRound));
            spark.fit(sc.parallelize(round, IrisTraining.WORKERS));
        }
        assertEquals(3, master.getRoundsDone(), "averaging rounds");
        assertEquals(batches.size(), JavaGradients.replacedSoFar() - replaced,
                "every worker step had Java-made gradients (local[2]: the workers run in this JVM)");
        assertEquals("cd34fe13760365f6", Bits.hash(net.params(), net.getUpdater().getStateViewArray()),
                "exact bits of the Spark run changed");
    }
}
