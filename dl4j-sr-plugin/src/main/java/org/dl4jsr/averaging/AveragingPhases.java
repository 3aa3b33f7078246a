package org.dl4jsr.averaging;

/**
 * Where in-process averaging ({@link Bf16Averaging#averageInPlace}) spent its wall time, in nanoseconds: finding the
 * replicas' bits in their arrays (in place, or copied out), averaging them (one pass: FP32 sum in replica order,
 * divide, round), and writing the result into every replica.
 */
public record AveragingPhases(long readNanos, long averageNanos, long writeNanos) {
    public static final AveragingPhases NONE = new AveragingPhases(0, 0, 0);

    public AveragingPhases plus(AveragingPhases o) {
        return new AveragingPhases(readNanos + o.readNanos, averageNanos + o.averageNanos, writeNanos + o.writeNanos);
    }

    public long totalNanos() {
        return readNanos + averageNanos + writeNanos;
    }
}
