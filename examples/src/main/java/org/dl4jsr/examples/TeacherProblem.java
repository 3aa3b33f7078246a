package org.dl4jsr.examples;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The synthetic problem of the benchmarks: Gaussian features, labelled by the arg-max of a fixed random linear teacher,
 * and the MLP they train on it. The same seed gives the same minibatches, so every configuration of a benchmark trains
 * on the same data.
 */
public final class TeacherProblem {
    private TeacherProblem() {
    }

    /** {@code count} minibatches of {@code batch} examples, drawn after the teacher from ND4J's generator at {@code seed}. */
    public static List<DataSet> minibatches(long seed, int features, int classes, int count, int batch) {
        Nd4j.getRandom().setSeed(seed);
        INDArray teacher = Nd4j.randn(DataType.FLOAT, features, classes);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            INDArray x = Nd4j.randn(DataType.FLOAT, batch, features);
            INDArray classOf = Nd4j.argMax(x.mmul(teacher), 1);
            INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
            for (int i = 0; i < batch; i++) {
                y.putScalar(i, classOf.getInt(i), 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    /** The benchmarks' MLP for this problem: features -> hidden -> hidden -> classes, Xavier init, seed 1. */
    public static MultiLayerNetwork mlp(IUpdater updater, int features, int hidden, int classes, Activation activation) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).weightInit(WeightInit.XAVIER)
                .updater(updater).list()
                .layer(new DenseLayer.Builder().nIn(features).nOut(hidden).activation(activation).build())
                .layer(new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(activation).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(classes)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** The same minibatches cut into {@code rounds} rounds of {@code perRound}, in order. */
    public static List<List<DataSet>> rounds(long seed, int features, int classes, int rounds, int perRound, int batch) {
        List<DataSet> all = minibatches(seed, features, classes, rounds * perRound, batch);
        List<List<DataSet>> out = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            out.add(new ArrayList<>(all.subList(r * perRound, (r + 1) * perRound)));
        }
        return out;
    }
}
