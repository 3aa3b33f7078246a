package org.dl4jsr.kernel;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where one block's AdamW state lives in its state array (FLOAT, or BFLOAT16 for separate moments without master
 * weights or compensation): the moments, and optionally the FP32 master weights or the Kahan compensation. Offsets
 * count elements of {@link #array}; -1 means absent.
 *
 * @param mOffset            m, or the packed m/v slots when {@link #packedMoments}
 * @param vOffset            v; ignored when {@link #packedMoments}
 * @param packedMoments      m and v as the high and low BF16 halves of one 32-bit slot at {@link #mOffset}
 * @param masterOffset       the FP32 master weights, or -1 when the network's weights are the master
 * @param compensationOffset the Kahan compensation, BF16 values packed two per 32-bit slot (see {@link
 *                           Kernels#applyCompensatedUpdate}), or -1; needed when the weight rounding is KAHAN
 */
public record AdamWState(INDArray array, long mOffset, long vOffset, boolean packedMoments, long masterOffset,
                         long compensationOffset) {

    /** m at {@code mOffset} and v at {@code vOffset}, one value each per parameter. */
    public static AdamWState separate(INDArray array, long mOffset, long vOffset) {
        return new AdamWState(array, mOffset, vOffset, false, -1, -1);
    }

    /** m and v packed into one 32-bit slot per parameter from {@code slotsOffset} (m high, v low). */
    public static AdamWState packed(INDArray array, long slotsOffset) {
        return new AdamWState(array, slotsOffset, -1, true, -1, -1);
    }

    /** The same moments, and FP32 master weights at {@code offset}. */
    public AdamWState withMaster(long offset) {
        return new AdamWState(array, mOffset, vOffset, packedMoments, offset, compensationOffset);
    }

    /** The same moments, and the packed Kahan compensation at {@code offset}. */
    public AdamWState withCompensation(long offset) {
        return new AdamWState(array, mOffset, vOffset, packedMoments, masterOffset, offset);
    }

    boolean hasMaster() {
        return masterOffset >= 0;
    }
}
