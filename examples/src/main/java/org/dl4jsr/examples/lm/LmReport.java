package org.dl4jsr.examples.lm;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The results table, the {@code RESULT} lines and the CSV files of the LM experiment. */
final class LmReport {
    private LmReport() {
    }

    /** Prints the table and RESULT lines of the runs at one peak learning rate. */
    static void printTable(PrintStream out, LmConfig c, double peakLr, List<LmRun.Result> runs) {
        LmRun.Result fp32 = reference(runs);
        out.printf(Locale.ROOT, "%nValidation after %d steps, peak learning rate %s (%d parameters):%n", c.steps,
                peakLr, runs.get(0).parameters());
        out.printf(Locale.ROOT, "%-21s %9s %9s %9s %8s %9s %13s %8s%n", "strategy", "val loss", "ppl/byte",
                "bits/byte", "vs FP32", "tokens/s", "state B/param", "stalled");
        for (LmRun.Result r : runs) {
            out.printf(Locale.ROOT, "%-21s %9.4f %9.4f %9.4f %8s %9.0f %13.1f %7.1f%%%n", r.strategy().label(),
                    r.validationLoss(), r.perplexity(), r.bitsPerByte(), versusFp32(r, fp32), r.tokensPerSecond(),
                    r.bytesPerParameter(), 100 * r.stalledFraction());
        }
        out.println("(ppl/byte = exp(val loss); vs FP32 = relative perplexity difference; state = params + gradients"
                + " + updater state as stored; stalled = updates below half a BF16 step of their weight in the last "
                + c.evalEvery + " steps)");
        for (LmRun.Result r : runs) {
            out.printf(Locale.ROOT, "RESULT lm strategy=%s peak_lr=%s steps=%d val_loss=%.4f ppl=%.4f bpb=%.4f"
                            + " ppl_vs_fp32=%s tokens_per_s=%.0f bytes_per_param=%.1f stalled=%.4f off_grid=%d%n",
                    r.strategy().id(), peakLr, c.steps, r.validationLoss(), r.perplexity(), r.bitsPerByte(),
                    versusFp32(r, fp32), r.tokensPerSecond(), r.bytesPerParameter(), r.stalledFraction(),
                    r.offGridWeights());
        }
    }

    static LmRun.Result reference(List<LmRun.Result> runs) {
        return runs.stream().filter(r -> r.strategy() == PrecisionStrategy.FP32).findFirst().orElse(null);
    }

    private static String versusFp32(LmRun.Result r, LmRun.Result fp32) {
        if (fp32 == null || r == fp32) {
            return "-";
        }
        return String.format(Locale.ROOT, "%+.2f%%", 100 * (r.perplexity() / fp32.perplexity() - 1));
    }

    /** lm-curves.csv: one row per evaluation point of every run. */
    static Path writeCurves(Path dir, List<LmRun.Result> runs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("peak_lr,strategy,step,lr,train_loss,val_loss,val_bits_per_byte,stalled_fraction,relative_update");
        for (LmRun.Result r : runs) {
            for (LmRun.Point p : r.curve()) {
                lines.add(String.format(Locale.ROOT, "%s,%s,%d,%.6g,%s,%.6f,%.6f,%s,%s", r.peakLr(), r.strategy().id(),
                        p.step(), p.learningRate(), number(p.trainLoss()), p.validationLoss(),
                        p.validationLoss() / Math.log(2), number(p.stalledFraction()), number(p.relativeUpdate())));
            }
        }
        Path file = dir.resolve("lm-curves.csv");
        Files.write(file, lines);
        return file;
    }

    /** lm-summary.csv: the table rows of every run. */
    static Path writeSummary(Path dir, List<LmRun.Result> runs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("peak_lr,strategy,steps,val_loss,perplexity,bits_per_byte,tokens_per_s,bytes_per_param,"
                + "stalled_fraction,off_grid_weights,meter_ms_per_step,training_seconds");
        for (LmRun.Result r : runs) {
            lines.add(String.format(Locale.ROOT, "%s,%s,%d,%.6f,%.6f,%.6f,%.1f,%.2f,%.6f,%d,%.3f,%.1f", r.peakLr(),
                    r.strategy().id(), r.curve().get(r.curve().size() - 1).step(), r.validationLoss(), r.perplexity(),
                    r.bitsPerByte(), r.tokensPerSecond(), r.bytesPerParameter(), r.stalledFraction(),
                    r.offGridWeights(), r.meterMillisPerStep(), r.trainingSeconds()));
        }
        Path file = dir.resolve("lm-summary.csv");
        Files.write(file, lines);
        return file;
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }
}
