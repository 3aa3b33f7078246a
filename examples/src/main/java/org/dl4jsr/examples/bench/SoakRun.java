package org.dl4jsr.examples.bench;

import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Soak run: trains a 1M-parameter MLP with AdamW-SR for many steps and reports resident memory (RSS, from
 * /proc/self/status), JVM heap and ND4J's off-heap bytes every N steps, so a leak per step shows as growth. Not a
 * test (it takes minutes); run with {@code mvn -q -pl examples -am package -DskipTests exec:exec@soak
 * -Dargs="--steps 5000 --every 500"}. Prints {@code RESULT} lines: the first and last sample and the growth.
 */
public final class SoakRun {
    private SoakRun() {
    }

    @Command(name = "soak", mixinStandardHelpOptions = true,
            description = "A long AdamW-SR run printing RSS, heap and ND4J off-heap memory every N steps.")
    static final class Options {
        @Option(names = "--steps", paramLabel = "N", converter = Cli.Positive.class, description = "training steps (5000)")
        int steps = 5000;
        @Option(names = "--every", paramLabel = "N", converter = Cli.Positive.class, description = "steps between samples (500)")
        int every = 500;
    }

    public static void main(String[] args) throws IOException {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        int steps = o.steps;
        int every = o.every;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new AdamWSR(1e-3))
                .weightInit(WeightInit.XAVIER).dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(256).nOut(1024).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(1024).nOut(512).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(512).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Attachment attachment = Bf16Training.attach(net);
        Nd4j.getRandom().setSeed(7);
        DataSet batch = new DataSet(Nd4j.randn(DataType.FLOAT, 64, 256),
                Nd4j.eye(10).getRows(randomLabels(64)).castTo(DataType.FLOAT));
        System.out.printf("soak: %,d parameters, %d steps, sample every %d%n", net.numParams(), steps, every);
        List<long[]> samples = new ArrayList<>();
        for (int step = 1; step <= steps; step++) {
            net.fit(batch);
            if (step % every == 0 || step == steps) {
                long[] s = sample(step);
                samples.add(s);
                System.out.printf("step %6d  rss %7.1f MB  heap %6.1f MB  nd4j off-heap %7.1f MB  score %.4f%n", step,
                        s[1] / 1e6, s[2] / 1e6, s[3] / 1e6, net.score());
            }
        }
        long[] first = samples.get(0);
        long[] last = samples.get(samples.size() - 1);
        // Compare the second half of the run with its middle, after warm-up and JIT: growth there is a leak.
        long[] middle = samples.get(samples.size() / 2);
        System.out.printf("RESULT soak_rss_mb first=%.1f middle=%.1f last=%.1f growth_second_half=%.1f%n",
                first[1] / 1e6, middle[1] / 1e6, last[1] / 1e6, (last[1] - middle[1]) / 1e6);
        System.out.printf("RESULT soak_heap_mb first=%.1f last=%.1f%n", first[2] / 1e6, last[2] / 1e6);
        System.out.printf("RESULT soak_offheap_mb first=%.1f last=%.1f%n", first[3] / 1e6, last[3] / 1e6);
        System.out.printf("RESULT soak_steps=%d skipped=%d weights_off_grid=%d%n", steps, attachment.getSkippedSteps(),
                Bf16Grid.countOffGrid(net));
    }

    private static int[] randomLabels(int n) {
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            labels.add(i % 10);
        }
        Collections.shuffle(labels, new java.util.Random(3));
        return labels.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {step, RSS bytes, used heap bytes, ND4J off-heap bytes}. */
    private static long[] sample(int step) throws IOException {
        System.gc();
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        Runtime rt = Runtime.getRuntime();
        long offHeap = org.bytedeco.javacpp.Pointer.totalBytes();
        return new long[] {step, rss, rt.totalMemory() - rt.freeMemory(), offHeap};
    }
}
