package org.dl4jsr.it;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
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

/** Small Iris networks (4 inputs, 3 classes) and bit-level helpers. */
final class Nets {
    private Nets() {
    }

    static NeuralNetConfiguration.Builder base(IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(42).updater(updater).weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT);
    }

    static MultiLayerConfiguration mlpConf(IUpdater updater, int hidden) {
        return mlpConf(updater, hidden, Activation.TANH);
    }

    static MultiLayerConfiguration mlpConf(IUpdater updater, int hidden, Activation activation) {
        return base(updater).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(hidden).activation(activation).build())
                .layer(new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(activation).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    static MultiLayerNetwork mlp(IUpdater updater) {
        return mlp(updater, 16);
    }

    static MultiLayerNetwork mlp(IUpdater updater, int hidden) {
        MultiLayerNetwork net = new MultiLayerNetwork(mlpConf(updater, hidden));
        net.init();
        return net;
    }

    /** A true BFLOAT16 network (GELU: ND4J back-propagates it in BF16, unlike tanh). */
    static MultiLayerNetwork bf16Mlp(IUpdater updater) {
        MultiLayerConfiguration conf = mlpConf(updater, 16, Activation.GELU);
        conf.setDataType(DataType.BFLOAT16);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static ComputationGraph graph(IUpdater updater) {
        ComputationGraphConfiguration conf = base(updater).graphBuilder()
                .addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build(), "in")
                .addVertex("merge", new MergeVertex(), "a", "b")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .setOutputs("out")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** FP32 bit patterns of every element (for bit-exact comparisons). */
    static int[] bits(INDArray a) {
        float[] f = a.dup().data().asFloat();
        int[] bits = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            bits[i] = Float.floatToRawIntBits(f[i]);
        }
        return bits;
    }
}
