package org.dl4jsr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
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
final class TestNets {
    private TestNets() {
    }

    static NeuralNetConfiguration.Builder base(IUpdater updater, long seed) {
        return new NeuralNetConfiguration.Builder().seed(seed).updater(updater).weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT);
    }

    static MultiLayerConfiguration irisMlpConf(IUpdater updater, long seed, Activation hidden) {
        return base(updater, seed).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(hidden).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(hidden).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    static MultiLayerNetwork irisMlp(IUpdater updater, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(irisMlpConf(updater, seed, Activation.TANH));
        net.init();
        return net;
    }

    static ComputationGraph irisGraph(IUpdater updater, long seed) {
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

    static void assertOnGrid(INDArray values, String what) {
        assertEquals(0, Bf16Grid.countOffGrid(values), what + ": values off the BF16 grid");
    }
}
