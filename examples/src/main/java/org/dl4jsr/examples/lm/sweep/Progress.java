package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.LmConfig;
import org.dl4jsr.examples.lm.LmRun;
import org.dl4jsr.examples.lm.PrecisionStrategy;
import java.io.PrintStream;

/** Progress lines with an ETA for a sequence of training runs (at most one line every few seconds). */
public final class Progress {
    private final PrintStream out;
    private long totalSteps;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long doneSteps;
    private long lastPrint = start;

    public Progress(PrintStream out, long totalSteps, double intervalSeconds) {
        this.out = out;
        this.totalSteps = totalSteps;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
    }

    /** Call after each training step of the current run. */
    public void step(String run, int step, int steps, double trainLoss, double validationLoss, double tokensPerSecond) {
        doneSteps++;
        long now = System.nanoTime();
        if (now - lastPrint < intervalNanos && step < steps) {
            return;
        }
        lastPrint = now;
        double perStep = (now - start) / 1e9 / doneSteps;
        out.printf("[%s] step %d/%d  train %.3f  val %.3f  %.0f tokens/s  run ETA %s  total ETA %s%n", run, step, steps,
                trainLoss, validationLoss, tokensPerSecond, duration(perStep * (steps - step)),
                duration(perStep * (totalSteps - doneSteps)));
    }

    /** A run that ended early (diverged): its remaining steps no longer count towards the ETA. */
    public void skip(long steps) {
        totalSteps -= steps;
    }

    /** A line that is always printed (not throttled). */
    public void note(String line) {
        out.println(line);
    }

    public static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
