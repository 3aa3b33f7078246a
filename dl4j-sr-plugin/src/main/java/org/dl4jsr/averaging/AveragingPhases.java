package org.dl4jsr.averaging;

/**
 * Where in-process averaging ({@link Bf16Averaging#averageInPlace}) spent its wall time, in nanoseconds: reading the
 * replicas' bits out of their arrays, summing them in FP32, dividing and rounding, and writing the result into every
 * replica.
 */
public record AveragingPhases(long readNanos, long sumNanos, long roundNanos, long writeNanos) {
    public static final AveragingPhases NONE = new AveragingPhases(0, 0, 0, 0);

    public AveragingPhases plus(AveragingPhases o) {
        return new AveragingPhases(readNanos + o.readNanos, sumNanos + o.sumNanos, roundNanos + o.roundNanos,
                writeNanos + o.writeNanos);
    }

    public long totalNanos() {
        return readNanos + sumNanos + roundNanos + writeNanos;
    }
}
