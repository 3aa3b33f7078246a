package org.dl4jsr.examples.lm;

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

        assertEquals(List.of(PrecisionStrategy.values()), runs.stream().map(LmRun.Result::strategy).toList());
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
    void badInputIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmExample.run(tiny("--corpus", out.resolve("missing.txt").toString()), System.out));
        assertTrue(e.getMessage().contains("missing.txt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tiny("--steps", "ten"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--strategies", "fp16"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--bogus", "1"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--width", "15", "--heads", "2"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--floor", "2"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--warmup", "40"));
        assertThrows(IllegalArgumentException.class, () -> tiny("--steps"));
    }
}
