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
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.kernel.HostKernels;
import org.dl4jsr.kernel.ParallelRunner;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The optimizer step of a FLOAT network, measured the way DL4J runs it: the updater turns the gradient into the
 * update ({@code GradientUpdater.applyUpdater}), then the optimizer's step function applies it. DL4J's built-in Adam
 * ({@code adam_updater} op + {@code params.subi}) against AdamWSR attached with the plugin (one fused pass that also
 * checks the gradient for NaN/Inf; plain, compact state, and compact state with KAHAN weights), in the same JVM, with a memory-copy bandwidth figure taken in the same run.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@bench} (optionally
 * {@code -Dargs="--sizes 1000000,10000000 --reps 21 --threads 2"}). Prints medians; headline lines start with RESULT.
 */
public final class UpdateStepBenchmark {
    /** Bytes moved per parameter: Adam reads g,m,v and writes u,m,v (24), then subi reads x,u and writes x (12). */
    private static final int DL4J_ADAM_BYTES = 36;
    /** Fused AdamW-SR: finite check reads g (4); the pass reads g,m,v,x (16) and writes m,v,x (12). */
    private static final int ADAMW_SR_BYTES = 32;
    /** Compact state: m and v share one 32-bit slot, so 4 bytes less read and written. */
    private static final int ADAMW_SR_COMPACT_BYTES = 24;
    /** Compact state with KAHAN weights: the packed BF16 compensation is read and written too (2 + 2). */
    private static final int ADAMW_KAHAN_COMPACT_BYTES = 28;

    /** Untimed runs first (at least this many, and at least WARMUP_NANOS): JIT compilation, first-use costs. */
    private static final int WARMUP = 8;
    private static final long WARMUP_NANOS = 2_000_000_000L;

    private UpdateStepBenchmark() {
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "The optimizer step: DL4J's Adam against AdamW-SR, with a memory-copy figure.")
    static final class Options {
        @Option(names = "--sizes", paramLabel = "N", split = ",", converter = Cli.PositiveLong.class,
                description = "parameter counts, comma-separated")
        long[] sizes = {1_000_000, 10_000_000, 50_000_000};
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
        System.out.printf(Locale.ROOT, "Update step, FLOAT network, %d threads, median of %d runs (ND4J backend %s)%n",
                threads, reps, Nd4j.getBackend().getClass().getSimpleName());
        System.out.printf(Locale.ROOT, "%12s %10s %14s %14s %14s %14s %9s %9s %9s%n", "params", "copy GB/s",
                "DL4J Adam ns/p", "AdamW-SR ns/p", "compact ns/p", "Kahan ns/p", "speedup", "compact", "Kahan");
        for (long n : sizes) {
            double copyGbps = copyBandwidth(n, reps);
            double adam = medianStepNs(new Adam(1e-3), n, reps, threads);
            double sr = medianStepNs(AdamWSR.builder().learningRate(1e-3).weightDecay(1e-4).build(), n, reps, threads);
            double compact = medianStepNs(AdamWSR.builder().learningRate(1e-3).weightDecay(1e-4).compactState(true)
                    .build(), n, reps, threads);
            // Kahan as the LM example's bf16-kahan runs it: compact SR moments, weights compensated
            double kahan = medianStepNs(AdamWSR.builder().learningRate(1e-3).weightDecay(1e-4).compactState(true)
                    .weightRounding(Rounding.KAHAN).build(), n, reps, threads);
            double perParam = 1.0 / n;
            System.out.printf(Locale.ROOT, "%12d %10.1f %14.3f %14.3f %14.3f %14.3f %8.2fx %8.2fx %8.2fx%n", n,
                    copyGbps, adam * perParam, sr * perParam, compact * perParam, kahan * perParam, adam / sr,
                    adam / compact, adam / kahan);
            System.out.printf(Locale.ROOT, "RESULT update_step params=%d threads=%d dl4j_adam_ns=%.3f adamw_sr_ns=%.3f"
                            + " adamw_sr_compact_ns=%.3f adamw_kahan_compact_ns=%.3f speedup=%.2f speedup_compact=%.2f"
                            + " speedup_kahan=%.2f dl4j_adam_gbps=%.1f adamw_sr_gbps=%.1f adamw_sr_compact_gbps=%.1f"
                            + " adamw_kahan_compact_gbps=%.1f copy_gbps=%.1f%n",
                    n, threads, adam * perParam, sr * perParam, compact * perParam, kahan * perParam, adam / sr,
                    adam / compact, adam / kahan, DL4J_ADAM_BYTES * n / adam, ADAMW_SR_BYTES * n / sr,
                    ADAMW_SR_COMPACT_BYTES * n / compact, ADAMW_KAHAN_COMPACT_BYTES * n / kahan, copyGbps);
        }
        long srN = 10_000_000;
        double srMs = medianStochasticRoundingNs(srN, reps, threads) / 1e6;
        System.out.printf(Locale.ROOT, "Stochastic rounding alone, %d FP32 values in place: %.2f ms%n", srN, srMs);
        System.out.printf(Locale.ROOT, "RESULT sr_round params=%d threads=%d ms=%.2f ns=%.3f%n", srN, threads, srMs,
                srMs * 1e6 / srN);
    }

    /** A FLOAT network with exactly n weights in one updater block (one output layer, no bias). */
    private static MultiLayerNetwork network(IUpdater updater, long n) {
        long nIn = 1000;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(updater)
                .dataType(DataType.FLOAT).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(nIn).nOut(n / nIn).hasBias(false)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static double medianStepNs(IUpdater updater, long n, int reps, int threads) {
        MultiLayerNetwork net = network(updater, n);
        if (updater instanceof AdamWSR) {
            Bf16Training.attach(net, Bf16Options.builder().threads(threads).build());
        }
        GradientUpdater<?> gradientUpdater = ((UpdaterBlock) ((BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks()
                .get(0)).getGradientUpdater();
        StepFunction step = net.getOptimizer().getStepFunction();
        INDArray params = net.params();
        INDArray gradient = net.getGradientsViewArray().reshape(params.length()); // as StochasticGradientDescent does
        INDArray freshGradient = Nd4j.randn(DataType.FLOAT, gradient.shape()).muli(1e-3);
        long[] times = new long[reps];
        long warmupEnd = System.nanoTime() + WARMUP_NANOS;
        for (int r = -WARMUP; r < reps; r++) {
            if (r == -1 && System.nanoTime() < warmupEnd) {
                r = -2; // keep warming up
            }
            gradient.assign(freshGradient); // each step starts from a gradient, as after backprop (not timed)
            long t0 = System.nanoTime();
            gradientUpdater.applyUpdater(gradient, Math.max(r, 0), 0);
            step.step(params, gradient);
            if (r >= 0) {
                times[r] = System.nanoTime() - t0;
            }
        }
        return median(times);
    }

    private static double copyBandwidth(long n, int reps) {
        INDArray src = Nd4j.rand(DataType.FLOAT, n);
        INDArray dst = Nd4j.create(DataType.FLOAT, n);
        long[] times = new long[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            dst.assign(src);
            times[r] = System.nanoTime() - t0;
        }
        return 8.0 * n / median(times); // bytes read + written per ns = GB/s
    }

    private static double medianStochasticRoundingNs(long n, int reps, int threads) {
        HostKernels kernels = new HostKernels(ParallelRunner.shared(threads));
        INDArray values = Nd4j.rand(DataType.FLOAT, n);
        long[] times = new long[reps];
        long warmupEnd = System.nanoTime() + WARMUP_NANOS;
        for (int r = -WARMUP; r < reps; r++) {
            if (r == -1 && System.nanoTime() < warmupEnd) {
                r = -2;
            }
            long t0 = System.nanoTime();
            kernels.round(values, 0, values, 0, n, Rounding.STOCHASTIC, CounterRng.key(1, r, 0), 0);
            if (r >= 0) {
                times[r] = System.nanoTime() - t0;
            }
        }
        return median(times);
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2.0;
    }
}
