package org.dl4jsr.diagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One window of iterations [firstIteration, lastIteration]: overall and per-layer stats (layer name -> stats), and
 * the steps the plugin skipped in the window (non-finite gradient or invalid hyper-parameter; not measured).
 */
public record StagnationReport(int firstIteration, int lastIteration, StagnationStats overall,
                               Map<String, StagnationStats> layers, long skippedSteps) {
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format("iterations %d-%d: %.1f%% of updates below half a BF16"
                        + " step (mean |update|/|weight| %.2e)", firstIteration, lastIteration,
                100 * overall.stalledFraction(), overall.relativeUpdate()));
        List<Map.Entry<String, StagnationStats>> worst = new ArrayList<>(layers.entrySet());
        worst.sort((a, b) -> Double.compare(b.getValue().stalledFraction(), a.getValue().stalledFraction()));
        s.append("; most stalled layers:");
        for (int i = 0; i < Math.min(3, worst.size()); i++) {
            s.append(String.format(" %s %.1f%%", worst.get(i).getKey(), 100 * worst.get(i).getValue().stalledFraction()));
        }
        if (skippedSteps > 0) {
            s.append("; ").append(skippedSteps).append(" step(s) skipped (NaN/Inf gradient or invalid hyper-parameter)");
        }
        return s.toString();
    }
}
