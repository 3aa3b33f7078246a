package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * One worker averaging after every k minibatches is single-machine SR training, whatever the aggregation depth: the
 * same minibatches in the same order give bit-identical weights and updater state after every round.
 */
@SparkJre
class EquivalenceTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 1, "equivalence");
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    /** Any aggregation depth: a single worker's sum is its own values (the tests below use depths 1, 2, 3, 5). */
    private static Bf16ParameterAveragingTrainingMaster oneWorker(int batch, int frequency, int depth) {
        return new Bf16ParameterAveragingTrainingMaster.Builder(1, batch).batchSizePerWorker(batch)
                .averagingFrequency(frequency).aggregationDepth(depth).rddTrainingApproach(RDDTrainingApproach.Direct)
                .repartionData(Repartition.Never).build();
    }

    @Test
    void multiLayerNetworkEveryStep() {
        assertMlnEquivalent(new AdamWSR(0.02), 1, 15, false, 1);
    }

    @Test
    void compactStateEveryThirdStep() {
        assertMlnEquivalent(AdamWSR.builder().learningRate(0.02).weightDecay(0.01).compactState(true).build(), 3, 15,
                false, 2);
    }

    @Test
    void wrappedDl4jUpdaterEverySecondStep() {
        assertMlnEquivalent(new Nesterovs(0.05, 0.9), 2, 12, false, 3);
    }

    /** A true BFLOAT16 network: weights and moments are BF16 arrays, sent as they are. */
    @Test
    void bfloat16NetworkEverySecondStep() {
        assertMlnEquivalent(new AdamWSR(0.02), 2, 12, true, 5);
    }

    private void assertMlnEquivalent(IUpdater updater, int frequency, int steps, boolean bf16, int depth) {
        List<DataSet> batches = Iris.batches(10);
        if (bf16) {
            List<DataSet> cast = new ArrayList<>();
            for (DataSet b : batches) {
                cast.add(new DataSet(b.getFeatures().castTo(DataType.BFLOAT16), b.getLabels().castTo(DataType.BFLOAT16)));
            }
            batches = cast;
        }
        MultiLayerNetwork single = bf16 ? TestNets.bf16IrisMlp(updater, 42) : TestNets.irisMlp(updater, 42);
        Bf16Training.attach(single);
        MultiLayerNetwork driver = bf16 ? TestNets.bf16IrisMlp(updater, 42) : TestNets.irisMlp(updater, 42);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, driver, oneWorker(10, frequency, depth));
        for (int step = 0; step < steps; step += frequency) {
            List<DataSet> round = new ArrayList<>();
            for (int k = 0; k < frequency; k++) {
                DataSet b = batches.get((step + k) % batches.size());
                single.fit(b);
                round.add(b);
            }
            spark.fit(sc.parallelize(round, 1));
            String at = "after step " + (step + frequency);
            assertArrayEquals(Bits.of(single.params()), Bits.of(driver.params()), "weights " + at);
            assertArrayEquals(Bits.of(single.getUpdater().getStateViewArray()),
                    Bits.of(driver.getUpdater().getStateViewArray()), "updater state " + at);
            assertEquals(single.getIterationCount(), driver.getIterationCount(), "iteration " + at);
            assertEquals(single.params().dataType(), driver.params().dataType());
        }
    }

    @Test
    void computationGraphEveryStep() {
        List<DataSet> batches = Iris.batches(10);
        ComputationGraph single = TestNets.irisGraph(new AdamWSR(0.02), 42);
        Bf16Training.attach(single);
        ComputationGraph driver = TestNets.irisGraph(new AdamWSR(0.02), 42);
        SparkComputationGraph spark = new SparkComputationGraph(sc, driver, oneWorker(10, 1, 2));
        for (int step = 0; step < 10; step++) {
            DataSet b = batches.get(step);
            single.fit(b);
            spark.fit(sc.parallelize(Collections.singletonList(b), 1));
            assertArrayEquals(Bits.of(single.params()), Bits.of(driver.params()), "weights after step " + step);
            assertArrayEquals(Bits.of(single.getUpdater().getStateViewArray()),
                    Bits.of(driver.getUpdater().getStateViewArray()), "updater state after step " + step);
        }
    }
}
