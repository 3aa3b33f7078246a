package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.LmConfig;
import org.dl4jsr.examples.lm.LmRun;
import org.dl4jsr.examples.lm.PrecisionStrategy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Mean and spread over seeds of the LM runs, per learning-rate multiplier and strategy, and each strategy's difference
 * from FP32 paired by seed.
 *
 * <p>Why paired: every strategy trained with one seed starts from the same weights and sees the same batches, so
 * much of the seed-to-seed variation is shared; the per-seed difference {@code d = 100 (ppl / ppl_FP32 - 1)} removes
 * it. A difference "exceeds the seed spread" when a two-sided paired t-test rejects zero at 95%:
 * {@code |mean d| > t(0.975, k - 1) * sd(d) / sqrt(k)} over the k seeds where both runs finished (k >= 2). With few
 * seeds the t quantile is large (12.7 for 2 seeds, 4.30 for 3, 3.18 for 4), so the test is strict, not lenient.
 */
public final class SeedStats {
    /** A run reduced to what the aggregation needs; {@code perplexity} is NaN for a diverged run. */
    public record Run(double multiplier, PrecisionStrategy strategy, long seed, double perplexity, boolean diverged) {
    }

    /**
     * One cell of the table. Perplexity mean and sd over the runs that finished ({@code finished} of {@code runs});
     * the paired difference from FP32 in percent over {@code pairs} seeds (NaN when there are none; sd and
     * standard error NaN below 2 pairs).
     */
    public record Cell(double multiplier, PrecisionStrategy strategy, int runs, int diverged, double meanPerplexity,
                double sdPerplexity, int pairs, double meanDiffPercent, double sdDiffPercent, double seDiffPercent,
                double tCritical, boolean exceedsSpread) {
        int finished() {
            return runs - diverged;
        }

        /** Half-width of the 95% confidence interval of the mean paired difference (NaN below 2 pairs). */
        double ciHalfWidthPercent() {
            return tCritical * seDiffPercent;
        }
    }

    private SeedStats() {
    }

    /** Cells ordered by multiplier, then by strategy (declaration order). */
    public static List<Cell> aggregate(List<Run> runs) {
        Map<Double, Map<PrecisionStrategy, List<Run>>> byMultiplier = new TreeMap<>();
        for (Run r : runs) {
            byMultiplier.computeIfAbsent(r.multiplier(), m -> new TreeMap<>())
                    .computeIfAbsent(r.strategy(), s -> new ArrayList<>()).add(r);
        }
        List<Cell> cells = new ArrayList<>();
        for (var entry : byMultiplier.entrySet()) {
            Map<Long, Double> fp32 = finishedBySeed(entry.getValue().getOrDefault(PrecisionStrategy.FP32, List.of()));
            for (var group : entry.getValue().entrySet()) {
                cells.add(cell(entry.getKey(), group.getKey(), group.getValue(),
                        group.getKey() == PrecisionStrategy.FP32 ? Map.of() : fp32));
            }
        }
        return cells;
    }

    private static Cell cell(double multiplier, PrecisionStrategy strategy, List<Run> runs, Map<Long, Double> fp32) {
        Map<Long, Double> finished = finishedBySeed(runs);
        List<Double> ppl = new ArrayList<>(finished.values());
        List<Double> diffs = new ArrayList<>();
        for (var e : finished.entrySet()) {
            Double reference = fp32.get(e.getKey());
            if (reference != null) {
                diffs.add(100 * (e.getValue() / reference - 1));
            }
        }
        int k = diffs.size();
        double meanDiff = mean(diffs);
        double sdDiff = sd(diffs);
        double se = sdDiff / Math.sqrt(k);
        double t = k >= 2 ? tQuantile975(k - 1) : Double.NaN;
        boolean exceeds = k >= 2 && Math.abs(meanDiff) > t * se;
        return new Cell(multiplier, strategy, runs.size(), runs.size() - finished.size(), mean(ppl), sd(ppl), k,
                meanDiff, sdDiff, k >= 2 ? se : Double.NaN, t, exceeds);
    }

    private static Map<Long, Double> finishedBySeed(List<Run> runs) {
        Map<Long, Double> bySeed = new LinkedHashMap<>();
        for (Run r : runs) {
            if (!r.diverged() && Double.isFinite(r.perplexity())) {
                if (bySeed.put(r.seed(), r.perplexity()) != null) {
                    throw new IllegalArgumentException("Two runs of " + r.strategy().id() + " at " + r.multiplier()
                            + "x with seed " + r.seed());
                }
            }
        }
        return bySeed;
    }

    public static double mean(List<Double> values) {
        return values.isEmpty() ? Double.NaN : values.stream().mapToDouble(Double::doubleValue).sum() / values.size();
    }

    /** Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values. */
    public static double sd(List<Double> values) {
        if (values.size() < 2) {
            return Double.NaN;
        }
        double m = mean(values);
        double squares = values.stream().mapToDouble(v -> (v - m) * (v - m)).sum();
        return Math.sqrt(squares / (values.size() - 1));
    }

    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042};

    /** The 97.5% quantile of Student's t with {@code df} degrees of freedom (table to 30, then an expansion). */
    public static double tQuantile975(int df) {
        if (df < 1) {
            throw new IllegalArgumentException("degrees of freedom must be at least 1, got " + df);
        }
        if (df <= T975.length) {
            return T975[df - 1];
        }
        double z = 1.959964; // Cornish-Fisher expansion around the normal quantile, accurate to 1e-3 beyond 30
        return z + (z * z * z + z) / (4 * df) + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
    }
}
