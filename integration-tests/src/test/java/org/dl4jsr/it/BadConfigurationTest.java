package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

/** Configurations that cannot work fail with a message that says what to do, before anything is trained. */
@SparkJre
class BadConfigurationTest {
    private static JavaSparkContext sc;
    private static JavaRDD<DataSet> data;
    private static final JobCounter jobs = new JobCounter();

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 1, "bad-configuration");
        sc.sc().addSparkListener(jobs);
        List<DataSet> batches = Iris.batches(10);
        data = sc.parallelize(batches.subList(0, 4), 2);
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    private static Bf16ParameterAveragingTrainingMaster.Builder builder() {
        return new Bf16ParameterAveragingTrainingMaster.Builder(2, 10).batchSizePerWorker(10)
                .rddTrainingApproach(RDDTrainingApproach.Direct);
    }

    @Test
    void averagingFrequencyZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> builder().averagingFrequency(0));
        assertTrue(e.getMessage().contains("averagingFrequency must be >= 1"), e.getMessage());
    }

    @Test
    void updaterThatDoesNotRoundStochastically() throws Exception {
        IUpdater fp32AdamW = AdamWSR.builder().learningRate(0.01).weightRounding(Rounding.NONE)
                .stateRounding(Rounding.NONE).build();
        String message = refusedBeforeTraining(fp32AdamW, builder().averagingFrequency(2).build());
        assertTrue(message.contains("weightRounding is NONE") && message.contains("weightRounding(STOCHASTIC)"), message);
    }

    @Test
    void vanillaBf16WithRoundToNearest() throws Exception {
        IUpdater nearest = AdamWSR.builder().learningRate(0.01).weightRounding(Rounding.NEAREST).build();
        String message = refusedBeforeTraining(nearest, builder().build());
        assertTrue(message.contains("weightRounding is NEAREST"), message);
    }

    @Test
    void fp32MasterWeights() throws Exception {
        IUpdater mixed = AdamWSR.builder().learningRate(0.01).masterWeights(true).build();
        String message = refusedBeforeTraining(mixed, builder().build());
        assertTrue(message.contains("masterWeights(true)"), message);
    }

    @Test
    void trainingStatisticsAreNotCollected() {
        assertThrows(UnsupportedOperationException.class, () -> builder().collectTrainingStats(true));
        assertThrows(UnsupportedOperationException.class, () -> builder().build().setCollectTrainingStats(true));
    }

    /**
     * DL4J's own master cannot attach its workers (and would average compact state's packed bit patterns as numbers):
     * it is stopped on the driver when it serialises the configuration for its broadcast, before any training job,
     * with a message naming the BF16 master.
     */
    @Test
    void dl4jMasterWithCompactState() throws Exception {
        String message = dl4jMasterRefused(AdamWSR.builder().learningRate(0.01).compactState(true).build());
        assertTrue(message.contains("compact"), message);
    }

    @Test
    void dl4jMasterWithWrappedDl4jUpdater() throws Exception {
        dl4jMasterRefused(new Nesterovs(0.05, 0.9));
    }

    private static String dl4jMasterRefused(IUpdater updater) throws Exception {
        MultiLayerNetwork net = TestNets.irisMlp(updater, 42);
        Bf16Training.attach(net);
        int[] before = Bits.of(net.params());
        TrainingMaster<?, ?> stock = new ParameterAveragingTrainingMaster.Builder(2, 10).batchSizePerWorker(10)
                .averagingFrequency(1).saveUpdater(true).rddTrainingApproach(RDDTrainingApproach.Direct).build();
        sc.sc().listenerBus().waitUntilEmpty(60_000); // events of earlier tests delivered
        TrainingJobs training = new TrainingJobs();
        sc.sc().addSparkListener(training);
        Exception e = assertThrows(Exception.class, () -> new SparkDl4jMultiLayer(sc, net, stock).fit(data));
        sc.sc().listenerBus().waitUntilEmpty(60_000);
        sc.sc().removeSparkListener(training);
        String all = messages(e);
        assertTrue(all.contains("ParameterAveragingTrainingMaster cannot train")
                && all.contains("org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster"), all);
        assertEquals(0, training.count(), "no training job may run");
        assertArrayEquals(before, Bits.of(net.params()), "weights must be unchanged");
        assertEquals(0, net.getIterationCount());
        return all;
    }

    /** Runs fit with the master; returns the error message after checking that no Spark job ran and nothing changed. */
    private static String refusedBeforeTraining(IUpdater updater, TrainingMaster<?, ?> master) throws Exception {
        MultiLayerNetwork net = TestNets.irisMlp(updater, 42);
        int[] before = Bits.of(net.params());
        int jobsBefore = jobs.count();
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spark.fit(data));
        sc.sc().listenerBus().waitUntilEmpty(60_000);
        assertEquals(jobsBefore, jobs.count(), "no Spark job may run");
        assertEquals(0, net.getIterationCount());
        int[] after = Bits.of(net.params());
        for (int i = 0; i < before.length; i++) {
            // attaching the driver network may have rounded a weight onto one of its two BF16 neighbours; nothing else
            // may have changed it
            int toward0 = before[i] & 0xFFFF0000;
            assertTrue(after[i] == before[i] || after[i] == toward0 || after[i] == toward0 + 0x10000,
                    "weight " + i + " changed beyond attach");
        }
        assertTrue(e.getMessage().contains("nothing was trained"), e.getMessage());
        return e.getMessage();
    }

    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }

    /** Counts stages that run a training function (DL4J's or the BF16 master's workers), not data preparation. */
    static final class TrainingJobs extends SparkListener {
        private int count;

        @Override
        public synchronized void onStageSubmitted(SparkListenerStageSubmitted event) {
            String name = event.stageInfo().name();
            if (name.startsWith("treeAggregate at ParameterAveragingTrainingMaster")
                    || name.startsWith("collect at Bf16ParameterAveragingTrainingMaster")) {
                count++;
            }
        }

        synchronized int count() {
            return count;
        }
    }

    static final class JobCounter extends SparkListener {
        private int count;

        @Override
        public synchronized void onJobStart(SparkListenerJobStart event) {
            count++;
        }

        synchronized int count() {
            return count;
        }
    }
}
