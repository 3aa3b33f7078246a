package org.dl4jsr.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionResult;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.parallel.Bf16TrainerContext;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * FrozenLayerWithBackprop: DL4J gives its parameters the inner layer's updater (not NoOp), so they sit inside an
 * ordinary updater block. Whatever the updater, their bits never change: at attach, at every step, through the
 * converter, a checkpoint and ParallelWrapper; the trainable weights around them stay on the grid and train.
 */
class FrozenLayersTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    /** Dense -> FrozenLayerWithBackprop(Dense) -> Output; the frozen inner layer carries L2 and weight decay too. */
    static MultiLayerConfiguration mlnConf(IUpdater updater) {
        return TestNets.base(updater, 7).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build())
                .layer(new FrozenLayerWithBackprop(new DenseLayer.Builder().nIn(16).nOut(16)
                        .regularization(List.of(new L2Regularization(1e-2), new WeightDecay(1e-2, true)))
                        .activation(Activation.TANH).build()))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    static MultiLayerNetwork mln(IUpdater updater) {
        MultiLayerNetwork net = new MultiLayerNetwork(mlnConf(updater));
        net.init();
        return net;
    }

    /** in -> a (FrozenLayerWithBackprop) and b (FrozenLayer) -> merge -> trainable dense -> out. */
    static ComputationGraph graph(IUpdater updater) {
        ComputationGraphConfiguration conf = TestNets.base(updater, 9).graphBuilder().addInputs("in")
                .addLayer("a", new FrozenLayerWithBackprop(new DenseLayer.Builder().nIn(4).nOut(8)
                        .activation(Activation.TANH).build()), "in")
                .addLayer("b", new FrozenLayer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH)
                        .build()), "in")
                .addVertex("merge", new org.deeplearning4j.nn.conf.graph.MergeVertex(), "a", "b")
                .addLayer("dense", new DenseLayer.Builder().nIn(16).nOut(8).activation(Activation.TANH).build(),
                        "merge")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    private static String frozenBits(MultiLayerNetwork net) {
        return Bits.hash(net.getLayer(1).params());
    }

    private static void assertTrains(MultiLayerNetwork net, String frozen, String what) {
        INDArray first = net.getLayer(0).params().dup();
        TestNets.fit(net, IRIS, 5);
        assertEquals(frozen, frozenBits(net), what + ": frozen-with-backprop parameters changed");
        assertNotEquals(first, net.getLayer(0).params(), what + ": the trainable layer did not train");
        assertEquals(0, Bf16Grid.countOffGrid(net.getLayer(0).params()), what + ": trainable weights off the grid");
        assertEquals(0, Bf16Grid.countOffGrid(net.getLayer(2).params()), what + ": output weights off the grid");
        assertEquals(0, Bf16Grid.countOffGrid(net), what);
    }

    @Test
    void frozenWithBackpropIsNeverRoundedOrUpdatedWhateverTheUpdater() {
        for (IUpdater u : new IUpdater[] {new AdamWSR(1e-2), AdamWSR.builder().learningRate(1e-2).weightDecay(0.1)
                .build(), AdamWSR.builder().learningRate(1e-2).masterWeights(true).build(), new Adam(1e-2),
            new Nesterovs(1e-2, 0.9)}) {
            MultiLayerNetwork net = mln(u);
            String frozen = frozenBits(net);
            assertTrue(Bf16Grid.countOffGrid(net.getLayer(1).params()) > 0, "frozen weights start off the grid");
            Bf16Training.attach(net);
            assertEquals(frozen, frozenBits(net), u + ": attach changed frozen parameters");
            assertTrains(net, frozen, u.toString());
        }
    }

    /** The same in a ComputationGraph, next to a FrozenLayer (which DL4J gives NoOp). */
    /**
     * The stagnation meter measures weight updates: a FrozenLayerWithBackprop's parameters get none (the plugin never
     * changes them, even with weight decay, which makes DL4J's update array non-zero there), so they are not counted.
     */
    @Test
    void stagnationMeterLeavesFrozenWithBackpropOut() {
        for (IUpdater u : new IUpdater[] {AdamWSR.builder().learningRate(1e-2).weightDecay(0.1).build(),
                new Adam(1e-2)}) {
            MultiLayerNetwork net = mln(u);
            Bf16Training.attach(net);
            org.dl4jsr.diagnostics.StagnationMeter meter = org.dl4jsr.diagnostics.StagnationMeter.builder().logEvery(2)
                    .build();
            net.addListeners(meter);
            TestNets.fit(net, IRIS, 2);
            org.dl4jsr.diagnostics.StagnationReport r = meter.getLastReport();
            String frozen = net.getLayer(1).conf().getLayer().getLayerName();
            assertEquals(List.of("layer0", "layer2"), new ArrayList<>(r.layers().keySet()), u + ": frozen " + frozen);
            long trainable = net.getLayer(0).numParams() + net.getLayer(2).numParams();
            assertTrue(r.overall().updates() <= 2 * trainable, u + ": " + r.overall().updates() + " updates counted"
                    + " for " + trainable + " trainable parameters in 2 steps");
        }
    }

    @Test
    void graphWithBothFrozenKinds() {
        for (IUpdater u : new IUpdater[] {new AdamWSR(1e-2), new Adam(1e-2)}) {
            ComputationGraph net = graph(u);
            String a = Bits.hash(net.getLayer("a").params());
            String b = Bits.hash(net.getLayer("b").params());
            Bf16Training.attach(net);
            INDArray dense = net.getLayer("dense").params().dup();
            TestNets.fit(net, IRIS, 10);
            assertEquals(a, Bits.hash(net.getLayer("a").params()), u + ": FrozenLayerWithBackprop changed");
            assertEquals(b, Bits.hash(net.getLayer("b").params()), u + ": FrozenLayer changed");
            assertNotEquals(dense, net.getLayer("dense").params());
            assertEquals(0, Bf16Grid.countOffGrid(net), u.toString());
        }
    }

    /**
     * An FP32 network trained with DL4J's Adam converts (its frozen layer shares the Adam block of its neighbours), the
     * report lists the frozen layer under what it left alone, and training on leaves it unchanged; the checkpoint
     * round trip keeps its bits too.
     */
    @Test
    void converterAndCheckpointCarryFrozenWithBackprop(@TempDir Path dir) throws Exception {
        MultiLayerNetwork fp32 = mln(new Adam(1e-2));
        TestNets.fit(fp32, IRIS, 3);
        String frozen = frozenBits(fp32);
        ConversionResult<MultiLayerNetwork> r = Bf16Converter.toBf16Grid(fp32);
        MultiLayerNetwork net = r.getNetwork();
        assertTrue(r.getReport().getLeftAlone().stream().anyMatch(s -> s.startsWith("layer1/W: frozen layer")),
                r.getReport().toString());
        assertTrue(r.getReport().getChanged().stream().anyMatch(s -> s.startsWith("layer1: updater")
                && s.contains("FrozenLayerWithBackprop")), r.getReport().toString());
        assertEquals(frozen, frozenBits(net), "conversion changed frozen parameters");
        assertTrains(net, frozen, "converted");

        Path file = dir.resolve("frozen.zip");
        Bf16Checkpoint.save(net, file);
        MultiLayerNetwork restored = Bf16Checkpoint.loadMultiLayerNetwork(file);
        assertEquals(frozen, frozenBits(restored), "checkpoint round trip changed frozen parameters");
        assertTrains(restored, frozen, "restored");

        MultiLayerNetwork back = Bf16Converter.toFp32(restored).getNetwork();
        assertEquals(frozen, frozenBits(back), "toFp32 changed frozen parameters");
    }

    /** ParallelWrapper AVERAGING with two workers: averaging leaves the frozen FP32 values alone. */
    @Test
    void parallelWrapperAveragingKeepsFrozenBits() {
        MultiLayerNetwork net = mln(new AdamWSR(1e-2));
        String frozen = frozenBits(net);
        Bf16Training.attach(net);
        ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(2).build();
        Bf16TrainerContext ctx = Bf16ParallelWrapper.attach(pw);
        List<DataSet> batches = new ArrayList<>();
        IRIS.copy().batchBy(15).forEach(batches::add);
        pw.fit(new ListDataSetIterator<>(batches, 1));
        pw.shutdown();
        assertTrue(ctx.getAveragingRounds() > 0);
        assertEquals(frozen, frozenBits(net), "frozen parameters changed under ParallelWrapper");
        assertEquals(0, Bf16Grid.countOffGrid(net));
    }
}
