package org.dl4jsr.examples.bench;

import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.StepFunction;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The worst-case cost of leaving a {@link StagnationMeter} on: an optimizer step of AdamW-SR on n parameters (what
 * DL4J does after backprop) with and without the meter. With the meter, the step takes AdamW-SR's unfused route (the
 * update is written to the gradient array, then applied) and the meter copies the weights before and reads weights and
 * update after. Forward and backward passes, which dominate real training, are not included; see the LM example for
 * the overhead relative to a whole training step.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@meter-bench} (optionally
 * {@code -Dargs="--sizes 1000000,10000000 --reps 21 --threads 2"}).
 */
public final class StagnationMeterBenchmark {
    private static final int WARMUP = 8;
    private static final long WARMUP_NANOS = 2_000_000_000L;

    private StagnationMeterBenchmark() {
    }

    @Command(name = "meter-bench", mixinStandardHelpOptions = true,
            description = "AdamW-SR's optimizer step with and without the StagnationMeter.")
    static final class Options {
        @Option(names = "--sizes", paramLabel = "N", split = ",", converter = Cli.PositiveLong.class,
                description = "parameter counts, comma-separated")
        long[] sizes = {1_000_000, 10_000_000};
        @Option(names = "--reps", paramLabel = "R", converter = Cli.Positive.class, description = "timed runs (median)")
        int reps = 15;
        @Option(names = "--threads", paramLabel = "T", converter = Cli.Positive.class, description = "ND4J and kernel threads")
        int threads = 2;
    }

    public static void main(String[] args) {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        long[] sizes = o.sizes;
        int reps = o.reps;
        int threads = o.threads;
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        System.out.printf(Locale.ROOT, "AdamW-SR optimizer step with and without StagnationMeter, %d threads, median of"
                + " %d runs%n", threads, reps);
        System.out.printf(Locale.ROOT, "%12s %14s %16s %18s %18s%n", "params", "step ns/param", "+meter ns/param",
                "of which callbacks", "of which unfused");
        for (long n : sizes) {
            double plain = medianNs(n, reps, threads, false)[0] / n;
            double[] metered = medianNs(n, reps, threads, true);
            double total = metered[0] / n;
            double callbacks = metered[1] / n;
            double unfused = total - plain - callbacks;
            System.out.printf(Locale.ROOT, "%12d %14.3f %16.3f %18.3f %18.3f%n", n, plain, total, callbacks, unfused);
            System.out.printf(Locale.ROOT, "RESULT meter_step params=%d threads=%d step_ns=%.3f with_meter_ns=%.3f"
                    + " meter_callbacks_ns=%.3f unfused_route_ns=%.3f%n", n, threads, plain, total, callbacks, unfused);
        }
    }

    /** Median time of a step and the median time of the meter's callbacks in it (0 without the meter). */
    private static double[] medianNs(long n, int reps, int threads, boolean withMeter) {
        long nIn = 1000;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(AdamWSR.builder().learningRate(1e-3).weightDecay(1e-4).build()).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(nIn).nOut(n / nIn).hasBias(false)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net, Bf16Options.builder().threads(threads).build());
        StagnationMeter meter = StagnationMeter.builder().logEvery(Integer.MAX_VALUE).build();
        GradientUpdater<?> updater = ((UpdaterBlock) ((BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks()
                .get(0)).getGradientUpdater();
        StepFunction step = net.getOptimizer().getStepFunction();
        INDArray params = net.params();
        INDArray gradient = net.getGradientsViewArray().reshape(params.length());
        INDArray freshGradient = Nd4j.randn(DataType.FLOAT, gradient.shape()).muli(1e-3);
        long[] times = new long[reps];
        long[] meterTimes = new long[reps];
        long warmupEnd = System.nanoTime() + WARMUP_NANOS;
        for (int r = -WARMUP; r < reps; r++) {
            if (r == -1 && System.nanoTime() < warmupEnd) {
                r = -2;
            }
            gradient.assign(freshGradient); // as after backprop (not timed)
            int iteration = Math.max(r, 0);
            long meter0 = meter.getOverheadNanos();
            long t0 = System.nanoTime();
            if (withMeter) {
                meter.onGradientCalculation(net);
            }
            updater.applyUpdater(gradient, iteration, 0);
            step.step(params, gradient);
            if (withMeter) {
                meter.iterationDone(net, iteration, 0);
            }
            if (r >= 0) {
                times[r] = System.nanoTime() - t0;
                meterTimes[r] = meter.getOverheadNanos() - meter0;
            }
        }
        Arrays.sort(times);
        Arrays.sort(meterTimes);
        return new double[] {times[reps / 2], meterTimes[reps / 2]};
    }
}
