package org.dl4jsr.training;

import org.dl4jsr.kernel.Kernels;

/**
 * Where AdamW-SR keeps its state in the updater state view of one block of {@code n} parameters: m at [0, n) and
 * v at [n, 2n), or m and v packed as the high and low BF16 halves of one 32-bit slot at [0, n) when compact; then
 * either, with master weights, the FP32 master copy of the n weights, or, with KAHAN weights, the BF16 compensation
 * packed two per 32-bit slot ({@code (n + 1) / 2} slots). The one description of this layout: the updater, the
 * converter, checkpoints and the averaging wire format all read it from here.
 *
 * <p>The compensation's half slot per parameter makes the state size not a multiple of n: DL4J sizes a block's state
 * as the sum of {@link #size(long, boolean, boolean, boolean)} over its variables, which may exceed the block's own
 * size by up to half a slot per variable (unused, zero). So a compensated layout is found from the block's parameter
 * count, not from the length of its state.
 *
 * @param n parameters of the block
 * @param packed m and v share one 32-bit slot per parameter (BF16 halves: m high, v low)
 * @param hasMaster an FP32 master copy of the weights follows the moments
 * @param hasCompensation a packed BF16 Kahan compensation follows the moments
 */
public record AdamWStateLayout(long n, boolean packed, boolean hasMaster, boolean hasCompensation) {

    /** The layout of a block of {@code n} parameters under {@code config}. */
    public static AdamWStateLayout of(AdamWConfig config, long n) {
        return new AdamWStateLayout(n, config.isCompactState(), config.isMasterWeights(), config.isCompensated());
    }

    /** Values of state per parameter without compensation: 2 (m, v), 1 when compact, +1 for an FP32 master copy. */
    public static long valuesPerParameter(boolean compact, boolean master) {
        return (compact ? 1 : 2) + (master ? 1 : 0);
    }

    /** State values of n parameters. */
    public static long size(long n, boolean compact, boolean master, boolean compensated) {
        return valuesPerParameter(compact, master) * n + (compensated ? Kernels.compensationSlots(n) : 0);
    }

    /** Total state values of the block. */
    public long size() {
        return size(n, packed, hasMaster, hasCompensation);
    }

    /** Offset of m (or of the packed m/v slots). */
    public long momentsOffset() {
        return 0;
    }

    /** Values the moments occupy: n packed slots, or 2n (m then v). */
    public long momentsLength() {
        return packed ? n : 2 * n;
    }

    /** Offset of the FP32 master weights (only with master weights). */
    public long masterOffset() {
        if (!hasMaster) {
            throw new IllegalStateException("no master weights in this layout");
        }
        return momentsLength();
    }

    /** Offset of the packed Kahan compensation (only with KAHAN weights). */
    public long compensationOffset() {
        if (!hasCompensation) {
            throw new IllegalStateException("no compensation in this layout");
        }
        return momentsLength();
    }
}
