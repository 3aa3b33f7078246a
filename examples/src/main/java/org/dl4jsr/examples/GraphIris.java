package org.dl4jsr.examples;

import org.dl4jsr.diagnostics.StagnationReport;
import org.dl4jsr.diagnostics.StagnationStats;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A ComputationGraph in BF16: a residual network on Iris ({@code out = softmax(W (h1 + h2))} with {@code h2 = f(h1)},
 * joined by an ElementWiseVertex), trained once with DL4J's Adam and once with AdamW-SR after
 * {@code Bf16Training.attach(graph)}, with a {@link StagnationMeter} listening to the BF16 graph.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@graph}
 */
public final class GraphIris {
    private GraphIris() {
    }

    static ComputationGraph graph(IUpdater updater) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .weightInit(WeightInit.XAVIER)
                .updater(updater)
                .graphBuilder()
                .addInputs("features")
                .addLayer("h1", new DenseLayer.Builder().nIn(4).nOut(32).activation(Activation.TANH).build(), "features")
                .addLayer("h2", new DenseLayer.Builder().nIn(32).nOut(32).activation(Activation.TANH).build(), "h1")
                .addVertex("residual", new ElementWiseVertex(ElementWiseVertex.Op.Add), "h1", "h2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "residual")
                .setOutputs("out")
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    static double train(ComputationGraph graph, DataSet data, int epochs) {
        for (int i = 0; i < epochs; i++) {
            graph.fit(data);
        }
        Evaluation eval = new Evaluation(3);
        eval.eval(data.getLabels(), graph.outputSingle(data.getFeatures()));
        return eval.accuracy();
    }

    public static void main(String[] args) {
        Cli.Epochs cli = new Cli.Epochs("graph", 300);
        if (!Cli.parseOrExit(cli, args)) {
            return;
        }
        int epochs = cli.epochs;
        DataSet iris = IrisData.load();

        double fp32 = train(graph(new Adam(0.01)), iris, epochs);

        ComputationGraph bf16 = graph(AdamWSR.builder().learningRate(0.01).weightDecay(1e-4).build());
        StagnationMeter meter = StagnationMeter.builder().logEvery(50).build();
        bf16.addListeners(meter);
        Bf16Training.attach(bf16);
        double sr = train(bf16, iris, epochs);

        System.out.printf("ComputationGraph, DL4J Adam (FP32):     accuracy %.4f%n", fp32);
        System.out.printf("ComputationGraph, AdamW-SR (BF16 + SR): accuracy %.4f%n", sr);
        StagnationReport r = meter.getLastReport();
        if (r != null) {
            System.out.printf("Updates below half a BF16 step in iterations %d-%d: %.1f%% overall%n",
                    r.firstIteration(), r.lastIteration(), 100 * r.overall().stalledFraction());
            for (Map.Entry<String, StagnationStats> e : r.layers().entrySet()) {
                System.out.printf("  %-4s %5.1f%%  mean |update|/|weight| %.2e%n", e.getKey(),
                        100 * e.getValue().stalledFraction(), e.getValue().relativeUpdate());
            }
        }
        System.out.println("RESULT graph_iris epochs=" + epochs + " adam_fp32_accuracy=" + fp32 + " adamw_sr_accuracy="
                + sr + " stalled=" + (r == null ? "n/a" : r.overall().stalledFraction()));
    }
}
