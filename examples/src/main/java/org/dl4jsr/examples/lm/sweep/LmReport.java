package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.LmConfig;
import org.dl4jsr.examples.lm.LmRun;
import org.dl4jsr.examples.lm.PrecisionStrategy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The results table, the {@code RESULT} lines and the CSV files of the LM experiment. */
public final class LmReport {
    public static final String CURVES_CSV = "lm-curves.csv";
    public static final String SUMMARY_CSV = "lm-summary.csv";
    public static final String SEEDS_CSV = "lm-seeds.csv";
    public static final String SEEDS_PNG = "lm-seeds-ppl-vs-lr.png";

    private LmReport() {
    }

    /** Prints the table and RESULT lines of the runs at one peak learning rate. */
    public static void printTable(PrintStream out, LmConfig c, double peakLr, List<LmRun.Result> runs) {
        LmRun.Result fp32 = reference(runs);
        out.printf(Locale.ROOT, "%nValidation after %d steps, peak learning rate %s (%d parameters):%n", c.steps,
                peakLr, runs.get(0).parameters());
        out.printf(Locale.ROOT, "%-21s %9s %9s %9s %8s %9s %13s %8s%n", "strategy", "val loss", "ppl/byte",
                "bits/byte", "vs FP32", "tokens/s", "state B/param", "stalled");
        for (LmRun.Result r : runs) {
            if (r.diverged()) {
                out.printf(Locale.ROOT, "%-21s diverged at step %d%n", r.strategy().label(), r.divergedAtStep());
                continue;
            }
            out.printf(Locale.ROOT, "%-21s %9.4f %9.4f %9.4f %8s %9.0f %13.1f %7.1f%%%n", r.strategy().label(),
                    r.validationLoss(), r.perplexity(), r.bitsPerByte(), versusFp32(r, fp32), r.tokensPerSecond(),
                    r.bytesPerParameter(), 100 * r.stalledFraction());
        }
        out.println("(ppl/byte = exp(val loss); vs FP32 = relative perplexity difference; state = params + gradients"
                + " + updater state as stored; stalled = updates below half a BF16 step of their weight in the last "
                + c.evalEvery + " steps)");
        for (LmRun.Result r : runs) {
            out.printf(Locale.ROOT, "RESULT lm strategy=%s peak_lr=%s seed=%d steps=%d val_loss=%.4f ppl=%.4f bpb=%.4f"
                            + " ppl_vs_fp32=%s tokens_per_s=%.0f bytes_per_param=%.1f stalled=%.4f off_grid=%d"
                            + " diverged_at_step=%d%n",
                    r.strategy().id(), peakLr, r.seed(), c.steps, r.validationLoss(), r.perplexity(), r.bitsPerByte(),
                    versusFp32(r, fp32), r.tokensPerSecond(), r.bytesPerParameter(), r.stalledFraction(),
                    r.offGridWeights(), r.divergedAtStep());
        }
    }

    public static LmRun.Result reference(List<LmRun.Result> runs) {
        return runs.stream().filter(r -> r.strategy() == PrecisionStrategy.FP32).findFirst().orElse(null);
    }

    private static String versusFp32(LmRun.Result r, LmRun.Result fp32) {
        if (fp32 == null || r == fp32 || r.diverged() || fp32.diverged()) {
            return "-";
        }
        return String.format(Locale.ROOT, "%+.2f%%", 100 * (r.perplexity() / fp32.perplexity() - 1));
    }

    /** lm-curves.csv: one row per evaluation point of every run (a diverged run ends with its diverging step). */
    public static Path writeCurves(Path dir, List<LmRun.Result> runs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("peak_lr,strategy,step,lr,train_loss,val_loss,val_bits_per_byte,stalled_fraction,relative_update,seed");
        for (LmRun.Result r : runs) {
            for (LmRun.Point p : r.curve()) {
                lines.add(String.format(Locale.ROOT, "%s,%s,%d,%.6g,%s,%s,%s,%s,%s,%d", r.peakLr(), r.strategy().id(),
                        p.step(), p.learningRate(), number(p.trainLoss()), number(p.validationLoss()),
                        number(p.validationLoss() / Math.log(2)), number(p.stalledFraction()),
                        number(p.relativeUpdate()), r.seed()));
            }
        }
        return write(dir.resolve(CURVES_CSV), lines);
    }

    /**
     * lm-summary.csv: one row per run; {@code diverged_at_step} is 0 for a run that finished (its loss columns are
     * empty otherwise).
     */
    public static Path writeSummary(Path dir, LmConfig c, List<LmRun.Result> runs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("peak_lr,strategy,steps,val_loss,perplexity,bits_per_byte,tokens_per_s,bytes_per_param,"
                + "stalled_fraction,off_grid_weights,meter_ms_per_step,training_seconds,lr_multiplier,seed,"
                + "diverged_at_step");
        for (LmRun.Result r : runs) {
            lines.add(String.format(Locale.ROOT, "%s,%s,%d,%s,%s,%s,%.1f,%.2f,%s,%d,%.3f,%.1f,%s,%d,%d", r.peakLr(),
                    r.strategy().id(), r.curve().get(r.curve().size() - 1).step(), number(r.validationLoss()),
                    number(r.perplexity()), number(r.bitsPerByte()), r.tokensPerSecond(), r.bytesPerParameter(),
                    number(r.stalledFraction()), r.offGridWeights(), r.meterMillisPerStep(), r.trainingSeconds(),
                    multiplier(c, r), r.seed(), r.divergedAtStep()));
        }
        return write(dir.resolve(SUMMARY_CSV), lines);
    }

    /** The runs as the seed aggregation sees them. */
    public static List<SeedStats.Run> seedRuns(LmConfig c, List<LmRun.Result> runs) {
        return runs.stream().map(r -> new SeedStats.Run(multiplier(c, r), r.strategy(), r.seed(), r.perplexity(),
                r.diverged())).toList();
    }

    /** lm-seeds.csv: per multiplier and strategy, mean and spread over seeds and the paired difference from FP32. */
    public static Path writeSeeds(Path dir, LmConfig c, List<LmRun.Result> runs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# " + c.describe());
        lines.add("# diff = 100 (ppl / ppl_fp32 - 1) per seed; exceeds_seed_spread: |diff_mean| > t(0.975, pairs-1)"
                + " * diff_se (paired t-test, 95%, two-sided)");
        lines.add("lr_multiplier,peak_lr,strategy,runs,diverged,ppl_mean,ppl_sd,pairs,diff_vs_fp32_pct_mean,"
                + "diff_vs_fp32_pct_sd,diff_vs_fp32_pct_se,t_crit,exceeds_seed_spread");
        for (SeedStats.Cell x : SeedStats.aggregate(seedRuns(c, runs))) {
            lines.add(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%s,%s,%d,%s,%s,%s,%s,%s", x.multiplier(),
                    c.peakLr * x.multiplier(), x.strategy().id(), x.runs(), x.diverged(), number(x.meanPerplexity()),
                    number(x.sdPerplexity()), x.pairs(), number(x.meanDiffPercent()), number(x.sdDiffPercent()),
                    number(x.seDiffPercent()), number(x.tCritical()),
                    x.pairs() >= 2 ? Boolean.toString(x.exceedsSpread()) : ""));
        }
        return write(dir.resolve(SEEDS_CSV), lines);
    }

    /** The seed table of one multiplier (or of all when {@code onlyMultiplier} is NaN), with RESULT lines. */
    public static void printSeedTable(PrintStream out, LmConfig c, List<LmRun.Result> runs, double onlyMultiplier) {
        out.printf(Locale.ROOT, "%nValidation perplexity/byte over seeds (%d steps; mean +- sd over finished runs; vs FP32"
                + " = per-seed difference, mean +- sd; * = exceeds the seed spread: |mean| > t(0.975, k-1) * sd/sqrt(k),"
                + " paired t-test over k seeds):%n", c.steps);
        out.printf(Locale.ROOT, "%-6s %-9s %-21s %5s %20s %24s%n", "lr x", "peak lr", "strategy", "runs", "perplexity",
                "vs FP32 (%)");
        for (SeedStats.Cell x : SeedStats.aggregate(seedRuns(c, runs))) {
            if (!Double.isNaN(onlyMultiplier) && x.multiplier() != onlyMultiplier) {
                continue;
            }
            String runsText = x.diverged() > 0 ? x.runs() + " (" + x.diverged() + " diverged)" : Integer.toString(x.runs());
            String ppl = x.finished() == 0 ? "diverged"
                    : String.format(Locale.ROOT, "%.4f +- %s", x.meanPerplexity(), fixed(x.sdPerplexity(), 4));
            String diff = x.strategy() == PrecisionStrategy.FP32 || x.pairs() == 0 ? "-"
                    : String.format(Locale.ROOT, "%+.2f +- %s%s (k=%d)", x.meanDiffPercent(), fixed(x.sdDiffPercent(), 2),
                    x.exceedsSpread() ? " *" : "  ", x.pairs());
            out.printf(Locale.ROOT, "%-6s %-9s %-21s %5s %20s %24s%n", x.multiplier(), c.peakLr * x.multiplier(),
                    x.strategy().label(), runsText, ppl, diff);
        }
        for (SeedStats.Cell x : SeedStats.aggregate(seedRuns(c, runs))) {
            if (Double.isNaN(onlyMultiplier) || x.multiplier() != onlyMultiplier) {
                continue;
            }
            out.printf(Locale.ROOT, "RESULT lm_seeds lr_multiplier=%s strategy=%s runs=%d diverged=%d ppl_mean=%s ppl_sd=%s"
                            + " diff_vs_fp32_pct=%s diff_sd_pct=%s pairs=%d exceeds_seed_spread=%s%n", x.multiplier(),
                    x.strategy().id(), x.runs(), x.diverged(), number(x.meanPerplexity()), number(x.sdPerplexity()),
                    number(x.meanDiffPercent()), number(x.sdDiffPercent()), x.pairs(),
                    x.pairs() >= 2 ? x.exceedsSpread() : "n/a");
        }
    }

    /** The configured multiplier of a run (looked up, not divided, so that 0.1 stays 0.1 in the tables). */
    public static double multiplier(LmConfig c, LmRun.Result r) {
        double best = r.peakLr() / c.peakLr;
        for (double m : c.lrMultipliers) {
            if (Math.abs(m * c.peakLr - r.peakLr()) <= 1e-12 * r.peakLr()) {
                best = m;
            }
        }
        return best;
    }

    private static String fixed(double v, int decimals) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static Path write(Path file, List<String> lines) throws IOException {
        // Write then move, so that a reader (or a sweep stopped mid-write) never sees half a file.
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines);
        return Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
    }
}
