package org.dl4jsr.rounding;

/**
 * Scalar FP32 -> BF16 rounding on raw bit patterns.
 *
 * <p>A BF16 value is the upper 16 bits of an FP32 word, so every BF16 value is exactly representable as a float
 * whose low 16 bits are zero ("on the BF16 grid"). All methods here return such floats (or their bit patterns);
 * {@link #toBits(float)} then keeps the upper half for BF16 storage.
 *
 * <p>Special values: NaN stays NaN (made quiet, sign kept, so a payload that lived only in the low bits cannot turn
 * into infinity when the low bits are dropped); +-Inf and +-0 are already on the grid and stay unchanged.
 *
 * <p>Top of the range: {@link #roundNearestEven} follows IEEE (and ND4J's cast): finite values at or above
 * half a step beyond the largest finite BF16 (3.3895e38) become infinity. {@link #roundStochastic} saturates instead:
 * a finite value never becomes infinite; values above the largest finite BF16 round down to it. Unbiasedness cannot
 * hold there anyway (there is no finite upper neighbour), and an infinite weight would end training.
 */
public final class Bf16 {
    /** FP32 bit pattern of the largest finite BF16 value, 0x7F7F (= 3.3895314e38). */
    public static final int MAX_FINITE_BITS = 0x7F7F0000;
    /** The largest finite BF16 value as a float. */
    public static final float MAX_FINITE = Float.intBitsToFloat(MAX_FINITE_BITS);

    /** FP32 exponent bits (all set: infinity or NaN). */
    public static final int EXPONENT_MASK = 0x7F800000;
    /** The upper half of an FP32 word: the BF16 value. A value is on the grid when nothing outside it is set. */
    public static final int HIGH_HALF = 0xFFFF0000;
    public static final int SIGN = 0x80000000;
    /** The quiet bit of an FP32 NaN (in the upper half, so it survives rounding to BF16). */
    public static final int QUIET_BIT = 0x00400000;

    private Bf16() {
    }

    /** True when {@code x} is exactly representable in BF16 (its low 16 bits are zero). */
    public static boolean isOnGrid(float x) {
        return (Float.floatToRawIntBits(x) & 0xFFFF) == 0;
    }

    /** Round-to-nearest-even onto the BF16 grid, bit-identical to ND4J's {@code castTo(BFLOAT16)}. */
    public static float roundNearestEven(float x) {
        return Float.intBitsToFloat(roundNearestEvenBits(Float.floatToRawIntBits(x)));
    }

    /** {@link #roundNearestEven(float)} on an FP32 bit pattern. */
    public static int roundNearestEvenBits(int bits) {
        if ((bits & EXPONENT_MASK) == EXPONENT_MASK && (bits & 0x7FFFFF) != 0) {
            return quietNaN(bits);
        }
        int lsb = (bits >>> 16) & 1;
        return (bits + 0x7FFF + lsb) & HIGH_HALF;
    }

    /**
     * Stochastic rounding onto the BF16 grid: with {@code r} uniform in [0, 65536), returns the upper neighbour with
     * probability (x - lo) / (hi - lo) and the lower one otherwise, so the result is unbiased.
     *
     * @param random16 16 random bits in the low half of the int (higher bits are ignored)
     */
    public static float roundStochastic(float x, int random16) {
        return Float.intBitsToFloat(roundStochasticBits(Float.floatToRawIntBits(x), random16));
    }

    /** {@link #roundStochastic(float, int)} on an FP32 bit pattern. */
    public static int roundStochasticBits(int bits, int random16) {
        if ((bits & EXPONENT_MASK) == EXPONENT_MASK) {
            return (bits & 0x7FFFFF) == 0 ? bits : quietNaN(bits);
        }
        // Adding r to the magnitude bits carries into bit 16 exactly when r >= 65536 - (low 16 bits), i.e. with
        // probability low/65536 = the fractional position between the two neighbours (sign-magnitude format).
        int rounded = (bits + (random16 & 0xFFFF)) & HIGH_HALF;
        if ((rounded & EXPONENT_MASK) == EXPONENT_MASK) {
            return (bits & SIGN) | MAX_FINITE_BITS;
        }
        return rounded;
    }

    /** The BF16 storage bits of a float that is already on the grid (its upper half). */
    public static short toBits(float onGrid) {
        return (short) (Float.floatToRawIntBits(onGrid) >>> 16);
    }

    /** The float value of BF16 storage bits (exact). */
    public static float fromBits(short bf16) {
        return Float.intBitsToFloat(bf16 << 16);
    }

    /**
     * Packs two on-grid FP32 bit patterns into one 32-bit slot: {@code high}'s BF16 in the upper half, {@code low}'s
     * in the lower half (compact AdamWSR state: m high, v low). Inverse: {@link #highOfPair}, {@link #lowOfPair}.
     */
    public static int packPair(int highBits, int lowBits) {
        return (highBits & HIGH_HALF) | (lowBits >>> 16);
    }

    /** The FP32 bit pattern of the BF16 value in the upper half of a packed slot. */
    public static int highOfPair(int slot) {
        return slot & HIGH_HALF;
    }

    /** The FP32 bit pattern of the BF16 value in the lower half of a packed slot. */
    public static int lowOfPair(int slot) {
        return slot << 16;
    }

    private static int quietNaN(int bits) {
        return (bits & HIGH_HALF) | QUIET_BIT;
    }
}
