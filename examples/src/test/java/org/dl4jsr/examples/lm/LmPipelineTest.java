package org.dl4jsr.examples.lm;

import org.dl4jsr.examples.lm.sweep.LmReport;
import org.dl4jsr.examples.lm.sweep.SeedStats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.dl4jsr.Bf16Grid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LM example end to end on the real corpus (the -sources.jar the build downloads), with a tiny model: all four
 * strategies train, FP32 and SR learn, BF16 weights stay on the grid, same seed gives the same bits, and the CSV and
 * PNG files are written.
 */
class LmPipelineTest {
    @TempDir
    Path out;

    private LmConfig tiny(String... extra) {
        String[] base = {"--preset", "tiny", "--width", "16", "--blocks", "1", "--length", "16", "--batch", "8",
            "--steps", "40", "--warmup", "4", "--lr", "1e-2", "--eval-every", "10", "--val-windows", "16",
            "--out", out.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return LmConfig.parse(args);
    }

    @Test
    void fourStrategiesTrainAndTheFilesAreWritten() throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<LmRun.Result> runs = LmExample.run(tiny(), new PrintStream(log, true, StandardCharsets.UTF_8));
        String printed = log.toString(StandardCharsets.UTF_8);

        assertEquals(PrecisionStrategy.PAPER, runs.stream().map(LmRun.Result::strategy).toList(),
                "by default the paper's four strategies (bf16-kahan is chosen with --strategies)");
        for (LmRun.Result r : runs) {
            List<LmRun.Point> c = r.curve();
            assertEquals(5, c.size(), "evaluations at steps 0, 10, 20, 30, 40");
            assertTrue(Double.isFinite(r.validationLoss()), r.strategy() + " " + r.validationLoss());
            assertTrue(printed.contains("RESULT lm strategy=" + r.strategy().id() + " "), printed);
            if (r.strategy() == PrecisionStrategy.FP32 || r.strategy() == PrecisionStrategy.BF16_SR) {
                // ln 256 = 5.55 nats for the untrained model; 40 steps of a tiny model reach well below 4
                assertTrue(c.get(0).validationLoss() > 5.3, r.strategy() + " starts at " + c.get(0).validationLoss());
                assertTrue(r.validationLoss() < 4.0, r.strategy() + " ends at " + r.validationLoss());
                assertTrue(c.get(4).trainLoss() < c.get(1).trainLoss() - 0.5, r.strategy() + " train loss " + c);
            }
            if (r.strategy() == PrecisionStrategy.FP32) {
                assertTrue(r.offGridWeights() > r.parameters() / 2, "FP32 weights are not BF16 values");
            } else {
                assertEquals(0, r.offGridWeights(), r.strategy() + ": every weight on the BF16 grid");
                assertEquals(0, Bf16Grid.countOffGrid(r.net().params()));
            }
            assertTrue(r.stalledFraction() >= 0 && r.stalledFraction() <= 1);
        }
        assertEquals(16.0, runs.get(0).bytesPerParameter(), 0.01, "FP32 Adam: params + gradients + m + v");
        assertEquals(20.0, runs.get(1).bytesPerParameter(), 0.01, "mixed: + FP32 master");
        assertEquals(12.0, runs.get(3).bytesPerParameter(), 0.01, "SR with compact BF16 m and v");

        List<String> csv = Files.readAllLines(out.resolve("lm-curves.csv"));
        assertEquals(1 + 4 * 5, csv.size());
        assertTrue(csv.get(0).startsWith("peak_lr,strategy,step,lr,train_loss,val_loss"));
        assertEquals(1 + 4, Files.readAllLines(out.resolve("lm-summary.csv")).size());
        for (String png : new String[] {"lm-val-loss.png", "lm-stalled.png"}) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(image, png + " decodes");
            assertEquals(1000, image.getWidth());
            assertEquals(700, image.getHeight());
        }

        // Same seed, same bits: BF16 + SR again gives exactly the same weights.
        LmConfig again = tiny("--strategies", "bf16-sr", "--out", out.resolve("again").toString());
        List<LmRun.Result> second = LmExample.run(again, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));
        assertEquals(runs.get(3).net().params(), second.get(0).net().params());
        assertEquals(runs.get(3).validationLoss(), second.get(0).validationLoss(), 0);
    }

    @Test
    void seedsAreAggregatedAndDivergedRunsAreMarkedNotFatal() throws IOException {
        // 2 seeds at 1x and at 10000x the peak rate (100: every strategy explodes within a few steps)
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<LmRun.Result> runs = LmExample.run(tiny("--seeds", "2", "--steps", "20", "--warmup", "2",
                "--lr-multipliers", "1,10000"), new PrintStream(log, true, StandardCharsets.UTF_8));
        String printed = log.toString(StandardCharsets.UTF_8);

        assertEquals(2 * 2 * 4, runs.size());
        for (LmRun.Result r : runs) {
            boolean high = r.peakLr() > 1;
            assertEquals(high, r.diverged(), r.strategy() + " at " + r.peakLr() + " seed " + r.seed());
            if (high) {
                assertTrue(r.divergedAtStep() >= 1 && r.divergedAtStep() < 20, "stopped early: " + r.divergedAtStep());
                assertTrue(Double.isNaN(r.validationLoss()));
            } else {
                assertTrue(r.validationLoss() < 5.0, r.strategy() + " " + r.validationLoss());
            }
        }
        // Seeds 42 and 43 give different initial weights and batches: different losses for the same strategy.
        assertTrue(runs.get(0).validationLoss() != runs.get(4).validationLoss());
        assertEquals(List.of(42L, 42L, 42L, 42L, 43L), runs.subList(0, 5).stream().map(LmRun.Result::seed).toList());

        // The seed table and its CSV agree with the aggregation of the runs themselves.
        LmConfig c = tiny("--seeds", "2", "--lr-multipliers", "1,10000");
        List<SeedStats.Cell> cells = SeedStats.aggregate(LmReport.seedRuns(c, runs));
        SeedStats.Cell sr = cells.stream().filter(x -> x.multiplier() == 1 && x.strategy() == PrecisionStrategy.BF16_SR)
                .findFirst().orElseThrow();
        double d42 = 100 * (runs.get(3).perplexity() / runs.get(0).perplexity() - 1);
        double d43 = 100 * (runs.get(7).perplexity() / runs.get(4).perplexity() - 1);
        assertEquals(2, sr.pairs());
        assertEquals((d42 + d43) / 2, sr.meanDiffPercent(), 1e-9);
        assertEquals(Math.abs(d42 - d43) / Math.sqrt(2), sr.sdDiffPercent(), 1e-9);

        List<String> seeds = Files.readAllLines(out.resolve("lm-seeds.csv"));
        assertTrue(seeds.get(2).startsWith("lr_multiplier,peak_lr,strategy,runs,diverged,ppl_mean,ppl_sd,pairs"));
        assertEquals(3 + 8, seeds.size());
        assertTrue(seeds.contains("10000.0,100.0,fp32,2,2,,,0,,,,,"), String.join("\n", seeds));
        assertTrue(seeds.stream().anyMatch(l -> l.startsWith(String.format(java.util.Locale.ROOT,
                "1.0,0.01,bf16-sr,2,0,%.6g,", sr.meanPerplexity()))), String.join("\n", seeds));
        List<String> summary = Files.readAllLines(out.resolve("lm-summary.csv"));
        assertEquals(1 + 16, summary.size());
        assertTrue(summary.get(0).endsWith(",lr_multiplier,seed,diverged_at_step"));
        assertEquals(8, summary.stream().filter(l -> l.startsWith("100.0,") && !l.endsWith(",0")).count(),
                "the 8 runs at 10000x carry their diverging step");
        assertTrue(printed.contains("diverged at step"), printed);
        assertTrue(printed.contains("RESULT lm_seeds lr_multiplier=10000.0 strategy=bf16-sr runs=2 diverged=2 "), printed);
        BufferedImage image = ImageIO.read(out.resolve("lm-seeds-ppl-vs-lr.png").toFile());
        assertNotNull(image);
        assertEquals(1000, image.getWidth());

        // --resume reads the runs back from the files (same figures, no training) and trains only what is missing.
        ByteArrayOutputStream resumedLog = new ByteArrayOutputStream();
        List<LmRun.Result> resumed = LmExample.run(tiny("--seeds", "2", "--steps", "20", "--warmup", "2",
                "--lr-multipliers", "1,10000,2", "--resume"), new PrintStream(resumedLog, true, StandardCharsets.UTF_8));
        String resumedText = resumedLog.toString(StandardCharsets.UTF_8);
        assertTrue(resumedText.contains("Resuming: 16 runs recorded in"), resumedText);
        assertEquals(16, resumedText.split("Reused from", -1).length - 1, resumedText); // one line per reused run
        assertEquals(3 * 2 * 4, resumed.size());
        for (int i = 0; i < runs.size(); i++) {
            LmRun.Result a = runs.get(i);
            LmRun.Result b = resumed.get(i);
            String what = a.strategy() + " at " + a.peakLr() + " seed " + a.seed();
            assertEquals(List.of(a.strategy(), a.peakLr(), a.seed(), a.divergedAtStep(), a.curve().size()),
                    List.of(b.strategy(), b.peakLr(), b.seed(), b.divergedAtStep(), b.curve().size()), what);
            if (!a.diverged()) {
                assertEquals(a.perplexity(), b.perplexity(), 1e-5 * a.perplexity(), what); // CSV keeps 6 digits
            }
        }
        assertTrue(resumed.subList(16, 24).stream().allMatch(r -> r.peakLr() == 0.02 && r.net() == null));
        assertEquals(1 + 24, Files.readAllLines(out.resolve("lm-summary.csv")).size());
        // Everything reused, nothing trained: the files are rewritten with exactly the runs of this sweep.
        List<LmRun.Result> reusedOnly = LmExample.run(tiny("--seeds", "2", "--steps", "20", "--warmup", "2",
                "--lr-multipliers", "2,1", "--resume"), new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));
        assertEquals(2 * 2 * 4, reusedOnly.size());
        assertEquals(1 + 16, Files.readAllLines(out.resolve("lm-summary.csv")).size());
        assertTrue(Files.readAllLines(out.resolve("lm-seeds.csv")).get(0).contains("lr_multipliers=[2.0, 1.0]"));
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> LmExample.run(
                tiny("--seeds", "2", "--steps", "30", "--warmup", "2", "--resume"), System.out));
        assertTrue(other.getMessage().contains("other settings") && other.getMessage().contains("steps=20"),
                other.getMessage());
    }

    @Test
    void helpExitsWithZeroAndBadFlagsWithTwo() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(0, LmExample.execute(new String[] {"--help"}, o, e));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--seeds N"), out.toString(StandardCharsets.UTF_8));
        assertEquals(0, LmExample.execute(new String[] {"--preset", "tiny", "-h"}, o, e));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        assertEquals(2, LmExample.execute(new String[] {"--seeds", "0"}, o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("'--seeds'")
                && err.toString(StandardCharsets.UTF_8).contains("must be at least 1"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badInputIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmExample.run(tiny("--corpus", out.resolve("missing.txt").toString()), System.out));
        assertTrue(e.getMessage().contains("missing.txt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tiny("--steps", "ten"));
        IllegalArgumentException strategy = assertThrows(IllegalArgumentException.class,
                () -> tiny("--strategies", "fp16"));
        assertTrue(strategy.getMessage().contains("--strategies") && strategy.getMessage().contains("fp16"),
                strategy.getMessage());
        // a seed is a whole number: 1.5 used to be truncated to 1
        IllegalArgumentException seed = assertThrows(IllegalArgumentException.class, () -> tiny("--seed", "1.5"));
        assertTrue(seed.getMessage().contains("--seed") && seed.getMessage().contains("1.5"), seed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tiny("--lr-sweep", "--lr-multipliers", "1,2"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--preset", "huge"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--bogus", "1"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--width", "15", "--heads", "2"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--floor", "2"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--warmup", "40"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--steps"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--resume")); // needs --seeds 2 or more
        IllegalArgumentException nothing = assertThrows(IllegalArgumentException.class,
                () -> LmExample.run(tiny("--seeds", "2", "--resume"), System.out));
        assertTrue(nothing.getMessage().contains("lm-seeds.csv"), nothing.getMessage());
    }
}
