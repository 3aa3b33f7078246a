package org.dl4jsr.diagnostics;

/** Counts of one layer (or of the whole network) over a window of iterations. */
public record StagnationStats(long updates, long stalled, double sumAbsUpdate, double sumAbsWeight) {
    /** Fraction of (non-zero) updates smaller than half a BF16 step of their weight; 0 when nothing was counted. */
    public double stalledFraction() {
        return updates == 0 ? 0 : (double) stalled / updates;
    }

    /** {@code sum|u| / sum|w|} over the measured parameters (about 2^-8 = 0.004 is one BF16 step). */
    public double relativeUpdate() {
        return sumAbsWeight == 0 ? 0 : sumAbsUpdate / sumAbsWeight;
    }
}
