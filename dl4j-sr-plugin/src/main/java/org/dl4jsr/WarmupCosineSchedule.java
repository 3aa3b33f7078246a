package org.dl4jsr;

import java.util.Objects;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Linear warm-up then cosine decay, the learning-rate schedule of GPT-style pre-training, by iteration:
 * <ul>
 * <li>iterations {@code 0 .. warmup-1}: {@code peak * (i + 1) / warmup};</li>
 * <li>iterations {@code warmup .. total}: {@code floor + (peak - floor) * (1 + cos(pi * (i - warmup) / (total - warmup))) / 2};</li>
 * <li>after {@code total}: {@code floor}.</li>
 * </ul>
 * The cosine tail is where BF16 training with round-to-nearest stalls: the learning rate falls towards {@code floor}
 * and most updates drop below half a BF16 step (see {@link org.dl4jsr.diagnostics.StagnationMeter}).
 *
 * <p>Serialises with the network configuration like DL4J's own schedules; {@code equals} compares values, so layers
 * that share an equal schedule share one updater block.
 */
public final class WarmupCosineSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;

    @JsonProperty private final double peak;
    @JsonProperty private final double floor;
    @JsonProperty private final int warmup;
    @JsonProperty private final int total;

    /**
     * @param peak   value at the end of warm-up
     * @param floor  value at iteration {@code total} and after ({@code 0 <= floor <= peak})
     * @param warmup warm-up iterations ({@code 0 <= warmup < total})
     * @param total  iteration at which the cosine reaches {@code floor}
     */
    @JsonCreator
    public WarmupCosineSchedule(@JsonProperty("peak") double peak, @JsonProperty("floor") double floor,
                                @JsonProperty("warmup") int warmup, @JsonProperty("total") int total) {
        if (!(peak > 0 && Double.isFinite(peak))) {
            throw new IllegalArgumentException("WarmupCosineSchedule: peak must be finite and > 0, got " + peak);
        }
        if (!(floor >= 0 && floor <= peak)) {
            throw new IllegalArgumentException("WarmupCosineSchedule: floor must be in [0, peak], got " + floor);
        }
        if (warmup < 0 || total <= warmup) {
            throw new IllegalArgumentException("WarmupCosineSchedule: need 0 <= warmup < total, got warmup " + warmup
                    + ", total " + total);
        }
        this.peak = peak;
        this.floor = floor;
        this.warmup = warmup;
        this.total = total;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmup) {
            return peak * (iteration + 1) / warmup;
        }
        if (iteration >= total) {
            return floor;
        }
        double progress = (double) (iteration - warmup) / (total - warmup);
        return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    public double getPeak() {
        return peak;
    }

    public double getFloor() {
        return floor;
    }

    public int getWarmup() {
        return warmup;
    }

    public int getTotal() {
        return total;
    }

    @Override
    public WarmupCosineSchedule clone() {
        return new WarmupCosineSchedule(peak, floor, warmup, total);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof WarmupCosineSchedule)) {
            return false;
        }
        WarmupCosineSchedule s = (WarmupCosineSchedule) o;
        return Double.compare(peak, s.peak) == 0 && Double.compare(floor, s.floor) == 0 && warmup == s.warmup
                && total == s.total;
    }

    @Override
    public int hashCode() {
        return Objects.hash(peak, floor, warmup, total);
    }

    @Override
    public String toString() {
        return "WarmupCosineSchedule(peak=" + peak + ", floor=" + floor + ", warmup=" + warmup + ", total=" + total + ")";
    }
}
