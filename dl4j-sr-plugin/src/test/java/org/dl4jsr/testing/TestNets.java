package org.dl4jsr.testing;

import org.dl4jsr.Bf16Grid;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.nd4j.linalg.dataset.DataSet;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Small networks for Iris (4 -> 16 -> 16 -> 3) and grid checks. */
public final class TestNets {
    private TestNets() {
    }

    public static NeuralNetConfiguration.Builder base(IUpdater updater, long seed) {
        return new NeuralNetConfiguration.Builder().seed(seed).updater(updater).weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT);
    }

    public static MultiLayerConfiguration irisMlpConf(IUpdater updater, long seed, Activation hidden) {
        return irisMlpConf(updater, seed, hidden, 16);
    }

    /** 4 -> width -> width -> 3 (softmax, MCXENT). */
    public static MultiLayerConfiguration irisMlpConf(IUpdater updater, long seed, Activation hidden, int width) {
        return base(updater, seed).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(width).activation(hidden).build())
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(hidden).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(width).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    public static MultiLayerNetwork irisMlp(IUpdater updater, long seed) {
        return irisMlp(updater, seed, 16);
    }

    public static MultiLayerNetwork irisMlp(IUpdater updater, long seed, int width) {
        MultiLayerNetwork net = new MultiLayerNetwork(irisMlpConf(updater, seed, Activation.TANH, width));
        net.init();
        return net;
    }

    /** A true BFLOAT16 network (GELU: ND4J back-propagates it in BF16, unlike tanh). */
    public static MultiLayerNetwork bf16IrisMlp(IUpdater updater, long seed) {
        MultiLayerConfiguration conf = irisMlpConf(updater, seed, Activation.GELU);
        conf.setDataType(DataType.BFLOAT16);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    public static ComputationGraph irisGraph(IUpdater updater, long seed) {
        ComputationGraphConfiguration conf = base(updater, seed).graphBuilder()
                .addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build(), "in")
                .addVertex("merge", new org.deeplearning4j.nn.conf.graph.MergeVertex(), "a", "b")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .setOutputs("out")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** Fits a MultiLayerNetwork or ComputationGraph {@code steps} times on {@code data}; returns the last score. */
    public static double fit(Model net, DataSet data, int steps) {
        for (int i = 0; i < steps; i++) {
            if (net instanceof MultiLayerNetwork) {
                ((MultiLayerNetwork) net).fit(data);
            } else {
                ((ComputationGraph) net).fit(data);
            }
        }
        return net.score();
    }

    /** {@code d} with features and labels cast to {@code type}. */
    public static DataSet as(DataSet d, DataType type) {
        return new DataSet(d.getFeatures().castTo(type), d.getLabels().castTo(type));
    }

    public static void assertOnGrid(INDArray values, String what) {
        assertEquals(0, Bf16Grid.countOffGrid(values), what + ": values off the BF16 grid");
    }
}
