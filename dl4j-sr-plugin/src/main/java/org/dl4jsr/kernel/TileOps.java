package org.dl4jsr.kernel;

import org.dl4jsr.Rounding;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;

/**
 * The stages kernels compose on one tile: random bits, rounding, and the AdamW rule. Each is a branch-free loop over
 * heap arrays that HotSpot vectorises. Rounding is a stage of its own, so every update rule gets exactly the same
 * rounding, bit-identical to the scalar definitions in {@link Bf16}.
 */
final class TileOps {
    private static final int SIGN = 0x80000000;
    private static final int HIGH = 0xFFFF0000;
    private static final int QUIET = 0x00400000;

    private TileOps() {
    }

    /** r[k] = CounterRng.bits(drawKey, index + k). */
    static void draw(int[] r, int n, long drawKey, long index) {
        final int base = (int) index;
        final int k0 = (int) drawKey;
        final int k1 = (int) (drawKey >>> 32);
        final int[] iota = Tile.IOTA;
        for (int k = 0; k < n; k++) {
            int x = (base + iota[k]) ^ k0;
            x ^= x >>> 16;
            x *= 0x7FEB352D;
            x ^= x >>> 15;
            x *= 0x846CA68B;
            x ^= x >>> 16;
            x += k1;
            x ^= x >>> 16;
            x *= 0x7FEB352D;
            x ^= x >>> 15;
            x *= 0x846CA68B;
            x ^= x >>> 16;
            r[k] = x;
        }
    }

    /**
     * b[k] = round(b[k]) on FP32 bit patterns; stochastic rounding takes 16 bits at {@code shift} of r[k].
     * Same results as {@link Bf16#roundStochasticBits} and {@link Bf16#roundNearestEvenBits}.
     */
    static void round(int[] b, int n, Rounding rounding, int[] r, int shift) {
        switch (rounding) {
            case STOCHASTIC:
                stochastic(b, n, r, shift);
                break;
            case NEAREST:
                nearestEven(b, n);
                break;
            case NONE:
                break;
            default:
                throw new IllegalArgumentException("Unknown rounding " + rounding);
        }
    }

    private static void stochastic(int[] b, int n, int[] r, int shift) {
        for (int k = 0; k < n; k++) {
            int bits = b[k];
            int mag = bits & ~SIGN;
            int up = (mag + ((r[k] >>> shift) & 0xFFFF)) & HIGH;
            int saturated = up - (((0x7F7FFFFF - up) >> 31) & 0x10000); // a carry into infinity stays at max finite
            int special = (0x7F7FFFFF - mag) >> 31;                      // -1 for an Inf or NaN input
            int nan = (0x7F800000 - mag) >> 31;                          // -1 for a NaN input
            int kept = (mag & HIGH) | (QUIET & nan);
            b[k] = (bits & SIGN) | (saturated & ~special) | (kept & special);
        }
    }

    private static void nearestEven(int[] b, int n) {
        for (int k = 0; k < n; k++) {
            int bits = b[k];
            int mag = bits & ~SIGN;
            int rounded = (mag + 0x7FFF + ((mag >>> 16) & 1)) & HIGH;
            int special = (0x7F7FFFFF - mag) >> 31;
            int nan = (0x7F800000 - mag) >> 31;
            int kept = (mag & HIGH) | (QUIET & nan);
            b[k] = (bits & SIGN) | (rounded & ~special) | (kept & special);
        }
    }

    /** x[k] -= u[k]. */
    static void subtract(float[] x, float[] u, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = x[k] - u[k];
        }
    }

    /**
     * The AdamW rule in FP32, in the operation order of ND4J's {@code adam_updater} op: updates m and v in place and
     * writes the update to u. x is read only for weight decay (lrWd != 0).
     */
    static void adamW(AdamWStep s, float[] g, float[] m, float[] v, float[] x, float[] u, int n) {
        final float b1 = s.beta1, b2 = s.beta2, c1 = s.oneMinusBeta1, c2 = s.oneMinusBeta2;
        final float alpha = s.alpha, eps = s.epsilon, lrWd = s.lrWeightDecay;
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

    /** Splits 32-bit slots holding m in the high and v in the low BF16 half into two FP32 bit patterns. */
    static void unpack(int[] slots, int[] mBits, int[] vBits, int n) {
        for (int k = 0; k < n; k++) {
            int w = slots[k];
            mBits[k] = w & HIGH;
            vBits[k] = w << 16;
        }
    }

    /** Packs on-grid m and v bit patterns into 32-bit slots (m high, v low). */
    static void pack(int[] mBits, int[] vBits, int[] slots, int n) {
        for (int k = 0; k < n; k++) {
            slots[k] = (mBits[k] & HIGH) | (vBits[k] >>> 16);
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
