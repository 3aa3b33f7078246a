package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.dl4jsr.diagnostics.TrainingMemory;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.training.AdamWSRUpdater;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * AdamWSR with {@code weightRounding(KAHAN)} on whole networks: what attach, the meter's unfused path, memory
 * accounting, the converter and the replica trainers do with the compensation. Kernel-level exactness is in
 * {@code kernel.KahanUpdateTest}, checkpoints in {@code CheckpointTest}.
 */
class KahanTrainingTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static AdamWSR kahan(double lr) {
        return AdamWSR.builder().learningRate(lr).weightRounding(Rounding.KAHAN).compactState(true).weightDecay(1e-3)
                .build();
    }

    private static AdamWSRUpdater updater(MultiLayerNetwork net) {
        return (AdamWSRUpdater) ((UpdaterBlock) ((org.deeplearning4j.nn.updater.BaseMultiLayerUpdater<?>) net.getUpdater())
                .getUpdaterBlocks().get(0)).getGradientUpdater();
    }

    private static void fit(MultiLayerNetwork net, int steps) {
        for (int i = 0; i < steps; i++) {
            net.fit(IRIS);
        }
    }

    @Test
    void attachRoundsFp32WeightsToNearestAndCarriesTheRemainderIntoTheCompensation() {
        MultiLayerNetwork net = TestNets.irisMlp(kahan(0.01), 3);
        float[] fp32 = net.params().toFloatVector();
        Bf16Training.attach(net, Bf16Options.builder().initialRounding(Rounding.STOCHASTIC).build());
        float[] w = net.params().toFloatVector();
        float[] c = updater(net).compensation().toFloatVector();
        for (int i = 0; i < fp32.length; i++) {
            assertEquals(Bf16.roundNearestEven(fp32[i]), w[i], 0f, "weight " + i + " rounded to nearest");
            assertEquals(Bf16.roundNearestEven(fp32[i] - w[i]), c[i], 0f, "compensation " + i + " = remainder");
        }
        // attaching again changes no bit (a restored checkpoint is attached after its state is loaded)
        String before = Bits.hash(net.params(), net.getUpdater().getStateViewArray());
        Bf16Training.attach(net);
        assertEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()));
    }

    @Test
    void trainingKeepsWeightsOnTheGridAndLearns() {
        MultiLayerNetwork net = TestNets.irisMlp(kahan(0.01), 4);
        Bf16Training.attach(net);
        double first = TestNets.fit(net, IRIS, 1);
        double last = TestNets.fit(net, IRIS, 60);
        TestNets.assertOnGrid(net.params(), "Kahan weights");
        assertTrue(last < 0.6 * first, "loss " + first + " -> " + last);
        assertNotEquals(0.0, updater(net).compensation().amaxNumber().doubleValue(), "compensation in use");
    }

    /** The meter makes the step unfused (update written, then applied with the compensation): same bits. */
    @Test
    void theStagnationMeterPathGivesTheSameBitsAsTheFusedStep() {
        MultiLayerNetwork fused = TestNets.irisMlp(kahan(0.01), 5);
        MultiLayerNetwork metered = TestNets.irisMlp(kahan(0.01), 5);
        Bf16Training.attach(fused);
        Bf16Training.attach(metered);
        StagnationMeter meter = StagnationMeter.builder().logEvery(5).build();
        metered.addListeners(meter);
        fit(fused, 10);
        fit(metered, 10);
        assertEquals(Bits.hash(fused.params(), fused.getUpdater().getStateViewArray()),
                Bits.hash(metered.params(), metered.getUpdater().getStateViewArray()));
        assertTrue(meter.getLastReport().overall().updates() > 0, "the meter measured the Kahan updates");
    }

    /** Compact state: params 4 + gradients 4 + m/v slot 4 + half a slot of compensation = 14 bytes per parameter. */
    @Test
    void compactKahanStateCostsTwoBytesPerParameterMoreThanCompactSr() {
        MultiLayerNetwork net = TestNets.irisMlp(kahan(0.01), 1);
        MultiLayerNetwork sr = TestNets.irisMlp(AdamWSR.builder().compactState(true).build(), 1);
        TrainingMemory m = TrainingMemory.of(net);
        long slots = 0;
        for (INDArray p : net.paramTable().values()) {
            slots += (p.length() + 1) / 2; // DL4J sizes state per variable: half a slot of slack per odd variable
        }
        long n = m.getParameters();
        assertEquals(4 * n + 4 * slots, m.getUpdaterStateBytes());
        assertEquals(14.0, m.bytesPerParameter(), 4.0 * 6 / n, m.toString()); // 6 variables
        assertEquals(12.0, TrainingMemory.of(sr).bytesPerParameter(), 1e-12);
    }

    @Test
    void convertingToFp32GivesWeightsPlusCompensation() {
        MultiLayerNetwork net = TestNets.irisMlp(kahan(0.01), 6);
        Bf16Training.attach(net);
        fit(net, 5);
        INDArray expected = net.params().reshape(net.params().length()).add(updater(net).compensation());
        MultiLayerNetwork fp32 = Bf16Converter.toFp32(net).getNetwork();
        assertEquals(expected, fp32.params().reshape(fp32.params().length()));
        assertTrue(fp32.getLayerWiseConfigurations().getConf(0).getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer
                && ((org.deeplearning4j.nn.conf.layers.BaseLayer) fp32.getLayerWiseConfigurations().getConf(0)
                .getLayer()).getIUpdater() instanceof Adam);
    }

    @Test
    void aHugeLearningRateLeavesWeightsAndCompensationFinite() {
        MultiLayerNetwork net = TestNets.irisMlp(kahan(1e30), 7);
        Bf16Training.attach(net);
        fit(net, 3);
        for (float f : net.params().toFloatVector()) {
            assertTrue(Float.isFinite(f), "weight " + f);
        }
        for (float f : updater(net).compensation().toFloatVector()) {
            assertTrue(Float.isFinite(f), "compensation " + f);
        }
    }

    @Test
    void aNanLearningRateOrNanDataSkipsTheStepWithNothingChanged() {
        Map<Integer, Double> values = new TreeMap<>(Map.of(0, 0.01, 2, Double.NaN, 3, 0.01));
        AdamWSR config = AdamWSR.builder().learningRateSchedule(new MapSchedule(ScheduleType.ITERATION, values))
                .weightRounding(Rounding.KAHAN).build();
        MultiLayerNetwork net = TestNets.irisMlp(config, 8);
        Bf16Attachment a = Bf16Training.attach(net);
        fit(net, 2);
        String before = Bits.hash(net.params(), net.getUpdater().getStateViewArray());
        net.fit(IRIS); // NaN learning rate
        assertEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()));
        DataSet nan = IRIS.copy();
        nan.getFeatures().putScalar(0, 0, Float.NaN);
        net.fit(nan); // NaN gradients
        assertEquals(before, Bits.hash(net.params(), net.getUpdater().getStateViewArray()));
        assertEquals(2, a.getSkippedSteps());
    }

    @Test
    void whatCannotCarryACompensationRefusesKahanWithAClearMessage() {
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> Bf16Options.builder().weightRounding(Rounding.KAHAN).build()), "AdamWSR");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> new Bf16Rounded(new Adam(0.01), Rounding.KAHAN, 1L)), "not offered for wrapped DL4J updaters");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> AdamWSR.builder().stateRounding(Rounding.KAHAN).build()), "weight rounding");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> AdamWSR.builder().weightRounding(Rounding.KAHAN).masterWeights(true).build()), "exclude");
        MultiLayerNetwork bf16 = TestNets.bf16IrisMlp(kahan(0.01), 1);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Bf16Training.attach(bf16)), "KAHAN");
        MultiLayerNetwork net = TestNets.irisMlp(kahan(0.01), 1);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Bf16Converter.toBfloat16(net)),
                "Target.BF16_GRID");
        // Spark's master and ParallelWrapper check the driver network with this before anything trains.
        Bf16Training.attach(net);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Bf16Averaging.validate(net)),
                "averaging replicas has no rule");
    }

    private static void assertMessage(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
