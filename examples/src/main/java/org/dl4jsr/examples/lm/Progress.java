package org.dl4jsr.examples.lm;

import java.io.PrintStream;

/** Progress lines with an ETA for a sequence of training runs (at most one line every few seconds). */
final class Progress {
    private final PrintStream out;
    private long totalSteps;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long doneSteps;
    private long lastPrint = start;

    Progress(PrintStream out, long totalSteps, double intervalSeconds) {
        this.out = out;
        this.totalSteps = totalSteps;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
    }

    /** Call after each training step of the current run. */
    void step(String run, int step, int steps, double trainLoss, double validationLoss, double tokensPerSecond) {
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
    void skip(long steps) {
        totalSteps -= steps;
    }

    /** A line that is always printed (not throttled). */
    void note(String line) {
        out.println(line);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
