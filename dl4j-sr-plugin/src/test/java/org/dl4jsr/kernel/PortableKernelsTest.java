package org.dl4jsr.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link PortableKernels} (ND4J ops only) must give bit-identical results to {@link HostKernels} (Java loops over
 * host buffers) for every pass, rounding mode, data type and layout, on ordinary values and on every special case of
 * the BF16 rounding (NaN payloads, infinities, signed zeros, subnormals, the top of the BF16 range), and must not
 * touch any element outside the runs it is given. Comparisons are on raw bit patterns, so NaN payloads count.
 */
class PortableKernelsTest {
    /** The roundings of a single value (KAHAN needs a compensation buffer: KahanUpdateTest covers it). */
    private static final Rounding[] ROUNDINGS = {Rounding.STOCHASTIC, Rounding.NEAREST, Rounding.NONE};
    private static final int N = 100_003;
    private static final int ADAM_N = 30_011;
    /** Elements before and after each run: runs sit at non-zero offsets inside larger arrays. */
    private static final int PAD = 37;
    private static final long KEY = CounterRng.key(42, 7, 3);
    /** Near 2^32 and above it: checks that the counter wraps like CounterRng's int counter. */
    private static final long RNG_INDEX = (1L << 33) + 0xFFFFFFFFL - 5_000;

    private final Kernels host = new HostKernels(ParallelRunner.shared(2));
    private final Kernels portable = new PortableKernels();

    /** FP32 bit patterns where rounding has special cases or changes behaviour. */
    private static final int[] EDGES = edges();

    private static int[] edges() {
        int[] positive = {
            0x00000000, 0x7F800000,                                      // 0, Inf
            0x7F800001, 0x7F80FFFF, 0x7F810000, 0x7FBFFFFF, 0x7FC00000,  // NaNs: payload only low, signalling, quiet
            0x7FC00001, 0x7FFF8000, 0x7FFFFFFF,
            0x00000001, 0x00007FFF, 0x00008000, 0x00008001, 0x0000FFFF,  // subnormals around BF16 steps
            0x00010000, 0x00018000, 0x007FFFFF, 0x007F8000, 0x00800000,
            0x7F7E8000, 0x7F7F0000, 0x7F7F0001, 0x7F7F7FFF, 0x7F7F8000,  // top of the BF16 range
            0x7F7F8001, 0x7F7FFFFF,
            0x3F800000, 0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,  // ties and near-ties
        };
        int[] all = new int[positive.length * 2];
        for (int i = 0; i < positive.length; i++) {
            all[2 * i] = positive[i];
            all[2 * i + 1] = positive[i] | 0x80000000;
        }
        return all;
    }

    /** The edge cases followed by random finite values: arbitrary bit patterns and realistic magnitudes. */
    private static int[] values(long seed, int n, double scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] v = new int[n];
        System.arraycopy(EDGES, 0, v, 0, Math.min(n, EDGES.length));
        for (int i = EDGES.length; i < n; i++) {
            switch (i % 3) {
                case 0: {
                    int bits;
                    do {
                        bits = rnd.nextInt();
                    } while ((bits & 0x7F800000) == 0x7F800000);
                    v[i] = bits;
                    break;
                }
                case 1:
                    v[i] = Float.floatToRawIntBits((float) (rnd.nextGaussian() * scale));
                    break;
                default:
                    // Low halves next to the rounding boundaries.
                    int high = Float.floatToRawIntBits((float) (rnd.nextGaussian() * scale)) & 0xFFFF0000;
                    int[] lows = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
                    v[i] = high | lows[rnd.nextInt(lows.length)];
            }
        }
        return v;
    }

    private static int[] gaussian(long seed, int n, double scale, boolean positive) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            double x = rnd.nextGaussian() * scale;
            v[i] = Float.floatToRawIntBits((float) (positive ? Math.abs(x) : x));
        }
        return v;
    }

    /** pad + values + pad, the pads holding other random patterns. */
    private static int[] padded(int[] values, int pad, long seed) {
        int[] all = values(seed, values.length + 2 * pad, 1);
        System.arraycopy(values, 0, all, pad, values.length);
        return all;
    }

    // ---- Arrays from and to raw bit patterns (through BitCast, so even signalling NaNs keep their bits) ----

    private static INDArray array(DataType type, int[] fp32Bits) {
        if (type == DataType.FLOAT) {
            return Nd4j.exec(new BitCast(Nd4j.createFromArray(fp32Bits), DataType.FLOAT))[0];
        }
        short[] halves = new short[fp32Bits.length];
        for (int i = 0; i < halves.length; i++) {
            halves[i] = (short) (fp32Bits[i] >>> 16);
        }
        return Nd4j.exec(new BitCast(Nd4j.createFromArray(halves), DataType.BFLOAT16))[0];
    }

    /** FP32 bit patterns of all elements in buffer order (BF16 widened); a must own its whole buffer. */
    private static int[] bits(INDArray a) {
        a = a.reshape(a.ordering(), new long[] {a.length()});
        if (a.dataType() == DataType.FLOAT) {
            return Nd4j.exec(new BitCast(a, DataType.INT32))[0].toIntVector();
        }
        int[] halves = Nd4j.exec(new BitCast(a, DataType.SHORT))[0].castTo(DataType.INT32).toIntVector();
        for (int i = 0; i < halves.length; i++) {
            halves[i] <<= 16;
        }
        return halves;
    }

    /** Two identical arrays: one for each implementation. */
    private static INDArray[] pair(DataType type, int[] fp32Bits) {
        return new INDArray[] {array(type, fp32Bits), array(type, fp32Bits)};
    }

    private static void assertSameBits(INDArray expected, INDArray actual, String what) {
        int[] e = bits(expected);
        int[] a = bits(actual);
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            if (e[i] != a[i]) {
                long differing = 0;
                for (int k = 0; k < e.length; k++) {
                    differing += e[k] != a[k] ? 1 : 0;
                }
                fail(what + ": " + differing + " elements differ, first at " + i + ": host "
                        + Integer.toHexString(e[i]) + ", portable " + Integer.toHexString(a[i]));
            }
        }
    }

    /** Elements outside the runs [from, from + n) still hold their original bits. */
    private static void assertUntouchedOutside(INDArray array, int[] original, String what, long n, long... froms) {
        int[] now = bits(array);
        int[] expected = bits(array(array.dataType(), original));
        for (int i = 0; i < now.length; i++) {
            boolean inside = false;
            for (long from : froms) {
                inside |= from >= 0 && i >= from && i < from + n; // a negative offset means no such run
            }
            if (!inside && now[i] != expected[i]) {
                fail(what + ": element " + i + " outside the run changed");
            }
        }
    }

    // ---- round ----

    @Test
    void roundMatchesHostForAllTypesAndModes() {
        int[] src = padded(values(1, N, 1), PAD, 2);
        int[] dst = values(3, N + 2 * PAD + 11, 1);
        for (DataType srcType : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
            for (DataType dstType : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
                for (Rounding rounding : ROUNDINGS) {
                    String what = "round " + srcType + "->" + dstType + " " + rounding;
                    INDArray[] s = pair(srcType, src);
                    INDArray[] d = pair(dstType, dst);
                    long dstOffset = PAD + 11;
                    if (dstType == DataType.BFLOAT16 && rounding == Rounding.NONE) {
                        assertThrows(IllegalArgumentException.class,
                                () -> portable.round(s[1], PAD, d[1], dstOffset, N, rounding, KEY, RNG_INDEX));
                        continue;
                    }
                    host.round(s[0], PAD, d[0], dstOffset, N, rounding, KEY, RNG_INDEX);
                    portable.round(s[1], PAD, d[1], dstOffset, N, rounding, KEY, RNG_INDEX);
                    assertSameBits(d[0], d[1], what);
                    assertUntouchedOutside(d[1], dst, what, N, dstOffset);
                    assertUntouchedOutside(s[1], src, what + " (source)", 0);
                }
            }
        }
    }

    @Test
    void roundInPlaceAndTinyRunsMatchHost() {
        int[] values = padded(values(4, 5_000, 1e-3), PAD, 5);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
            for (Rounding rounding : new Rounding[] {Rounding.STOCHASTIC, Rounding.NEAREST}) {
                for (int n : new int[] {0, 1, 2, 5_000}) {
                    String what = "in place " + type + " " + rounding + " n=" + n;
                    INDArray[] a = pair(type, values);
                    host.round(a[0], PAD, a[0], PAD, n, rounding, KEY, 12345);
                    portable.round(a[1], PAD, a[1], PAD, n, rounding, KEY, 12345);
                    assertSameBits(a[0], a[1], what);
                    assertUntouchedOutside(a[1], values, what, n, PAD);
                }
            }
        }
    }

    /** Operands that are views (as DL4J's per-layer parameter views are) or 'f'-ordered are read in buffer order. */
    @Test
    void viewsAndFortranOrderMatchHost() {
        int[] values = values(17, 1_200, 1);
        INDArray[] whole = pair(DataType.FLOAT, values);
        INDArray[] views = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            views[k] = whole[k].reshape(1, 1_200).get(NDArrayIndex.all(), NDArrayIndex.interval(100, 700));
        }
        host.round(views[0], 10, views[0], 10, 500, Rounding.STOCHASTIC, KEY, 99);
        portable.round(views[1], 10, views[1], 10, 500, Rounding.STOCHASTIC, KEY, 99);
        assertSameBits(whole[0], whole[1], "row-vector view");
        assertUntouchedOutside(whole[1], values, "row-vector view", 500, 110);

        INDArray[] fortran = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            fortran[k] = Nd4j.create(DataType.BFLOAT16, new long[] {30, 40}, 'f');
            fortran[k].assign(array(DataType.BFLOAT16, values).reshape(30, 40));
        }
        host.round(whole[0], 0, fortran[0], 7, 1_000, Rounding.NEAREST, KEY, 0);
        portable.round(whole[1], 0, fortran[1], 7, 1_000, Rounding.NEAREST, KEY, 0);
        assertSameBits(fortran[0], fortran[1], "'f'-ordered destination");
    }

    // ---- applyUpdate ----

    @Test
    void applyUpdateMatchesHostForAllTypesAndModes() {
        int[] x = padded(values(6, N, 1), PAD, 7);
        int[] u = padded(values(8, N, 1e-2), PAD + 3, 9);
        for (DataType xType : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
            for (DataType uType : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
                for (Rounding rounding : ROUNDINGS) {
                    String what = "applyUpdate x " + xType + ", u " + uType + " " + rounding;
                    INDArray[] xs = pair(xType, x);
                    INDArray[] us = pair(uType, u);
                    if (xType == DataType.BFLOAT16 && rounding == Rounding.NONE) {
                        assertThrows(IllegalArgumentException.class,
                                () -> portable.applyUpdate(xs[1], PAD, us[1], PAD + 3, N, rounding, KEY, RNG_INDEX));
                        continue;
                    }
                    host.applyUpdate(xs[0], PAD, us[0], PAD + 3, N, rounding, KEY, RNG_INDEX);
                    portable.applyUpdate(xs[1], PAD, us[1], PAD + 3, N, rounding, KEY, RNG_INDEX);
                    assertSameBits(xs[0], xs[1], what);
                    assertUntouchedOutside(xs[1], x, what, N, PAD);
                    assertUntouchedOutside(us[1], u, what + " (update)", 0);
                }
            }
        }
    }

    // ---- adamW ----

    /** One AdamW layout; every array exists twice (host, portable) with the same contents. */
    private final class AdamCase {
        final String what;
        final AdamWOperands[] operands = new AdamWOperands[2];
        final AdamWCoefficients coefficients;
        final int[] grad;
        final int[] params;
        final int[] state;
        final long n = ADAM_N;

        AdamCase(DataType gradType, DataType paramsType, DataType stateType, boolean packed, boolean master,
                 boolean applyToWeights, Rounding stateRounding, Rounding weightRounding, float weightDecay) {
            this.what = "adamW grad " + gradType + ", params " + paramsType + ", state " + stateType
                    + (packed ? ", packed" : "") + (master ? ", master" : "") + (applyToWeights ? "" : ", update out")
                    + ", state " + stateRounding + ", weights " + weightRounding + ", wd " + weightDecay;
            int n = ADAM_N;
            // Gradients: the edge cases first (NaN, Inf, subnormals, values whose square overflows), then normal.
            int[] g = gaussian(10, n, 1e-2, false);
            System.arraycopy(EDGES, 0, g, 0, EDGES.length);
            g[EDGES.length] = Float.floatToRawIntBits(1e30f);
            g[EDGES.length + 1] = Float.floatToRawIntBits(-3e19f);
            grad = padded(g, PAD, 11);

            // Weights: the edge cases too, once against the gradient's edge cases (reversed), once against normal ones.
            int[] x = gaussian(12, n, 0.1, false);
            for (int i = 0; i < EDGES.length; i++) {
                x[i] = EDGES[EDGES.length - 1 - i];
                x[EDGES.length + 2 + i] = EDGES[i];
            }
            int[] m = gaussian(13, n, 1e-3, false);
            int[] v = gaussian(14, n, 1e-5, true);
            int[] onGridX = new int[n];
            for (int i = 0; i < n; i++) {
                onGridX[i] = Float.floatToRawIntBits(Bf16.roundNearestEven(Float.intBitsToFloat(x[i])));
            }
            params = padded(master ? onGridX : x, PAD + 5, 15);

            int gap = 3;
            long mOffset = PAD;
            long vOffset = packed ? -1 : mOffset + n + gap;
            long masterOffset = master ? (packed ? mOffset : vOffset) + n + gap : -1;
            int[] s = values(16, (int) (master ? masterOffset + n : packed ? mOffset + n : vOffset + n) + PAD, 1);
            for (int i = 0; i < n; i++) {
                int mg = Float.floatToRawIntBits(Bf16.roundNearestEven(Float.intBitsToFloat(m[i])));
                int vg = Float.floatToRawIntBits(Bf16.roundNearestEven(Float.intBitsToFloat(v[i])));
                if (packed) {
                    s[(int) mOffset + i] = (mg & 0xFFFF0000) | (vg >>> 16);
                } else {
                    s[(int) mOffset + i] = m[i];
                    s[(int) vOffset + i] = v[i];
                }
                if (master) {
                    s[(int) masterOffset + i] = x[i];
                }
            }
            state = s;

            INDArray[] gs = pair(gradType, grad);
            INDArray[] ps = pair(paramsType, params);
            INDArray[] ss = pair(stateType, state);
            int t = 7;
            float lr = 1e-3f;
            coefficients = new AdamWCoefficients(0.9f, 0.999f, 1f - 0.9f, 1f - 0.999f,
                    (float) (lr * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t))), 1e-8f, lr * weightDecay,
                    weightRounding, stateRounding, KEY);
            for (int k = 0; k < 2; k++) {
                operands[k] = new AdamWOperands(gs[k], PAD, ps[k], PAD + 5,
                        new AdamWState(ss[k], mOffset, vOffset, packed, masterOffset, -1), n, RNG_INDEX,
                        applyToWeights ? AdamWOperands.Output.WEIGHTS : AdamWOperands.Output.UPDATE);
            }
        }

        void check() {
            host.adamW(coefficients, operands[0]);
            portable.adamW(coefficients, operands[1]);
            AdamWOperands h = operands[0];
            AdamWOperands p = operands[1];
            assertSameBits(h.grad(), p.grad(), what + ": grad/update");
            assertSameBits(h.params(), p.params(), what + ": params");
            assertSameBits(h.state().array(), p.state().array(), what + ": state");
            assertUntouchedOutside(p.grad(), grad, what + ": grad", p.writesWeights() ? 0 : n, p.gradOffset());
            assertUntouchedOutside(p.params(), params, what + ": params", p.writesWeights() ? n : 0, p.paramsOffset());
            assertUntouchedOutside(p.state().array(), state, what + ": state", n, p.state().mOffset(),
                    p.state().vOffset(), p.state().masterOffset());
        }
    }

    @Test
    void adamWSeparateMomentsMatchHost() {
        DataType f = DataType.FLOAT;
        for (Rounding stateRounding : ROUNDINGS) {
            new AdamCase(f, DataType.BFLOAT16, f, false, false, true, stateRounding, Rounding.STOCHASTIC, 0.01f).check();
        }
        new AdamCase(f, f, f, false, false, true, Rounding.STOCHASTIC, Rounding.NEAREST, 0f).check();
        new AdamCase(f, f, f, false, false, true, Rounding.NEAREST, Rounding.NONE, 0.01f).check();
        new AdamCase(DataType.BFLOAT16, DataType.BFLOAT16, f, false, false, true,
                Rounding.STOCHASTIC, Rounding.NEAREST, 0f).check();
    }

    @Test
    void adamWPackedMomentsAndMasterWeightsMatchHost() {
        DataType f = DataType.FLOAT;
        DataType b = DataType.BFLOAT16;
        for (Rounding stateRounding : ROUNDINGS) {
            new AdamCase(f, b, f, true, false, true, stateRounding, Rounding.STOCHASTIC, 0.01f).check();
        }
        new AdamCase(f, b, f, true, true, true, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0.01f).check();
        new AdamCase(f, b, f, false, true, true, Rounding.NONE, Rounding.NEAREST, 0f).check();
        new AdamCase(f, f, f, true, true, true, Rounding.NEAREST, Rounding.NONE, 0.01f).check();
    }

    @Test
    void adamWUpdateOutAndBf16StateMatchHost() {
        DataType f = DataType.FLOAT;
        DataType b = DataType.BFLOAT16;
        new AdamCase(f, b, f, false, false, false, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0.01f).check();
        new AdamCase(f, f, f, true, false, false, Rounding.NEAREST, Rounding.STOCHASTIC, 0f).check();
        new AdamCase(f, b, b, false, false, true, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0.01f).check();
        new AdamCase(b, b, b, false, false, true, Rounding.NEAREST, Rounding.NEAREST, 0f).check();
        new AdamCase(b, b, f, false, false, false, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0.01f).check(); // update into BF16
    }

    @Test
    void adamWRejectsWhatHostRejects() {
        DataType f = DataType.FLOAT;
        DataType b = DataType.BFLOAT16;
        AdamCase[] invalid = {
            new AdamCase(f, b, b, true, false, true, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0f),  // packed in BF16
            new AdamCase(f, b, b, false, true, true, Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0f),  // master in BF16
            new AdamCase(f, b, b, false, false, true, Rounding.NONE, Rounding.STOCHASTIC, 0f),       // BF16 state, NONE
            new AdamCase(f, b, f, false, false, true, Rounding.STOCHASTIC, Rounding.NONE, 0f),       // BF16 params, NONE
        };
        for (AdamCase c : invalid) {
            assertThrows(IllegalArgumentException.class, () -> host.adamW(c.coefficients, c.operands[0]), c.what);
            assertThrows(IllegalArgumentException.class, () -> portable.adamW(c.coefficients, c.operands[1]), c.what);
            assertSameBits(c.operands[0].state().array(), c.operands[1].state().array(), c.what);
            assertUntouchedOutside(c.operands[1].state().array(), c.state, c.what, 0);
        }
    }

    // ---- allFinite and operand checks ----

    @Test
    void allFiniteMatchesHost() {
        int n = 10_000;
        int[] finite = gaussian(20, n + 2 * PAD, 1e3, false);
        finite[0] = 0x7FC00000;                  // outside the run: ignored
        finite[n + 2 * PAD - 1] = 0xFF800000;
        finite[PAD] = 0x7F7FFFFF;                // the largest finite FP32 (0x7F7F, still finite, in BF16)
        int[][] cases = {{}, {0x7F800000}, {0xFF800000}, {0x7F800001}, {0xFFC00000}, {0x7F810000}};
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
            for (int[] bad : cases) {
                for (int at : new int[] {PAD, PAD + n / 2, PAD + n - 1}) {
                    int[] values = finite.clone();
                    if (bad.length > 0) {
                        values[at] = bad[0];
                    }
                    INDArray a = array(type, values);
                    boolean expected = host.allFinite(a, PAD, n);
                    assertEquals(bad.length == 0, expected, "host, " + type);
                    assertEquals(expected, portable.allFinite(a, PAD, n),
                            type + " with " + Arrays.toString(bad) + " at " + at);
                }
            }
        }
        assertTrue(portable.allFinite(array(DataType.FLOAT, new int[] {0x7FC00000}), 0, 0));
    }

    @Test
    void operandChecksMatchHost() {
        INDArray a = array(DataType.FLOAT, values(30, 100, 1));
        INDArray ints = Nd4j.createFromArray(new int[100]);
        assertThrows(IndexOutOfBoundsException.class, () -> portable.round(a, 50, a, 0, 51, Rounding.NEAREST, KEY, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> portable.round(a, -1, a, 0, 5, Rounding.NEAREST, KEY, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> portable.allFinite(a, 90, 11));
        assertThrows(IllegalArgumentException.class, () -> portable.round(ints, 0, a, 0, 5, Rounding.NEAREST, KEY, 0));
        assertArrayEquals(bits(array(DataType.FLOAT, values(30, 100, 1))), bits(a));
        assertEquals("portable(nd4j ops)", portable.name());
    }
}
