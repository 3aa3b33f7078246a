package org.dl4jsr.examples.parallel;

import org.dl4jsr.examples.TeacherProblem;
import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.diagnostics.TrainingMemory;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.averaging.AveragingPhases;
import org.dl4jsr.parallel.Bf16TrainerContext;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * DL4J's own ParallelWrapper (FP32 Adam, ND4J averaging) against the same wrapper with the plugin
 * ({@code Bf16ParallelWrapper.attach}, AdamWSR: BF16 weights and moments, the plugin's averaging), in one run, on one
 * MLP and the same synthetic minibatches: samples/s with 1 and 2 workers in AVERAGING mode (and 2 workers in
 * SHARED_GRADIENTS), single-machine {@code fit} as the reference, the averaging cost per round, and training memory per
 * replica. Each measurement is the median of {@code --reps} fits of {@code --batches} minibatches after one warm-up fit;
 * every fit uses a new network and wrapper (DL4J's own SHARED_GRADIENTS can hang from a wrapper's second fit on, see
 * {@link SharedGradientsHangProbe}).
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@parallel-bench} (optionally
 * {@code -Dargs="--hidden 1024 --batch 128 --batches 24 --reps 5 --frequency 4"}). Headline lines start with RESULT.
 */
public final class ParallelWrapperBenchmark {
    private static final int FEATURES = 256;
    private static final int CLASSES = 10;

    private ParallelWrapperBenchmark() {
    }

    @Command(name = "parallel-bench", mixinStandardHelpOptions = true,
            description = "ParallelWrapper throughput and averaging cost, DL4J's FP32 Adam against AdamWSR.")
    static final class Options {
        @Option(names = "--hidden", paramLabel = "N", converter = Cli.Positive.class, description = "hidden width")
        int hidden = 1024;
        @Option(names = "--batch", paramLabel = "N", converter = Cli.Positive.class, description = "minibatch size")
        int batch = 128;
        @Option(names = "--batches", paramLabel = "N", converter = Cli.Positive.class, description = "minibatches per fit")
        int batches = 24;
        @Option(names = "--reps", paramLabel = "N", converter = Cli.Positive.class, description = "timed fits (median)")
        int reps = 5;
        @Option(names = "--frequency", paramLabel = "N", converter = Cli.Positive.class,
                description = "minibatches per worker between averaging rounds")
        int frequency = 4;
    }

    public static void main(String[] args) {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        run(o.hidden, o.batch, o.batches, o.reps, o.frequency);
        System.exit(0); // hung DL4J fits (if any) leave threads behind
    }

    private static void run(int hidden, int batch, int batches, int reps, int frequency) {
        List<DataSet> data = data(batches, batch);
        System.out.printf(Locale.ROOT, "MLP %d-%d-%d-%d (%d parameters), minibatch %d, %d minibatches per fit,"
                        + " averaging every %d minibatches per worker, %d cores, ND4J devices %d%n", FEATURES, hidden,
                hidden, CLASSES, mlp(new Adam(1e-3), hidden).numParams(), batch, batches, frequency,
                Runtime.getRuntime().availableProcessors(), Nd4j.getAffinityManager().getNumberOfDevices());

        for (String updater : new String[] {"dl4j_fp32_adam", "plugin_adamwsr"}) {
            currentRun = updater + "/single_machine";
            double single = median(reps, () -> {
                MultiLayerNetwork net = net(updater, hidden);
                return () -> {
                    for (DataSet d : data) {
                        net.fit(d);
                    }
                };
            });
            report(updater, "single_machine", 1, single, batches * batch);
            for (int workers : new int[] {1, 2}) {
                int w = workers;
                Bf16TrainerContext[] ctx = new Bf16TrainerContext[1];
                currentRun = updater + "/averaging/workers=" + w;
                double t = median(reps, () -> {
                    MultiLayerNetwork net = net(updater, hidden);
                    ParallelWrapper pw = wrapper(net, w, frequency, ParallelWrapper.TrainingMode.AVERAGING);
                    if (updater.startsWith("plugin")) {
                        ctx[0] = Bf16ParallelWrapper.attach(pw);
                    }
                    return () -> pw.fit(new ListDataSetIterator<>(data, 1));
                });
                report(updater, "averaging", workers, t, batches * batch);
                if (ctx[0] != null) {
                    System.out.printf(Locale.ROOT, "RESULT parallel_averaging_cost updater=%s workers=%d"
                                    + " ms_per_round=%.2f rounds=%d%n", updater, workers,
                            ctx[0].getAveragingNanos() / 1e6 / ctx[0].getAveragingRounds(), ctx[0].getAveragingRounds());
                    AveragingPhases p = ctx[0].getAveragingPhases();
                    double rounds = Math.max(1, ctx[0].getAveragingRounds());
                    System.out.printf(Locale.ROOT, "RESULT parallel_averaging_phases updater=%s workers=%d"
                                    + " read_ms=%.2f check_ms=%.2f average_ms=%.2f write_ms=%.2f (per round, last"
                                    + " fit; average: sum, divide and round in one pass)%n",
                            updater, workers, p.readNanos() / 1e6 / rounds, p.checkNanos() / 1e6 / rounds,
                            p.averageNanos() / 1e6 / rounds, p.writeNanos() / 1e6 / rounds);
                }
            }
            currentRun = updater + "/shared_gradients/workers=2";
            double shared = median(reps, () -> {
                MultiLayerNetwork net = net(updater, hidden);
                // frequency: how often the plugin checks that the replicas are still identical
                ParallelWrapper pw = wrapper(net, 2, frequency, ParallelWrapper.TrainingMode.SHARED_GRADIENTS);
                if (updater.startsWith("plugin")) {
                    Bf16ParallelWrapper.attach(pw);
                }
                return () -> pw.fit(new ListDataSetIterator<>(data, 1));
            });
            report(updater, "shared_gradients", 2, shared, batches * batch);
            TrainingMemory mem = TrainingMemory.of(net(updater, hidden));
            System.out.printf(Locale.ROOT, "RESULT parallel_memory_per_replica updater=%s bytes_per_param=%.1f"
                    + " (params+gradients+updater state; every replica holds one such copy)%n", updater,
                    mem.bytesPerParameter());
        }
        dl4jAveragingCost(hidden, reps);
    }

    /** What ND4J's averageAndPropagate (DL4J's averaging) costs per round for 2 replicas of this MLP. */
    private static void dl4jAveragingCost(int hidden, int reps) {
        MultiLayerNetwork a = net("dl4j_fp32_adam", hidden);
        MultiLayerNetwork b = net("dl4j_fp32_adam", hidden);
        a.fit(data(1, 8).get(0));
        b.fit(data(1, 8).get(0));
        currentRun = "dl4j_averaging_cost";
        double t = median(reps * 4, () -> () -> {
            Nd4j.averageAndPropagate(null, Arrays.asList(a.params(), b.params()));
            Nd4j.averageAndPropagate(null, Arrays.asList(a.getUpdater().getStateViewArray(),
                    b.getUpdater().getStateViewArray()));
            Nd4j.getExecutioner().commit();
        });
        System.out.printf(Locale.ROOT, "RESULT parallel_averaging_cost updater=dl4j_fp32_adam workers=2"
                + " ms_per_round=%.2f (ND4J averageAndPropagate of params and updater state)%n", t * 1e3);
    }

    private static ParallelWrapper wrapper(MultiLayerNetwork net, int workers, int frequency,
                                           ParallelWrapper.TrainingMode mode) {
        ParallelWrapper.Builder<MultiLayerNetwork> b = new ParallelWrapper.Builder<>(net);
        b.averagingFrequency(frequency); // DL4J's builder methods return the raw type: no chaining
        b.prefetchBuffer(4);
        b.trainingMode(mode);
        if (workers > 1) {
            b.workers(workers); // the builder refuses workers(1); its default is the number of devices (1 on CPU)
        } else if (Nd4j.getAffinityManager().getNumberOfDevices() != 1) {
            throw new IllegalStateException("1-worker runs need a backend with one device");
        }
        return b.build();
    }

    private static void report(String updater, String mode, int workers, double seconds, int samples) {
        System.out.printf(Locale.ROOT, "RESULT parallel_throughput updater=%s mode=%s workers=%d samples_per_s=%s%n",
                updater, mode, workers, Double.isNaN(seconds) ? "n/a (every fit hung)"
                        : String.format(Locale.ROOT, "%.0f", samples / seconds));
    }

    /** Seconds after which a fit counts as hung (DL4J's own SHARED_GRADIENTS can deadlock, see the README). */
    private static final long TIMEOUT_S = 120; // a fit of the default job takes a few seconds

    /**
     * Builds a fresh setup, runs it once to warm up, then times {@code reps} runs of fresh setups; median seconds of
     * the runs that finished. Every run has a watchdog: a run still going after {@link #TIMEOUT_S} is counted as hung
     * (its daemon threads are abandoned) and reported; NaN if every run hung.
     */
    private static double median(int reps, Setup setup) {
        int hung = timed(setup.create()) < 0 ? 1 : 0;
        List<Double> t = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            double s = timed(setup.create());
            if (s < 0) {
                hung++;
            } else {
                t.add(s);
            }
        }
        if (hung > 0) {
            System.out.printf(Locale.ROOT, "RESULT parallel_hung_fits run=%s hung=%d of %d (timeout %d s)%n",
                    currentRun, hung, reps + 1, TIMEOUT_S);
        }
        if (t.isEmpty()) {
            return Double.NaN;
        }
        t.sort(null);
        return t.get(t.size() / 2);
    }

    /** Label of the configuration being measured, for the hang report. */
    private static String currentRun = "";

    /** Seconds {@code run} took, or -1 if it did not finish within {@link #TIMEOUT_S} (or the given timeout). */
    private static double timed(Runnable run) {
        return timed(run, TIMEOUT_S);
    }

    private static double timed(Runnable run, long timeoutSeconds) {
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                run.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "benchmark-run");
        t.setDaemon(true);
        long start = System.nanoTime();
        t.start();
        try {
            t.join(timeoutSeconds * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (t.isAlive()) {
            // what the wrapper's threads are doing, to tell a deadlock from a slow fit
            for (java.util.Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                String name = e.getKey().getName();
                if (name.startsWith("ParallelWrapper") || name.equals("benchmark-run")) {
                    System.out.println("Thread " + name + " " + e.getKey().getState());
                    for (int i = 0; i < Math.min(8, e.getValue().length); i++) {
                        System.out.println("    at " + e.getValue()[i]);
                    }
                }
            }
            return -1;
        }
        if (failure[0] != null) {
            throw new IllegalStateException("Benchmark run failed", failure[0]);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    @FunctionalInterface
    private interface Setup {
        Runnable create();
    }

    private static MultiLayerNetwork net(String updater, int hidden) {
        boolean plugin = updater.startsWith("plugin");
        MultiLayerNetwork net = mlp(plugin ? AdamWSR.builder().learningRate(1e-3).compactState(true).build()
                : new Adam(1e-3), hidden);
        if (plugin) {
            Bf16Training.attach(net);
        }
        return net;
    }

    private static MultiLayerNetwork mlp(IUpdater updater, int hidden) {
        return TeacherProblem.mlp(updater, FEATURES, hidden, CLASSES, Activation.GELU);
    }

    /** Synthetic classification data: labels from a fixed random linear map, so the task is learnable. */
    private static List<DataSet> data(int batches, int batch) {
        return TeacherProblem.minibatches(42, FEATURES, CLASSES, batches, batch);
    }
}
