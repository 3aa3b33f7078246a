package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.checkpoint.Bf16CheckpointException;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.training.InvalidHyperParameterException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * What a user trying to break the plugin did (issue 10), each kept as a test: bad hyper-parameters from schedules or
 * configurations, options that must travel with a checkpoint, seeds, grid checks on networks with batch norm, null
 * arguments and wrong files, two threads. Every step either happens completely or not at all, and never writes a
 * non-finite weight.
 */
class AdversarialUseTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    @TempDir
    Path dir;

    private static MapSchedule nanAt(int iteration, double lr) {
        Map<Integer, Double> values = new TreeMap<>(Map.of(0, lr, iteration, Double.NaN, iteration + 1, lr));
        return new MapSchedule(ScheduleType.ITERATION, values);
    }

    private static void assertAllFinite(MultiLayerNetwork net) {
        for (float f : net.params().toFloatVector()) {
            assertTrue(Float.isFinite(f), "a weight is not finite");
        }
        if (net.getUpdater().getStateViewArray() != null) {
            for (float f : net.getUpdater().getStateViewArray().toFloatVector()) {
                assertTrue(Float.isFinite(f), "updater state is not finite");
            }
        }
    }

    @Test
    void aNanLearningRateFromAScheduleSkipsThatStepAndNamesTheSchedule() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRateSchedule(nanAt(3, 0.01)).build(), 1);
        Bf16Attachment a = Bf16Training.attach(net);
        StagnationMeter meter = StagnationMeter.builder().logEvery(4).build();
        net.addListeners(meter);
        for (int i = 0; i < 3; i++) {
            net.fit(IRIS);
        }
        String before = Bits.hash(net.params(), net.getUpdater().getStateViewArray());
        net.fit(IRIS); // iteration 3: NaN learning rate
        assertEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()), "step 3 changed nothing");
        assertEquals(1, a.getSkippedSteps());
        net.fit(IRIS);
        assertNotEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()), "training goes on");
        assertEquals(1, a.getSkippedSteps());
        assertAllFinite(net);
        assertEquals(1, meter.getLastReport().skippedSteps(), "the meter reports the skipped step, not as an update");
        assertEquals(4, meter.getMeasuredIterations(), "steps 0-2 and 4 measured, step 3 not");
    }

    @Test
    void aNanLearningRateCanThrowInsteadWithNothingChanged() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRateSchedule(nanAt(1, 0.01)).build(), 1);
        Bf16Training.attach(net, Bf16Options.builder().nonFiniteGradients(NonFiniteGradients.THROW).build());
        net.fit(IRIS);
        String before = Bits.hash(net.params(), net.getUpdater().getStateViewArray());
        InvalidHyperParameterException e = assertThrows(InvalidHyperParameterException.class, () -> net.fit(IRIS));
        assertTrue(e.getMessage().contains("learning rate is NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("Iteration 1"), e.getMessage());
        assertEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()));
    }

    @Test
    void aNegativeLearningRateFromAScheduleOrSetOnTheConfigIsNeverApplied() {
        MapSchedule negative = new MapSchedule(ScheduleType.ITERATION, Map.of(0, 0.01, 2, -0.01));
        for (IUpdater u : List.of(AdamWSR.builder().learningRateSchedule(negative).build(), new Sgd(negative))) {
            MultiLayerNetwork net = TestNets.irisMlp(u, 1);
            Bf16Attachment a = Bf16Training.attach(net);
            net.fit(IRIS);
            net.fit(IRIS);
            String before = Bits.hash(net.params());
            net.fit(IRIS);
            assertEquals(before, Bits.hash(net.params()), u + ": a negative learning rate ascends the gradient");
            assertEquals(1, a.getSkippedSteps(), u.toString());
        }
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Attachment a = Bf16Training.attach(net);
        net.fit(IRIS);
        net.getLayerWiseConfigurations().getConf(0).getLayer().getUpdaterByParam("W").setLrAndSchedule(-1, null);
        String before = Bits.hash(net.params());
        net.fit(IRIS);
        assertEquals(1, a.getSkippedSteps(), "setLrAndSchedule(-1, null) after attach");
        assertEquals(before, Bits.hash(net.params()), "the whole step is skipped, other layers included");
    }

    @Test
    void dl4jUpdatersWithNanOrNegativeHyperParametersAreRefusedAtAttach() {
        Nesterovs nanMomentum = new Nesterovs(0.1, 0.9);
        nanMomentum.setMomentum(Double.NaN);
        RmsProp nanDecay = new RmsProp(0.1);
        nanDecay.setRmsDecay(Double.NaN);
        Map<IUpdater, String> cases = Map.of(new Sgd(Double.NaN), "learningRate is NaN", nanMomentum,
                "momentum is NaN", nanDecay, "rmsDecay is NaN", new Adam(-0.01), "learningRate is negative");
        for (Map.Entry<IUpdater, String> c : cases.entrySet()) {
            MultiLayerNetwork net = TestNets.irisMlp(c.getKey(), 1);
            String json = net.getLayerWiseConfigurations().toJson();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Training.attach(net),
                    c.getKey().toString());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
            assertEquals(json, net.getLayerWiseConfigurations().toJson(), "a failed attach changes nothing");
        }
        assertThrows(IllegalArgumentException.class, () -> AdamWSR.builder().learningRate(Double.NaN).build());
    }

    /** With the defaults a NaN learning rate would make every weight NaN; the guard keeps them all finite. */
    @Test
    void noStepEverWritesANonFiniteWeight() {
        MultiLayerNetwork net = TestNets.irisMlp(new Sgd(nanAt(2, 0.05)), 1);
        Bf16Training.attach(net);
        for (int i = 0; i < 6; i++) {
            net.fit(IRIS);
            assertAllFinite(net);
        }
    }

    @Test
    void checkpointsKeepTheAttachOptionsWithEitherSaveForm() throws IOException {
        Bf16Options options = Bf16Options.builder().seed(99).nonFiniteGradients(NonFiniteGradients.THROW).build();
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Attachment a = Bf16Training.attach(net, options);
        net.fit(IRIS);
        Path plain = dir.resolve("plain.zip");
        Path withAttachment = dir.resolve("with.zip");
        Bf16Checkpoint.save(net, plain);
        Bf16Checkpoint.save(net, a, withAttachment);
        for (Path p : List.of(plain, withAttachment)) {
            Bf16Options loaded = Bf16Attachment.installedOn(Bf16Checkpoint.loadMultiLayerNetwork(p)).getOptions();
            assertEquals(99, loaded.getSeed(), p.toString());
            assertEquals(NonFiniteGradients.THROW, loaded.getNonFiniteGradients(), p.toString());
        }
        MultiLayerNetwork other = TestNets.irisMlp(new AdamWSR(0.01), 2);
        Bf16Attachment otherAttachment = Bf16Training.attach(other);
        assertThrows(IllegalArgumentException.class, () -> Bf16Checkpoint.save(net, otherAttachment, plain));
    }

    private static String trainWithSeed(IUpdater updater, long seed, boolean graph) {
        Model net = graph ? TestNets.irisGraph(updater, 5) : TestNets.irisMlp(updater, 5);
        Bf16Options options = Bf16Options.builder().seed(seed).build();
        for (int i = 0; i < 5; i++) {
            if (graph) {
                if (i == 0) {
                    Bf16Training.attach((ComputationGraph) net, options);
                }
                ((ComputationGraph) net).fit(IRIS);
            } else {
                if (i == 0) {
                    Bf16Training.attach((MultiLayerNetwork) net, options);
                }
                ((MultiLayerNetwork) net).fit(IRIS);
            }
        }
        return Bits.hash(net);
    }

    @Test
    void theAttachSeedDecidesEveryRoundingBitUnlessAnUpdaterSetsItsOwn() {
        for (boolean graph : new boolean[] {false, true}) {
            for (IUpdater u : List.<IUpdater>of(new AdamWSR(0.01), new Nesterovs(0.05, 0.9))) {
                String what = u + (graph ? " (graph)" : "");
                assertEquals(trainWithSeed(u, 1, graph), trainWithSeed(u, 1, graph), what + ": seed 1 repeats");
                assertNotEquals(trainWithSeed(u, 1, graph), trainWithSeed(u, 2, graph), what + ": seeds 1 and 2 differ");
            }
        }
        AdamWSR own = AdamWSR.builder().learningRate(0.01).seed(7).build();
        assertEquals(trainWithSeed(own, 1, false), trainWithSeed(own, 2, false), "an explicit updater seed wins");
    }

    @Test
    void gridCountOfANetworkCountsOnlyWhatThePluginRounds() {
        MultiLayerConfiguration conf = TestNets.base(new AdamWSR(0.01), 1).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new BatchNormalization.Builder().nOut(8).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net);
        for (int i = 0; i < 3; i++) {
            net.fit(IRIS);
        }
        assertEquals(0, Bf16Grid.countOffGrid(net));
        assertTrue(Bf16Grid.countOffGrid(net.params()) > 0, "batch-norm statistics stay FP32 by design");
        MultiLayerNetwork plain = TestNets.irisMlp(new Adam(0.01), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Grid.countOffGrid(plain));
        assertTrue(e.getMessage().contains("attach"), e.getMessage());
    }

    @Test
    void nullOptionsAndDirectoriesGetClearErrors() throws IOException {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Training.attach(net, null));
        assertTrue(e.getMessage().contains("Bf16Options"), e.getMessage());
        Path folder = Files.createDirectories(dir.resolve("a-folder"));
        Bf16CheckpointException c = assertThrows(Bf16CheckpointException.class,
                () -> Bf16Checkpoint.loadMultiLayerNetwork(folder));
        assertTrue(c.getMessage().contains("is a directory"), c.getMessage());
    }

    /** Two networks trained at once in two threads give the bits each gives alone. */
    @Test
    void twoNetworksInTwoThreadsMatchSequentialRuns() throws Exception {
        String aloneA = trainWithSeed(new AdamWSR(0.01), 1, false);
        String aloneB = trainWithSeed(new Nesterovs(0.05, 0.9), 2, true);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<String> a = pool.submit(() -> trainWithSeed(new AdamWSR(0.01), 1, false));
            Future<String> b = pool.submit(() -> trainWithSeed(new Nesterovs(0.05, 0.9), 2, true));
            assertEquals(aloneA, a.get());
            assertEquals(aloneB, b.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void attachingTwiceKeepsTrainingBitIdentical() {
        MultiLayerNetwork once = TestNets.irisMlp(new AdamWSR(0.01), 3);
        MultiLayerNetwork twice = TestNets.irisMlp(new AdamWSR(0.01), 3);
        Bf16Training.attach(once);
        Bf16Training.attach(twice);
        Bf16Training.attach(twice);
        for (int i = 0; i < 3; i++) {
            once.fit(IRIS);
            twice.fit(IRIS);
        }
        assertArrayEquals(Bits.of(once.params()), Bits.of(twice.params()));
        assertFalse(Bits.hash(once).isEmpty());
    }
}
