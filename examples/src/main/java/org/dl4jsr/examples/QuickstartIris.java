package org.dl4jsr.examples;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.diagnostics.TrainingMemory;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Quickstart: an ordinary DL4J network trained twice on Iris, once with DL4J's Adam and once in BF16 with
 * stochastic rounding. Only two things change: the updater line, and the {@code Bf16Training.attach(net)} call.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@quickstart}
 */
public final class QuickstartIris {
    private QuickstartIris() {
    }

    static MultiLayerNetwork network(IUpdater updater) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .weightInit(WeightInit.XAVIER)
                .updater(updater) // <- the only configuration change: new Adam(0.01) becomes new AdamWSR(0.01)
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

    static double train(MultiLayerNetwork net, DataSet data, int epochs) {
        for (int i = 0; i < epochs; i++) {
            net.fit(data);
        }
        Evaluation eval = new Evaluation(3);
        eval.eval(data.getLabels(), net.output(data.getFeatures()));
        return eval.accuracy();
    }

    public static void main(String[] args) {
        Cli.Epochs cli = new Cli.Epochs("quickstart", 300);
        if (!Cli.parseOrExit(cli, args)) {
            return;
        }
        int epochs = cli.epochs;
        DataSet iris = IrisData.load();

        MultiLayerNetwork fp32 = network(new Adam(0.01));
        double fp32Accuracy = train(fp32, iris, epochs);

        MultiLayerNetwork bf16 = network(new AdamWSR(0.01));
        Bf16Attachment attachment = Bf16Training.attach(bf16); // <- the only code change
        double bf16Accuracy = train(bf16, iris, epochs);

        long offGrid = Bf16Grid.countOffGrid(bf16);
        System.out.printf("DL4J Adam (FP32):     accuracy %.4f, %s%n", fp32Accuracy, TrainingMemory.of(fp32));
        System.out.printf("AdamW-SR (BF16 + SR): accuracy %.4f, %s%n", bf16Accuracy, TrainingMemory.of(bf16));
        System.out.printf("BF16 weights: %d of %d off the BF16 grid; kernels %s%n", offGrid, bf16.numParams(),
                attachment.getKernelsName());
        System.out.println("RESULT quickstart_iris epochs=" + epochs + " adam_fp32_accuracy=" + fp32Accuracy
                + " adamw_sr_accuracy=" + bf16Accuracy + " off_grid=" + offGrid);
    }
}
