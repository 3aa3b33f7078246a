package org.dl4jsr.diagnostics;

import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.dl4jsr.rounding.Rounding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Function;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.rounding.Bf16;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The meter on constructed cases whose answer is known exactly. At Adam's first step every update has magnitude
 * {@code lr * |g| / (|g| + eps / sqrt(1 - beta2))}, i.e. {@code lr} to within 1e-6 relative for ordinary gradients;
 * weights set to 1.5 (half a BF16 step 2^-8 = 0.0039) then stall with {@code lr = 1e-3} and weights set to 0.01
 * (half a step 2^-15 = 3.1e-5) do not. So the stalled fraction is exactly the share of weights set to 1.5.
 */
class StagnationMeterTest {
    private static final double LR = 1e-3;
    private static final float BIG = 1.5f;
    private static final float SMALL = 0.01f;
    /** Of the output layer's 8*3 + 3 = 27 parameters, the first 10 are big. */
    private static final int OUTPUT_BIG = 10;

    /** "big": 4 -> 8 dense (40 parameters, all BIG); "out": 8 -> 3 (27 parameters, 10 BIG, 17 SMALL). */
    private static MultiLayerNetwork constructed(IUpdater updater) {
        MultiLayerConfiguration conf = TestNets.base(updater, 1).list()
                .layer(new DenseLayer.Builder().name("big").nIn(4).nOut(8).activation(Activation.IDENTITY).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).name("out").nIn(8).nOut(3)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        setMagnitudes(net.params());
        return net;
    }

    /** The same two layers as a ComputationGraph (the same flat parameter layout). */
    private static ComputationGraph constructedGraph(IUpdater updater) {
        ComputationGraphConfiguration conf = TestNets.base(updater, 1).graphBuilder().addInputs("in")
                .addLayer("big", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.IDENTITY).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(8).nOut(3)
                        .activation(Activation.IDENTITY).build(), "big")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        setMagnitudes(net.params());
        return net;
    }

    /** The first 40 + OUTPUT_BIG parameters get magnitude BIG, the others SMALL, with random signs. */
    private static void setMagnitudes(INDArray p) {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < p.length(); i++) {
            float magnitude = i < 40 + OUTPUT_BIG ? BIG : SMALL;
            p.putScalar(i, r.nextBoolean() ? magnitude : -magnitude);
        }
    }

    private static DataSet data() {
        Nd4j.getRandom().setSeed(11);
        return new DataSet(Nd4j.randn(DataType.FLOAT, 16, 4), Nd4j.randn(DataType.FLOAT, 16, 3).muli(5));
    }

    private static StagnationReport firstStep(MultiLayerNetwork net) {
        StagnationMeter meter = StagnationMeter.builder().logEvery(1).build();
        net.addListeners(meter);
        assertNull(meter.getLastReport());
        net.fit(data());
        assertEquals(1, meter.getMeasuredIterations());
        return meter.getLastReport();
    }

    private static void assertExact(StagnationReport r) {
        assertEquals(67, r.overall().updates());
        assertEquals(50, r.overall().stalled());
        assertEquals(50.0 / 67, r.overall().stalledFraction(), 0);
        assertEquals(40, r.layers().get("big").stalled());
        assertEquals(1.0, r.layers().get("big").stalledFraction(), 0);
        assertEquals(27, r.layers().get("out").updates());
        assertEquals(OUTPUT_BIG, r.layers().get("out").stalled());
        // every |u| is lr to within 1e-6 relative: sum|u| / sum|w| is known too
        double expectedRelative = 67 * LR / (50 * BIG + 17 * SMALL);
        assertEquals(expectedRelative, r.overall().relativeUpdate(), expectedRelative * 1e-5);
        assertEquals(0, r.firstIteration());
        assertEquals(0, r.lastIteration());
    }

    @Test
    void exactFractionForDl4jAdamInFp32() {
        assertExact(firstStep(constructed(new Adam(LR))));
    }

    @Test
    void exactFractionForFusedAdamWSR() {
        for (AdamWSR u : new AdamWSR[] {
                AdamWSR.builder().learningRate(LR).build(),
                AdamWSR.builder().learningRate(LR).weightRounding(Rounding.NEAREST).stateRounding(Rounding.NEAREST).build(),
                AdamWSR.builder().learningRate(LR).masterWeights(true).weightRounding(Rounding.NEAREST)
                        .stateRounding(Rounding.NONE).build()}) {
            MultiLayerNetwork net = constructed(u);
            Bf16Training.attach(net);
            assertExact(firstStep(net));
        }
    }

    @Test
    void exactFractionOnAComputationGraph() {
        ComputationGraph fp32 = constructedGraph(new Adam(LR));
        ComputationGraph bf16 = constructedGraph(AdamWSR.builder().learningRate(LR).build());
        Bf16Training.attach(bf16);
        for (ComputationGraph net : new ComputationGraph[] {fp32, bf16}) {
            StagnationMeter meter = StagnationMeter.builder().logEvery(1).build();
            net.addListeners(meter);
            net.fit(data());
            assertExact(meter.getLastReport());
        }
    }

    @Test
    void exactFractionForAWrappedDl4jUpdater() {
        MultiLayerNetwork net = constructed(new Adam(LR));
        Bf16Training.attach(net); // wraps Adam in Bf16Rounded
        assertExact(firstStep(net));
    }

    /** Vanilla BF16 really loses what the meter calls stalled: those weights are unchanged, the others moved. */
    @Test
    void stalledUpdatesAreTheOnesRoundToNearestLoses() {
        MultiLayerNetwork net = constructed(AdamWSR.builder().learningRate(LR).weightRounding(Rounding.NEAREST).build());
        Bf16Training.attach(net);
        INDArray before = net.params().dup();
        firstStep(net);
        INDArray after = net.params();
        for (int i = 0; i < before.length(); i++) {
            boolean stalled = i < 40 + OUTPUT_BIG;
            assertEquals(stalled, before.getFloat(i) == after.getFloat(i), "parameter " + i);
        }
    }

    @Test
    void meterDoesNotChangeTrainingResults() {
        DataSet iris = Iris.load(DataType.FLOAT);
        Function<AdamWSR, INDArray[]> both = u -> {
            INDArray[] out = new INDArray[2];
            for (int withMeter = 0; withMeter < 2; withMeter++) {
                MultiLayerNetwork net = TestNets.irisMlp(u, 3);
                Bf16Training.attach(net);
                if (withMeter == 1) {
                    net.addListeners(StagnationMeter.builder().logEvery(5).build());
                }
                for (int i = 0; i < 15; i++) {
                    net.fit(iris);
                }
                out[withMeter] = net.params().dup();
            }
            return out;
        };
        for (AdamWSR u : new AdamWSR[] {
                AdamWSR.builder().learningRate(0.01).weightDecay(0.01).build(),
                AdamWSR.builder().learningRate(0.01).weightRounding(Rounding.NEAREST).build(),
                AdamWSR.builder().learningRate(0.01).masterWeights(true).stateRounding(Rounding.NONE).build()}) {
            INDArray[] r = both.apply(u);
            assertEquals(r[0], r[1], u.toString());
        }
    }

    @Test
    void warnsWhenTheFractionStaysHigh() {
        // lr 1e-4 with every weight at 1.5: every update stalls at every step (|u| <= ~3 lr < 2^-8).
        MultiLayerNetwork net = constructed(AdamWSR.builder().learningRate(1e-4).build());
        net.params().assign(BIG);
        Bf16Training.attach(net);
        StagnationMeter meter = StagnationMeter.builder().logEvery(2).warnFraction(0.9).warnAfter(2).build();
        net.addListeners(meter);
        DataSet data = data();
        for (int i = 0; i < 2; i++) {
            net.fit(data);
        }
        assertEquals(1.0, meter.getLastReport().overall().stalledFraction(), 0);
        assertEquals(0, meter.getLastReport().firstIteration());
        assertEquals(1, meter.getLastReport().lastIteration());
        assertEquals(2 * 67, meter.getLastReport().overall().updates());
        assertFalse(meter.isStagnating(), "one high window is not yet 'stays high'");
        for (int i = 0; i < 2; i++) {
            net.fit(data);
        }
        assertTrue(meter.isStagnating());
        assertTrue(meter.getOverheadNanos() > 0);
    }

    /** The definition matches round-to-nearest: below half a step the weight stays, above it moves. */
    @Test
    void halfStepIsWhereRoundToNearestStopsLosingUpdates() {
        assertEquals(0x1p-8f, StalledUpdates.halfStep(1.0f));
        assertEquals(0x1p-8f, StalledUpdates.halfStep(-1.99f));
        assertEquals(0x1p-9f, StalledUpdates.halfStep(0.75f));
        assertEquals(0x1p-15f, StalledUpdates.halfStep(SMALL));
        SplittableRandom r = new SplittableRandom(9);
        int checked = 0;
        while (checked < 100_000) {
            float w = Bf16.roundNearestEven((float) ((r.nextBoolean() ? 1 : -1) * Math.exp(r.nextDouble(-12, 4))));
            if ((Float.floatToRawIntBits(w) & 0x7F0000) == 0) {
                continue; // a power of two: the step below it is half as large
            }
            float half = StalledUpdates.halfStep(w);
            float u = (float) (r.nextDouble(-0.999, 0.999) * half);
            assertEquals(w, Bf16.roundNearestEven(w - u), "w=" + w + " u=" + u);
            float v = (float) ((r.nextBoolean() ? 1 : -1) * half * r.nextDouble(1.001, 1.999));
            assertNotEquals(w, Bf16.roundNearestEven(w - v), "w=" + w + " v=" + v);
            checked++;
        }
    }

    /** The vectorised bit-pattern loop counts exactly what the float definition says. */
    @Test
    void countingLoopAgreesWithTheDefinition() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 50_000;
        int[] u = new int[n];
        int[] w = new int[n];
        long updates = 0;
        long stalled = 0;
        for (int i = 0; i < n; i++) {
            float wi = switch (i % 7) {
                case 0 -> 0f;
                case 1 -> (float) r.nextDouble(-1e-37, 1e-37); // tiny and subnormal weights
                default -> (float) ((r.nextBoolean() ? 1 : -1) * Math.exp(r.nextDouble(-20, 5)));
            };
            float ui = i % 11 == 0 ? 0f : (float) ((r.nextBoolean() ? 1 : -1) * Math.exp(r.nextDouble(-25, 0)));
            if (i % 13 == 0) {
                ui = StalledUpdates.halfStep(wi) * (r.nextBoolean() ? 1 : -1); // exactly half a step: not below
            }
            u[i] = Float.floatToRawIntBits(ui);
            w[i] = Float.floatToRawIntBits(wi);
            if (ui != 0) {
                updates++;
                stalled += Math.abs(ui) < StalledUpdates.halfStep(wi) ? 1 : 0;
            }
        }
        long counts = StalledUpdates.count(u, w, 0, n);
        assertEquals(updates, counts >>> 32);
        assertEquals(stalled, counts & 0xFFFFFFFFL);
        assertTrue(stalled > n / 10 && stalled < updates - n / 10, "both outcomes occur: " + stalled);
        u[n / 2] = Float.floatToRawIntBits(Float.NaN);
        assertEquals(-1, StalledUpdates.count(u, w, 0, n));
        u[n / 2] = Float.floatToRawIntBits(Float.NEGATIVE_INFINITY);
        assertEquals(-1, StalledUpdates.count(u, w, 0, n));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> StagnationMeter.builder().logEvery(0));
        assertThrows(IllegalArgumentException.class, () -> StagnationMeter.builder().warnFraction(0));
        assertThrows(IllegalArgumentException.class, () -> StagnationMeter.builder().warnFraction(1.5));
        assertThrows(IllegalArgumentException.class, () -> StagnationMeter.builder().warnAfter(0));
    }
}
