package org.dl4jsr.averaging;

/**
 * Where in-process averaging ({@link Bf16Averaging#averageInPlace}) spent its wall time, in nanoseconds: finding the
 * replicas' bits in their arrays (in place, or copied out), checking that every value that should be on the BF16 grid
 * is (read only), averaging (one pass: FP32 sum in replica order, divide, round, written into every target that can be
 * written in place), and copying the result into the other targets.
 */
public record AveragingPhases(long readNanos, long checkNanos, long averageNanos, long writeNanos) {
    public static final AveragingPhases NONE = new AveragingPhases(0, 0, 0, 0);

    public AveragingPhases plus(AveragingPhases o) {
        return new AveragingPhases(readNanos + o.readNanos, checkNanos + o.checkNanos, averageNanos + o.averageNanos,
                writeNanos + o.writeNanos);
    }

    public long totalNanos() {
        return readNanos + checkNanos + averageNanos + writeNanos;
    }
}
