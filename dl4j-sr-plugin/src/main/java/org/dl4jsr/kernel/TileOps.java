package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;
import static org.dl4jsr.rounding.Bf16.HIGH_HALF;
import static org.dl4jsr.rounding.Bf16.QUIET_BIT;
import static org.dl4jsr.rounding.Bf16.SIGN;

import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;

/**
 * The stages kernels compose on one tile: random bits, rounding, and the AdamW rule. Each is a branch-free loop over
 * heap arrays that HotSpot vectorises. Rounding is a stage of its own, so every update rule gets exactly the same
 * rounding, bit-identical to the scalar definitions in {@link Bf16}.
 */
public final class TileOps {

    private TileOps() {
    }

    /**
     * x[k] = round(x[k]) on FP32 bit patterns; stochastic rounding draws {@code CounterRng.weightBits} for element
     * {@code index + k}.
     */
    static void roundWeights(int[] x, int n, Rounding rounding, long weightDrawKey, long index) {
        switch (rounding) {
            case STOCHASTIC:
                stochasticWeights(x, n, weightDrawKey, index);
                break;
            case NEAREST:
                for (int k = 0; k < n; k++) {
                    x[k] = nearestEven(x[k]);
                }
                break;
            case NONE:
                break;
            case KAHAN:
                throw new IllegalArgumentException("KAHAN rounding needs a compensation buffer: only AdamWSR's update"
                        + " (kernel compensatedUpdate) applies it");
            default:
                throw new IllegalArgumentException("Unknown rounding " + rounding);
        }
    }

    /** Stochastic rounding of x with the draws of elements index + k (hashed in the same loop, which vectorises). */
    private static void stochasticWeights(int[] x, int n, long drawKey, long index) {
        roundStochastic(x, n, drawKey, index, 1);
    }

    /**
     * x[k] = stochastic rounding of the FP32 bit pattern x[k] to BF16 (low half cleared) with the 16 random bits of
     * value {@code index + step * k} of {@code drawKey}, for k &lt; n ({@link Bf16#roundStochasticBits}, bit for bit).
     * {@code step} 2 draws for every other value: the m (or v) halves of packed slots in the averaging. One loop
     * HotSpot vectorises, hash included, when no value is NaN, infinite or beyond the largest finite BF16.
     */
    public static void roundStochastic(int[] x, int n, long drawKey, long index, int step) {
        final int base = (int) index;
        final int stride = CounterRng.stride(drawKey);
        final int offset = CounterRng.offset(drawKey);
        final int[] iota = Tile.IOTA;
        if (allOrdinary(x, n)) {
            for (int k = 0; k < n; k++) {
                x[k] = (x[k] + (CounterRng.hash32((base + step * iota[k]) * stride + offset) & 0xFFFF)) & HIGH_HALF;
            }
        } else {
            for (int k = 0; k < n; k++) {
                x[k] = stochastic(x[k], CounterRng.hash32((base + step * iota[k]) * stride + offset));
            }
        }
    }

    /** m[k], v[k] = round(...): one moments draw per element, its low 16 bits for m and high 16 bits for v. */
    static void roundMoments(int[] m, int[] v, int n, Rounding rounding, long momentDrawKey, long index) {
        switch (rounding) {
            case STOCHASTIC:
                stochasticMoments(m, v, n, momentDrawKey, index);
                break;
            case NEAREST:
                for (int k = 0; k < n; k++) {
                    m[k] = nearestEven(m[k]);
                    v[k] = nearestEven(v[k]);
                }
                break;
            case NONE:
                break;
            default:
                throw new IllegalArgumentException("Moments are rounded STOCHASTIC, NEAREST or NONE, not " + rounding);
        }
    }

    /** Stochastic rounding of m and v with the two halves of one draw per element, hashed once. */
    private static void stochasticMoments(int[] m, int[] v, int n, long drawKey, long index) {
        final int base = (int) index;
        final int stride = CounterRng.stride(drawKey);
        final int offset = CounterRng.offset(drawKey);
        final int[] iota = Tile.IOTA;
        if (allOrdinary(m, n) && allOrdinary(v, n)) {
            for (int k = 0; k < n; k++) {
                int r = CounterRng.hash32((base + iota[k]) * stride + offset);
                m[k] = (m[k] + (r & 0xFFFF)) & HIGH_HALF;
                v[k] = (v[k] + (r >>> 16)) & HIGH_HALF;
            }
        } else {
            for (int k = 0; k < n; k++) {
                int r = CounterRng.hash32((base + iota[k]) * stride + offset);
                m[k] = stochastic(m[k], r);
                v[k] = stochastic(v[k], r >>> 16);
            }
        }
    }

    /**
     * True when no value is NaN, infinite, or above the largest finite BF16 (|bits| <= 0x7F7F0000). For such tiles
     * stochastic rounding is just {@code (bits + r) & 0xFFFF0000} (no carry can reach the sign or the exponent's
     * all-ones pattern), which saves most of the work of {@link #stochastic}.
     */
    static boolean allOrdinary(int[] b, int n) {
        int acc = 0;
        for (int k = 0; k < n; k++) {
            acc |= (b[k] & ~SIGN) + 0x0080FFFF; // bit 31 set only when |bits| >= 0x7F7F0001
        }
        return acc >= 0;
    }

    /** Branch-free {@link Bf16#roundStochasticBits} (low 16 bits of r used). */
    static int stochastic(int bits, int r) {
        int mag = bits & ~SIGN;
        int up = (mag + (r & 0xFFFF)) & HIGH_HALF;
        int saturated = up - (((0x7F7FFFFF - up) >> 31) & 0x10000); // a carry into infinity stays at max finite
        int special = (0x7F7FFFFF - mag) >> 31;                      // -1 for an Inf or NaN input
        int nan = (0x7F800000 - mag) >> 31;                          // -1 for a NaN input
        int kept = (mag & HIGH_HALF) | (QUIET_BIT & nan);
        return (bits & SIGN) | (saturated & ~special) | (kept & special);
    }

    /** Branch-free {@link Bf16#roundNearestEvenBits}. */
    static int nearestEven(int bits) {
        int mag = bits & ~SIGN;
        int rounded = (mag + 0x7FFF + ((mag >>> 16) & 1)) & HIGH_HALF;
        int special = (0x7F7FFFFF - mag) >> 31;
        int nan = (0x7F800000 - mag) >> 31;
        int kept = (mag & HIGH_HALF) | (QUIET_BIT & nan);
        return (bits & SIGN) | (rounded & ~special) | (kept & special);
    }

    /** x[k] -= u[k]. */
    static void subtract(float[] x, float[] u, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = x[k] - u[k];
        }
    }

    /**
     * The AdamW rule in FP32 with the formulas of ND4J's {@code adam_updater} op (same alpha_t, epsilon added to
     * sqrt(v)): updates m and v in place and writes the update to u. x is read only for weight decay (lrWd != 0).
     * Not bit-identical to the op (its C++ loop may contract or order operations differently): weights agree within
     * FP32 rounding (AdamWSREquivalenceTest bounds the difference).
     */
    static void adamW(AdamWCoefficients c, float[] g, float[] m, float[] v, float[] x, float[] u, int n) {
        final float b1 = c.beta1(), b2 = c.beta2(), c1 = c.oneMinusBeta1(), c2 = c.oneMinusBeta2();
        final float alpha = c.alpha(), eps = c.epsilon(), lrWd = c.lrWeightDecay();
        if (lrWd != 0f) {
            for (int k = 0; k < n; k++) {
                float gk = g[k];
                float mk = b1 * m[k] + gk * c1;
                float vk = b2 * v[k] + gk * gk * c2;
                m[k] = mk;
                v[k] = vk;
                u[k] = mk * alpha / ((float) Math.sqrt(vk) + eps) + lrWd * x[k];
            }
        } else {
            for (int k = 0; k < n; k++) {
                float gk = g[k];
                float mk = b1 * m[k] + gk * c1;
                float vk = b2 * v[k] + gk * gk * c2;
                m[k] = mk;
                v[k] = vk;
                u[k] = mk * alpha / ((float) Math.sqrt(vk) + eps);
            }
        }
    }

    /**
     * The Kahan-compensated weight update: with weight x (on the BF16 grid), compensation c (a BF16 value) and update
     * u, in FP32 {@code s = x + (c - u)}, the new weight is {@code nearest(s)} and the new compensation
     * {@code nearest(s - nearest(s))}. The remainder {@code s - nearest(s)} is exact in FP32; rounding it to BF16 loses
     * at most 2^-9 of it, i.e. about 2^-17 of the weight. Writes the new weight's bits to xBits and the compensation's
     * to cBits; x and u are used as scratch.
     */
    static void compensatedUpdate(float[] x, float[] c, float[] u, int[] xBits, int[] cBits, int n, Tile t) {
        for (int k = 0; k < n; k++) {
            x[k] = x[k] + (c[k] - u[k]); // s
        }
        t.toBits(x, xBits, n);
        for (int k = 0; k < n; k++) {
            xBits[k] = nearestSaturating(xBits[k]);
        }
        t.toFloats(xBits, u, n);
        subtract(x, u, n); // the remainder s - nearest(s), exact
        t.toBits(x, cBits, n);
        for (int k = 0; k < n; k++) {
            cBits[k] = finiteOrZero(nearestEven(cBits[k]));
        }
    }

    /**
     * Round to nearest even where an overflow (a finite FP32 past the largest BF16, or Inf) stays at the largest
     * finite BF16: a Kahan weight is finite unless its sum is NaN.
     */
    static int nearestSaturating(int bits) {
        int mag = bits & ~SIGN;
        int over = ((Bf16.MAX_FINITE_BITS - mag) >> 31) & ~((Bf16.EXPONENT_MASK - mag) >> 31); // max < mag <= Inf
        int clamped = (mag & ~over) | (Bf16.MAX_FINITE_BITS & over);
        return nearestEven((bits & SIGN) | clamped);
    }

    /** The bits, or +0 when they are NaN or infinite: a compensation is always finite. */
    static int finiteOrZero(int bits) {
        int special = (0x7F7FFFFF - (bits & ~SIGN)) >> 31;
        return bits & ~special;
    }

    /**
     * BF16 values packed two per 32-bit slot (element 2j in the high half of slot j, element 2j+1 in the low half)
     * widened to n FP32 bit patterns.
     */
    static void unpackPairs(int[] slots, int[] bits, int n) {
        for (int k = 0; k < n; k++) {
            bits[k] = (slots[k >> 1] << ((k & 1) << 4)) & HIGH_HALF;
        }
    }

    /** n on-grid bit patterns packed two per slot into (n + 1) / 2 slots (an odd n leaves the last low half 0). */
    static void packPairs(int[] bits, int[] slots, int n) {
        for (int j = 0; j < n >> 1; j++) {
            slots[j] = Bf16.packPair(bits[2 * j], bits[2 * j + 1]);
        }
        if ((n & 1) != 0) {
            slots[n >> 1] = Bf16.packPair(bits[n - 1], 0);
        }
    }

    /** Splits 32-bit slots holding m in the high and v in the low BF16 half into two FP32 bit patterns. */
    static void unpack(int[] slots, int[] mBits, int[] vBits, int n) {
        for (int k = 0; k < n; k++) {
            mBits[k] = Bf16.highOfPair(slots[k]);
            vBits[k] = Bf16.lowOfPair(slots[k]);
        }
    }

    /** Packs on-grid m and v bit patterns into 32-bit slots (m high, v low). */
    static void pack(int[] mBits, int[] vBits, int[] slots, int n) {
        for (int k = 0; k < n; k++) {
            slots[k] = Bf16.packPair(mBits[k], vBits[k]);
        }
    }

    /** True when no bit pattern is NaN or infinite (exponent all ones). */
    static boolean allFinite(int[] b, int n) {
        int acc = 0;
        for (int k = 0; k < n; k++) {
            acc |= (b[k] & 0x7F800000) + 0x00800000; // bit 31 set only for an all-ones exponent
        }
        return acc >= 0;
    }
}
