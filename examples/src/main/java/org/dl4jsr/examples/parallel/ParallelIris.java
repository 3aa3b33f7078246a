package org.dl4jsr.examples.parallel;

import org.dl4jsr.examples.Cli;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.examples.IrisData;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.parallel.Bf16TrainerContext;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * BF16 + SR training with DL4J's ParallelWrapper on one machine: the Iris MLP trained by 2 workers, first with
 * parameter averaging (AVERAGING), then with threshold-encoded gradient sharing (SHARED_GRADIENTS). The only plugin
 * code is {@code Bf16Training.attach(net)} and {@code Bf16ParallelWrapper.attach(wrapper)}.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@parallel} ({@code -Dargs="EPOCHS"}, default 30).
 */
public final class ParallelIris {
    private ParallelIris() {
    }

    static MultiLayerNetwork network() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .weightInit(WeightInit.XAVIER)
                .updater(new AdamWSR(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(32).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(32).nOut(32).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    public static void main(String[] args) {
        Cli.Epochs cli = new Cli.Epochs("parallel", 30);
        if (!Cli.parseOrExit(cli, args)) {
            return;
        }
        int epochs = cli.epochs;
        DataSet iris = IrisData.load();
        DataSet shuffled = iris.copy();
        shuffled.shuffle(7);
        List<DataSet> minibatches = new ArrayList<>(shuffled.batchBy(10));

        for (ParallelWrapper.TrainingMode mode : new ParallelWrapper.TrainingMode[] {
                ParallelWrapper.TrainingMode.AVERAGING, ParallelWrapper.TrainingMode.SHARED_GRADIENTS}) {
            MultiLayerNetwork net = network();
            Bf16Training.attach(net);                                  // as for single-machine training
            ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net)
                    .workers(2)
                    .averagingFrequency(3)
                    .trainingMode(mode)
                    .build();
            Bf16TrainerContext context = Bf16ParallelWrapper.attach(wrapper); // the one ParallelWrapper-specific call
            for (int epoch = 0; epoch < epochs; epoch++) {
                wrapper.fit(new ListDataSetIterator<>(minibatches, 1));
            }
            Evaluation eval = new Evaluation(3);
            eval.eval(iris.getLabels(), net.output(iris.getFeatures()));
            long offGrid = Bf16Grid.countOffGrid(net.params());
            String detail = mode == ParallelWrapper.TrainingMode.AVERAGING
                    ? "averaging_rounds=" + context.getAveragingRounds()
                    : "replica_checks=" + context.getResyncChecks() + " max_differing_params="
                    + context.getMaxDifferingParams();
            System.out.printf("%s, 2 workers: accuracy %.4f, %d of %d weights off the BF16 grid%n", mode,
                    eval.accuracy(), offGrid, net.numParams());
            System.out.println("RESULT parallel_iris mode=" + mode + " workers=2 epochs=" + epochs + " accuracy="
                    + eval.accuracy() + " off_grid=" + offGrid + " " + detail);
        }
    }
}
