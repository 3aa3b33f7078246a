package org.dl4jsr.examples.parallel;

import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.examples.IrisData;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Does DL4J's own ParallelWrapper SHARED_GRADIENTS hang? Trains an Iris MLP with 2 workers for {@code --fits N} epochs
 * (one {@code fit} call each, the same wrapper), every fit under a watchdog, and reports the first fit that did not
 * finish. Variants: DL4J's FP32 Adam with DL4J's trainers (no plugin code), then AdamWSR with
 * {@code Bf16ParallelWrapper.attach}.
 *
 * <p>Why it can hang: when a fit ends DL4J calls {@code clear()} on the user's network, which drops its optimizer. In
 * the next fit worker 0 trains that network inside the synchronized {@code MultiLayerNetwork.fit} and waits in the
 * gradient accumulator's barrier for worker 1, while worker 1, still building its replica, asks the same network for
 * its updater, which must now be created under the same lock: neither can proceed.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@parallel-hang-probe} ({@code -Dargs="--fits 30"}).
 */
public final class SharedGradientsHangProbe {
    private static final int TIMEOUT_S = 30;

    private SharedGradientsHangProbe() {
    }

    @Command(name = "parallel-hang-probe", mixinStandardHelpOptions = true,
            description = "Repeated ParallelWrapper SHARED_GRADIENTS fits, DL4J's trainers against the plugin's.")
    static final class Options {
        @Option(names = "--fits", paramLabel = "N", converter = Cli.Positive.class, description = "fits of one wrapper (30)")
        int fits = 30;
    }

    public static void main(String[] args) throws InterruptedException {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        int fits = o.fits;
        DataSet iris = IrisData.load();
        iris.shuffle(123);
        List<DataSet> batches = new ArrayList<>(iris.batchBy(10));
        for (String variant : new String[] {"dl4j_fp32_adam", "plugin_adamwsr"}) {
            boolean plugin = variant.startsWith("plugin");
            MultiLayerNetwork net = network(plugin ? new AdamWSR(0.01) : new Adam(0.01));
            if (plugin) {
                Bf16Training.attach(net);
            }
            ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2)
                    .trainingMode(ParallelWrapper.TrainingMode.SHARED_GRADIENTS).build();
            if (plugin) {
                Bf16ParallelWrapper.attach(pw);
            }
            int hungAt = 0;
            for (int f = 1; f <= fits && hungAt == 0; f++) {
                Thread fit = new Thread(() -> pw.fit(new ListDataSetIterator<>(batches, 1)), "probe-fit");
                fit.setDaemon(true); // a hung fit is abandoned
                fit.start();
                fit.join(TIMEOUT_S * 1000L);
                hungAt = fit.isAlive() ? f : 0;
            }
            System.out.printf("RESULT parallel_shared_gradients_hang_probe updater=%s fits=%d hung_at_fit=%s"
                    + " (watchdog %d s per fit)%n", variant, fits, hungAt == 0 ? "none" : String.valueOf(hungAt),
                    TIMEOUT_S);
        }
        System.exit(0); // a hung fit leaves threads behind
    }

    private static MultiLayerNetwork network(IUpdater updater) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).updater(updater)
                .weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }
}
