package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.PrecisionStrategy;

import static org.dl4jsr.examples.lm.PrecisionStrategy.BF16_NEAREST;
import static org.dl4jsr.examples.lm.PrecisionStrategy.BF16_SR;
import static org.dl4jsr.examples.lm.PrecisionStrategy.FP32;
import static org.dl4jsr.examples.lm.PrecisionStrategy.MIXED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The seed aggregation on constructed perplexities whose means, spreads and paired differences are known. */
class SeedStatsTest {
    private static SeedStats.Run run(double multiplier, PrecisionStrategy s, long seed, double ppl) {
        return new SeedStats.Run(multiplier, s, seed, ppl, false);
    }

    private static SeedStats.Run diverged(double multiplier, PrecisionStrategy s, long seed) {
        return new SeedStats.Run(multiplier, s, seed, Double.NaN, true);
    }

    private static SeedStats.Cell cell(List<SeedStats.Cell> cells, double multiplier, PrecisionStrategy s) {
        return cells.stream().filter(c -> c.multiplier() == multiplier && c.strategy() == s).findFirst().orElseThrow();
    }

    @Test
    void meanSpreadAndPairedDifferences() {
        List<SeedStats.Run> runs = new ArrayList<>();
        // FP32 varies a lot from seed to seed (10, 11, 12); vanilla BF16 is 5%, 6%, 4% worse than FP32 of the same seed:
        // a difference far smaller than the spread of the perplexities, yet consistent across seeds.
        double[] fp32 = {10, 11, 12};
        double[] bf16 = {10.5, 11.66, 12.48};
        // SR: -1%, +2%, -1% against FP32 of the same seed: mean 0, no consistent difference.
        double[] sr = {9.9, 11.22, 11.88};
        for (int i = 0; i < 3; i++) {
            runs.add(run(1, FP32, 42 + i, fp32[i]));
            runs.add(run(1, BF16_NEAREST, 42 + i, bf16[i]));
            runs.add(run(1, BF16_SR, 42 + i, sr[i]));
        }
        List<SeedStats.Cell> cells = SeedStats.aggregate(runs);
        assertEquals(3, cells.size());

        SeedStats.Cell f = cell(cells, 1, FP32);
        assertEquals(11.0, f.meanPerplexity(), 1e-12);
        assertEquals(1.0, f.sdPerplexity(), 1e-12);
        assertEquals(0, f.pairs(), "FP32 is not compared with itself");
        assertFalse(f.exceedsSpread());

        SeedStats.Cell b = cell(cells, 1, BF16_NEAREST);
        assertEquals(3, b.pairs());
        assertEquals(5.0, b.meanDiffPercent(), 1e-9);
        assertEquals(1.0, b.sdDiffPercent(), 1e-9);
        assertEquals(1.0 / Math.sqrt(3), b.seDiffPercent(), 1e-9);
        assertEquals(4.303, b.tCritical(), 1e-12);
        // 5 > 4.303 * 0.577 = 2.48: the difference stands above the seed spread although sd(ppl) is ~1 in 11.
        assertTrue(b.exceedsSpread());

        SeedStats.Cell s = cell(cells, 1, BF16_SR);
        assertEquals(0.0, s.meanDiffPercent(), 1e-9);
        assertEquals(Math.sqrt(3), s.sdDiffPercent(), 1e-9);
        assertFalse(s.exceedsSpread());
    }

    @Test
    void theCriterionIsThePairedTTestNotTwoStandardErrors() {
        // Differences +4% and +2%: mean 3, sd 1.414, se 1. "Two standard errors" would call it real (3 > 2); the
        // paired t-test with t(0.975, 1) = 12.706 does not: with 2 seeds the criterion is strict.
        List<SeedStats.Run> runs = List.of(run(2, FP32, 1, 100), run(2, MIXED, 1, 104), run(2, FP32, 2, 100),
                run(2, MIXED, 2, 102));
        SeedStats.Cell m = cell(SeedStats.aggregate(runs), 2, MIXED);
        assertEquals(3.0, m.meanDiffPercent(), 1e-9);
        assertEquals(1.0, m.seDiffPercent(), 1e-9);
        assertEquals(12.706, m.tCritical(), 1e-12);
        assertFalse(m.exceedsSpread());

        // The same differences over 6 seeds: se 0.4472, t(0.975, 5) = 2.571, 3 > 1.15: exceeds.
        List<SeedStats.Run> six = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            six.add(run(2, FP32, i, 100));
            six.add(run(2, MIXED, i, i % 2 == 0 ? 104 : 102));
        }
        SeedStats.Cell m6 = cell(SeedStats.aggregate(six), 2, MIXED);
        assertEquals(2.571, m6.tCritical(), 1e-12);
        assertTrue(m6.exceedsSpread());
    }

    @Test
    void divergedRunsAreCountedAndLeftOutOfMeansAndPairs() {
        List<SeedStats.Run> runs = List.of(
                run(8, FP32, 1, 5.0), diverged(8, FP32, 2), run(8, FP32, 3, 7.0),
                run(8, BF16_SR, 1, 5.5), run(8, BF16_SR, 2, 6.0), run(8, BF16_SR, 3, 7.7),
                diverged(8, MIXED, 1), diverged(8, MIXED, 2), diverged(8, MIXED, 3));
        List<SeedStats.Cell> cells = SeedStats.aggregate(runs);

        SeedStats.Cell f = cell(cells, 8, FP32);
        assertEquals(3, f.runs());
        assertEquals(1, f.diverged());
        assertEquals(6.0, f.meanPerplexity(), 1e-12, "mean of the finished runs");

        SeedStats.Cell s = cell(cells, 8, BF16_SR);
        assertEquals(0, s.diverged());
        assertEquals(2, s.pairs(), "seed 2 has no FP32 partner");
        assertEquals(10.0, s.meanDiffPercent(), 1e-9); // +10% and +10%
        assertEquals(0.0, s.sdDiffPercent(), 1e-9);
        assertTrue(s.exceedsSpread(), "identical non-zero differences exceed a zero spread");

        SeedStats.Cell m = cell(cells, 8, MIXED);
        assertEquals(3, m.diverged());
        assertEquals(0, m.finished());
        assertTrue(Double.isNaN(m.meanPerplexity()));
        assertEquals(0, m.pairs());
        assertFalse(m.exceedsSpread());
    }

    @Test
    void cellsAreOrderedByMultiplierThenStrategy() {
        List<SeedStats.Run> runs = List.of(run(4, BF16_SR, 1, 3), run(0.5, MIXED, 1, 3), run(4, FP32, 1, 3),
                run(0.5, FP32, 1, 3));
        List<SeedStats.Cell> cells = SeedStats.aggregate(runs);
        assertEquals(List.of(0.5, 0.5, 4.0, 4.0), cells.stream().map(SeedStats.Cell::multiplier).toList());
        assertEquals(List.of(FP32, MIXED, FP32, BF16_SR), cells.stream().map(SeedStats.Cell::strategy).toList());
        assertTrue(Double.isNaN(cells.get(0).sdPerplexity()), "one run has no spread");
    }

    @Test
    void aSeedTwiceIsAnError() {
        assertThrows(IllegalArgumentException.class,
                () -> SeedStats.aggregate(List.of(run(1, FP32, 7, 3), run(1, FP32, 7, 4))));
    }

    @Test
    void tQuantiles() {
        assertEquals(12.706, SeedStats.tQuantile975(1), 1e-12);
        assertEquals(2.042, SeedStats.tQuantile975(30), 1e-12);
        assertEquals(2.021, SeedStats.tQuantile975(40), 1e-3);
        assertEquals(1.984, SeedStats.tQuantile975(100), 1e-3);
        assertThrows(IllegalArgumentException.class, () -> SeedStats.tQuantile975(0));
    }
}
