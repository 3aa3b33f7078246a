package org.dl4jsr.spark;

import org.dl4jsr.averaging.ArrayBits;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;
import org.dl4jsr.averaging.WireLayouts;
import org.dl4jsr.network.Network;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** What the Spark masters derive from a network and their configuration, without Spark. */
class SparkMastersTest {

    private static MultiLayerNetwork net(IUpdater updater, boolean batchNorm) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(1).updater(updater)
                .dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build());
        if (batchNorm) {
            b.layer(new BatchNormalization.Builder().nIn(8).nOut(8).build());
        }
        MultiLayerConfiguration conf = b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                .activation(Activation.SOFTMAX).build()).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net);
        return net;
    }

    @Test
    void adamWsrTravelsAsSixBytesPerParameter() {
        Network m = Network.of(net(new AdamWSR(1e-3), false));
        long n = m.params().length();
        WireLayout params = WireLayouts.params(m);
        WireLayout state = WireLayouts.state(m);
        assertEquals(n, params.count(WireLayout.Kind.GRID));
        assertEquals(2 * n, state.count(WireLayout.Kind.GRID));
        assertEquals(6 * n, WireArray.encode(ArrayBits.of(m.params()), params, "p").payloadBytes()
                + WireArray.encode(ArrayBits.of(m.updaterState()), state, "s").payloadBytes());
    }

    @Test
    void compactStateTravelsPacked() {
        Network m = Network.of(net(AdamWSR.builder().compactState(true).build(), false));
        long n = m.params().length();
        WireLayout state = WireLayouts.state(m);
        assertEquals(n, state.count(WireLayout.Kind.PACKED));
        assertEquals(2 * n, state.values());
    }

    @Test
    void dl4jManagedValuesStayFp32() {
        // Nesterovs (wrapped by attach) keeps FP32 state; batch-norm mean/variance are updated by DL4J itself (NoOp)
        Network m = Network.of(net(new Nesterovs(0.1, 0.9), true));
        WireLayout params = WireLayouts.params(m);
        WireLayout state = WireLayouts.state(m);
        assertEquals(16, params.count(WireLayout.Kind.FP32), "batch-norm running mean and variance");
        assertEquals(m.params().length() - 16, params.count(WireLayout.Kind.GRID));
        assertEquals(state.length(), state.count(WireLayout.Kind.FP32));
        WireLayouts.validate(m);
    }

    /** The guard against DL4J's stock Spark masters leaves every other Java serialisation of configurations alone. */
    @Test
    void pluginConfigurationsStillJavaSerialiseOutsideDl4jsMasters() throws Exception {
        MultiLayerNetwork net = net(AdamWSR.builder().compactState(true).build(), false);
        MultiLayerNetwork wrapped = net(new Nesterovs(0.1, 0.9), false);
        for (Object conf : new Object[] {net.getLayerWiseConfigurations(), wrapped.getLayerWiseConfigurations()}) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(conf);
            }
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                    new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                assertEquals(conf, in.readObject());
            }
        }
    }

    @Test
    void builderKeepsDl4jOptionsAndJsonRoundTrips() {
        Bf16ParameterAveragingTrainingMaster tm = new Bf16ParameterAveragingTrainingMaster.Builder(4, 8)
                .batchSizePerWorker(8).averagingFrequency(3).rddTrainingApproach(RDDTrainingApproach.Direct)
                .bf16Options(Bf16Options.builder().seed(77).build()).build();
        assertEquals(3, tm.getAveragingFrequency());
        assertTrue(tm.isSaveUpdater(), "updater state is averaged by default");
        String json = tm.toJson();
        Bf16ParameterAveragingTrainingMaster back = Bf16ParameterAveragingTrainingMaster.fromJson(json);
        assertEquals(json, back.toJson());
        assertEquals(77, back.getBf16Options().getSeed());
        assertEquals(3, back.getAveragingFrequency());
    }

    @Test
    void builderRefusesBadValuesWithClearMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).averagingFrequency(0));
        assertTrue(e.getMessage().contains("averagingFrequency must be >= 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).batchSizePerWorker(0));
        assertThrows(IllegalArgumentException.class,
                () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).bf16Options(null));
        for (int depth : new int[] {0, -1}) {
            IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                    () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).aggregationDepth(depth));
            assertTrue(d.getMessage().startsWith("aggregationDepth must be >= 1 (the number of levels of the tree"),
                    d.getMessage());
        }
        Bf16ParameterAveragingTrainingMaster master = new Bf16ParameterAveragingTrainingMaster.Builder(4)
                .aggregationDepth(3).build();
        assertEquals(3, master.getAggregationDepth());
        assertThrows(IllegalArgumentException.class, () -> master.setAggregationDepth(0));
        assertEquals(3, Bf16ParameterAveragingTrainingMaster.fromJson(master.toJson()).getAggregationDepth());
    }
}
