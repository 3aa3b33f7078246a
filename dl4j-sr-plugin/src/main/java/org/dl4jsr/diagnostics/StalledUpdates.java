package org.dl4jsr.diagnostics;

/**
 * The definition of a stalled update: smaller than half a BF16 step of its weight, so round-to-nearest loses it. The
 * scalar definition ({@link #halfStep}) and the counting loop over bit patterns that {@link StagnationMeter} runs.
 */
final class StalledUpdates {
    private StalledUpdates() {
    }

    /**
     * The hot loop, on FP32 bit patterns: non-zero updates in the high 32 bits of the result and stalled ones in the
     * low 32 bits, or -1 if an update is NaN or infinite. For non-negative floats, comparing bit patterns as ints
     * compares values, and the bit pattern of half a BF16 step of w is w's exponent field minus 8 (in the exponent's
     * place) with a zero significand; when that is not positive (|w| < 2^-119) nothing counts as stalled.
     */
    static long count(int[] updateBits, int[] weightBits, int from, int to) {
        int updates = 0;
        int stalled = 0;
        int nonFinite = 0;
        for (int i = from; i < to; i++) {
            int u = updateBits[i] & 0x7FFFFFFF;
            int half = (weightBits[i] & 0x7F800000) - (8 << 23);
            updates += (-u) >>> 31;                 // u != 0
            stalled += ((u - half) & (-u)) >>> 31;  // u < half and u != 0
            nonFinite |= 0x7F7FFFFF - u;            // negative for Inf or NaN
        }
        return nonFinite < 0 ? -1 : ((long) updates << 32) | stalled;
    }

    /**
     * Half the BF16 spacing at |w|: 2^(e-8) for |w| in [2^e, 2^(e+1)), i.e. the float whose exponent is 8 below the
     * weight's and whose significand is zero. Below 2^-119 (never a trained weight) any update counts as visible.
     * The definition {@link #count} implements on bit patterns.
     */
    static float halfStep(float w) {
        int exponentBits = Float.floatToRawIntBits(w) & 0x7F800000;
        return exponentBits > (8 << 23) ? Float.intBitsToFloat(exponentBits - (8 << 23)) : Float.MIN_VALUE;
    }
}
