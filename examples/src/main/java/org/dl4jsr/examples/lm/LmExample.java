package org.dl4jsr.examples.lm;

import org.dl4jsr.examples.lm.sweep.LmCharts;
import org.dl4jsr.examples.lm.sweep.LmReport;
import org.dl4jsr.examples.lm.sweep.Progress;
import org.dl4jsr.examples.lm.sweep.SweepResume;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The paper's experiment at laptop scale: a byte-level GPT (token + position embeddings, causal self-attention
 * blocks with layer norm and a GELU MLP, as DL4J layers in a MultiLayerNetwork) trained with the same data order and
 * warm-up + cosine schedule four ways: FP32 (DL4J's Adam with decoupled weight decay), mixed precision (FP32 master
 * weights), vanilla BF16 (round-to-nearest) and BF16 + stochastic rounding. Prints validation perplexity and bits per
 * byte, tokens/s, training-state bytes per parameter and the fraction of stalled updates; writes CSV curves and PNG
 * plots.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@lm} (add {@code -Dargs="--lr-sweep"} or
 * {@code -Dargs="--preset large"}; {@code -Dargs="--seeds 3 --lr-multipliers 0.5,1,2,4"} for mean, spread and paired
 * differences over seeds; {@code -Dargs="--help"} lists the flags).
 */
public final class LmExample {
    private LmExample() {
    }

    public static void main(String[] args) throws IOException {
        int code = execute(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** The command line: 0 after {@code --help} or a completed experiment, 2 for bad flags or input. */
    static int execute(String[] args, PrintStream out, PrintStream err) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (LmConfig.wantsHelp(args)) {
            out.print(LmConfig.usage());
            return 0;
        }
        LmConfig config;
        try {
            config = LmConfig.parse(args);
        } catch (org.dl4jsr.examples.Cli.BadFlagException e) {
            err.println("Error: " + e.getMessage());
            err.print(LmConfig.usage());
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            return 2;
        }
        try {
            run(config, out);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            return 2;
        }
    }

    /** Runs every strategy at every learning-rate multiplier; prints tables, writes CSV and PNG files. */
    static List<LmRun.Result> run(LmConfig c, PrintStream out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        ByteCorpus corpus = ByteCorpus.load(c.corpus);
        corpus.requireLength(c.length);
        List<ByteCorpus.Batch> validation = corpus.validationBatches(c.validationWindows, c.batch, c.length);
        Files.createDirectories(c.out);
        out.println("LM experiment: " + c.describe());
        out.printf(Locale.ROOT, "Corpus %s: %d training bytes, %d validation bytes; %d validation windows of %d bytes%n",
                corpus.name(), corpus.trainBytes(), corpus.validationBytes(),
                validation.stream().mapToLong(b -> b.features().size(0)).sum(), c.length);
        out.printf(Locale.ROOT, "Machine: %d cores, Java %s, ND4J %s, load average %.2f at start%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                Nd4j.getBackend().getClass().getSimpleName(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

        if (c.reportOnly && !c.resume) {
            throw new IllegalArgumentException("--report-only reports the runs recorded in --out: add --resume");
        }
        SweepResume previous = c.resume ? SweepResume.read(c) : SweepResume.none();
        if (c.resume) {
            out.println("Resuming: " + previous.size() + " runs recorded in " + c.out);
        }
        long runsToTrain = (long) c.strategies.size() * c.lrMultipliers.size() * c.seeds - previous.recordedRuns(c);
        Progress progress = new Progress(out, c.steps * runsToTrain, 15);
        long start = System.nanoTime();
        List<LmRun.Result> all = new ArrayList<>();
        // Multiplier, then seed, then strategy: a sweep stopped early still has complete, paired groups. Every file is
        // rewritten after each run, so a partial sweep leaves valid CSV and PNG files.
        for (double multiplier : c.lrMultipliers) {
            double peakLr = c.peakLr * multiplier;
            for (int i = 0; i < c.seeds; i++) {
                long seed = c.seed + i;
                List<LmRun.Result> runs = new ArrayList<>();
                for (PrecisionStrategy s : c.strategies) {
                    Optional<LmRun.Result> earlier = previous.run(s, peakLr, seed);
                    if (earlier.isPresent()) {
                        runs.add(earlier.get());
                        all.add(earlier.get());
                        out.printf(Locale.ROOT, "Reused from %s: %s, peak lr %s, seed %d%n", c.out, s.id(), peakLr, seed);
                        continue;
                    }
                    if (c.reportOnly) {
                        out.printf(Locale.ROOT, "Not trained (--report-only): %s, peak lr %s, seed %d%n", s.id(), peakLr,
                                seed);
                        continue;
                    }
                    LmRun.Result r = LmRun.train(c, corpus, validation, s, peakLr, seed, progress);
                    runs.add(r);
                    // A sweep keeps only the numbers: networks (with their SameDiff graphs) would pile up.
                    all.add(c.seeds > 1 ? r.withoutNet() : r);
                    writeFiles(c, all);
                }
                if (runs.stream().allMatch(r -> previous.run(r.strategy(), peakLr, seed).isPresent())) {
                    continue; // nothing new in this group: its table and charts were printed when it was trained
                }
                LmReport.printTable(out, c, peakLr, runs);
                if (i == 0) { // curves of the first seed only: one pair of charts per learning rate
                    String suffix = c.lrMultipliers.size() > 1 ? String.format(Locale.ROOT, "-lr%sx", trim(multiplier))
                            : "";
                    String title = String.format(Locale.ROOT, "Byte-level GPT, %d params, %d steps, peak lr %s, seed %d",
                            runs.get(0).parameters(), c.steps, peakLr, seed);
                    out.println("Wrote " + LmCharts.validationLoss(c.out.resolve("lm-val-loss" + suffix + ".png"),
                            title, runs));
                    out.println("Wrote " + LmCharts.stalled(c.out.resolve("lm-stalled" + suffix + ".png"), title, runs));
                }
            }
            if (c.seeds > 1) {
                LmReport.printSeedTable(out, c, all, multiplier);
            }
        }
        if (c.seeds > 1 && c.lrMultipliers.size() > 1) {
            LmReport.printSeedTable(out, c, all, Double.NaN);
        }
        writeFiles(c, all); // also when every run was reused (--resume): the files then hold exactly this sweep
        out.println("Wrote " + c.out.resolve(LmReport.CURVES_CSV));
        out.println("Wrote " + c.out.resolve(LmReport.SUMMARY_CSV));
        if (c.seeds > 1) {
            out.println("Wrote " + c.out.resolve(LmReport.SEEDS_CSV));
            out.println("Wrote " + c.out.resolve(LmReport.SEEDS_PNG));
        }
        double meter = all.stream().mapToDouble(LmRun.Result::meterMillisPerStep).average().orElse(0);
        double step = all.stream().filter(r -> !r.diverged()).mapToDouble(r -> r.trainingSeconds() * 1e3 / c.steps).average().orElse(1);
        out.printf(Locale.ROOT, "StagnationMeter overhead: %.2f ms per step of %.0f ms (%.2f%%)%n", meter, step,
                100 * meter / step);
        out.printf(Locale.ROOT, "RESULT lm_total_seconds=%.0f meter_overhead_percent=%.3f%n",
                (System.nanoTime() - start) / 1e9, 100 * meter / step);
        return all;
    }

    /** Rewrites every CSV file (and the seeds chart) with the runs so far. */
    private static void writeFiles(LmConfig c, List<LmRun.Result> all) throws IOException {
        LmReport.writeCurves(c.out, all);
        LmReport.writeSummary(c.out, c, all);
        if (c.seeds > 1) {
            LmReport.writeSeeds(c.out, c, all);
            LmCharts.perplexityVsLearningRate(c.out.resolve(LmReport.SEEDS_PNG), c, all);
        }
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
