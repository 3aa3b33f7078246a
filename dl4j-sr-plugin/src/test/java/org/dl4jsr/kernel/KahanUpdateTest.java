package org.dl4jsr.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;
import org.dl4jsr.rounding.Rounding;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Kahan-compensated weight update ({@link Kernels#applyCompensatedUpdate}, and AdamW's fused pass with KAHAN
 * weights): equal to a scalar reference written here, bit-identical on both kernel paths, fused or not, and exact
 * where round-to-nearest alone loses every update.
 */
class KahanUpdateTest {
    /** Several chunks of the parallel runner, an odd length (a half-used last slot) and a run at an odd offset. */
    private static final int N = 2 * (int) ParallelRunner.CHUNK + 1_001;
    private static final int PAD = 37;

    private final Kernels host = new HostKernels(ParallelRunner.shared(2));
    private final Kernels portable = new PortableKernels();

    /** The rule written out for one element, in FP32: returns {new weight, new compensation}. */
    static float[] reference(float w, float c, float u) {
        float s = w + (c - u);
        float next = Bf16.roundNearestEven(s);
        if (Float.isInfinite(next) && !Float.isNaN(s)) {
            next = Math.copySign(Bf16.MAX_FINITE, s); // overflow saturates
        }
        float comp = Bf16.roundNearestEven(s - next);
        return new float[] {next, Float.isFinite(comp) ? comp : 0f};
    }

    /** n compensation values packed two per slot, as the kernels keep them. */
    static float[] pack(float[] c) {
        float[] slots = new float[(c.length + 1) / 2];
        for (int j = 0; j < slots.length; j++) {
            int low = 2 * j + 1 < c.length ? Float.floatToRawIntBits(c[2 * j + 1]) : 0;
            slots[j] = Float.intBitsToFloat(Bf16.packPair(Float.floatToRawIntBits(c[2 * j]), low));
        }
        return slots;
    }

    static float[] unpack(float[] slots, int n) {
        float[] c = new float[n];
        for (int i = 0; i < n; i++) {
            int slot = Float.floatToRawIntBits(slots[i / 2]);
            c[i] = Float.intBitsToFloat(i % 2 == 0 ? Bf16.highOfPair(slot) : Bf16.lowOfPair(slot));
        }
        return c;
    }

    /** Weights on the grid, compensations within half a step of them, updates of every size, plus edge cases. */
    private static float[][] inputs(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        float[] c = new float[n];
        float[] u = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = Bf16.roundNearestEven((float) (r.nextGaussian() * Math.pow(10, r.nextInt(-4, 3))));
            float half = Math.ulp(w[i]) * 65536 / 2; // half a BF16 step of w
            c[i] = Bf16.roundNearestEven((float) ((r.nextDouble() * 2 - 1) * half));
            u[i] = (float) (r.nextGaussian() * half * Math.pow(2, r.nextInt(-12, 6)));
        }
        float[][] edges = {
            {1f, 0f, Float.NaN}, {1f, 0f, Float.POSITIVE_INFINITY}, {1f, 0f, Float.NEGATIVE_INFINITY},
            {Bf16.MAX_FINITE, 0f, -Float.MAX_VALUE}, {-Bf16.MAX_FINITE, 0f, Float.MAX_VALUE}, {Bf16.MAX_FINITE, 0f, -1e36f},
            {1f, 0f, 0f}, {0f, 0f, 0f}, {1f, Float.NaN, 0f}, {1f, 0f, -0x1p-8f}, {1f, 0f, 0x1p-9f},
            {Float.MIN_NORMAL, 0f, Float.MIN_VALUE}, {-0f, 0f, 0f},
        };
        for (int k = 0; k < edges.length; k++) {
            w[k] = edges[k][0];
            c[k] = edges[k][1];
            u[k] = edges[k][2];
        }
        return new float[][] {w, c, u};
    }

    private static float[] padded(float[] values) {
        float[] p = new float[values.length + 2 * PAD];
        java.util.Arrays.fill(p, 7f);
        System.arraycopy(values, 0, p, PAD, values.length);
        return p;
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    /** Runs applyCompensatedUpdate once on the given kernels; returns {weights, compensation} (unpacked). */
    private static float[][] run(Kernels k, float[] w, float[] c, float[] u) {
        int n = w.length;
        INDArray x = Nd4j.createFromArray(padded(w));
        INDArray upd = Nd4j.createFromArray(padded(u));
        INDArray comp = Nd4j.createFromArray(padded(pack(c)));
        k.applyCompensatedUpdate(x, PAD, upd, PAD, comp, PAD, n);
        float[] xs = x.toFloatVector();
        float[] cs = comp.toFloatVector();
        for (int i = 0; i < PAD; i++) { // nothing outside the runs is touched
            assertEquals(7f, xs[i]);
            assertEquals(7f, xs[PAD + n + i]);
            assertEquals(7f, cs[i]);
            assertEquals(7f, cs[PAD + (n + 1) / 2 + i]);
        }
        float[] slots = java.util.Arrays.copyOfRange(cs, PAD, PAD + (n + 1) / 2);
        if (n % 2 == 1) {
            assertEquals(0, Float.floatToRawIntBits(slots[slots.length - 1]) & 0xFFFF, "unused half slot stays 0");
        }
        return new float[][] {java.util.Arrays.copyOfRange(xs, PAD, PAD + n), unpack(slots, n)};
    }

    @Test
    void equalsTheScalarReferenceBitForBitOnBothPaths() {
        float[][] in = inputs(11, N);
        float[] expectedW = new float[N];
        float[] expectedC = new float[N];
        for (int i = 0; i < N; i++) {
            float[] r = reference(in[0][i], in[1][i], in[2][i]);
            expectedW[i] = r[0];
            expectedC[i] = r[1];
        }
        for (Kernels k : new Kernels[] {host, portable}) {
            float[][] out = run(k, in[0], in[1], in[2]);
            assertArrayEquals(bits(expectedW), bits(out[0]), k.name() + ": weights");
            assertArrayEquals(bits(expectedC), bits(out[1]), k.name() + ": compensation");
        }
    }

    @Test
    void weightsStayOnTheGridAndFiniteAndTheCompensationFiniteForEveryFiniteOrInfiniteUpdate() {
        float[][] in = inputs(12, N);
        float[][] out = run(host, in[0], in[1], in[2]);
        for (int i = 0; i < N; i++) {
            assertTrue(Bf16.isOnGrid(out[0][i]) && Bf16.isOnGrid(out[1][i]), "element " + i);
            assertTrue(Float.isFinite(out[1][i]), "compensation " + i + " = " + out[1][i]);
            boolean nanSum = Float.isNaN(in[0][i] + (in[1][i] - in[2][i]));
            assertTrue(nanSum || Float.isFinite(out[0][i]), "weight " + i + " = " + out[0][i]);
            if (!nanSum && Math.abs(out[0][i]) < Bf16.MAX_FINITE) {
                // the compensation is what rounding threw away: within half a step of the weight
                assertTrue(Math.abs(out[1][i]) <= Math.ulp(out[0][i]) * 65536 / 2 * (1 + 0x1p-8f), "element " + i);
            }
        }
    }

    /**
     * The constructed case: adding 0.001 a thousand times to 1 in BF16. Round-to-nearest stays at 1 (0.001 is
     * below half a step, 2^-8); Kahan lands within BF16 resolution of the FP32 sum. w + c is not the FP32 sum: the
     * BF16 compensation is itself rounded each step, losing up to 2^-9 of it (at most 2^-10 of a step of w), so over T
     * steps w + c may drift by T * 2^-10 steps; that bound is checked too (docs/kahan.md).
     */
    @Test
    void aSmallConstantUpdateAppliedAThousandTimesLandsOnTheFp32Sum() {
        float[] start = {1f, 0.25f, -3f, 100f};
        float[] step = {-0.001f, -0.0002f, 0.003f, -0.1f}; // subtracted: x = x - u
        for (Kernels k : new Kernels[] {host, portable}) {
            float[] w = start.clone();
            float[] c = new float[start.length];
            float[] nearest = start.clone();
            for (int t = 0; t < 1000; t++) {
                float[][] out = run(k, w, c, step);
                w = out[0];
                c = out[1];
                INDArray x = Nd4j.createFromArray(nearest);
                k.applyUpdate(x, 0, Nd4j.createFromArray(step), 0, step.length, Rounding.NEAREST, 0, 0);
                nearest = x.toFloatVector();
            }
            for (int i = 0; i < start.length; i++) {
                float sum = start[i];
                for (int t = 0; t < 1000; t++) {
                    sum -= step[i];
                }
                float resolution = Math.ulp(Bf16.roundNearestEven(sum)) * 65536;
                assertEquals(sum, w[i], resolution, k.name() + ": Kahan weight " + i);
                assertEquals(sum, w[i] + c[i], 1000 * 0x1p-10f * resolution, k.name() + ": w + c " + i);
                System.out.printf("Kahan %s: start %s, 1000 x %s: FP32 sum %s, w %s, w + c %s, nearest %s%n",
                        k.name(), start[i], -step[i], sum, w[i], w[i] + c[i], nearest[i]);
                assertEquals(start[i], nearest[i], 0f, k.name() + ": nearest stays put " + i);
            }
        }
    }

    /** The fused AdamW pass with KAHAN weights equals the unfused one (update written, then applied) on both paths. */
    @Test
    void fusedAdamWEqualsTheUpdateThenTheCompensatedApplicationOnBothPaths() {
        for (boolean packed : new boolean[] {true, false}) {
            for (Rounding state : new Rounding[] {Rounding.STOCHASTIC, Rounding.NEAREST}) {
                int[][] expected = null;
                for (Kernels k : new Kernels[] {host, portable}) {
                    int[][] fused = adamW(k, packed, state, true);
                    int[][] unfused = adamW(k, packed, state, false);
                    assertArrayEquals(fused[0], unfused[0], k.name() + " weights, packed " + packed + " " + state);
                    assertArrayEquals(fused[1], unfused[1], k.name() + " state, packed " + packed + " " + state);
                    if (expected == null) {
                        expected = fused;
                    } else {
                        assertArrayEquals(expected[0], fused[0], "host vs portable weights " + packed + " " + state);
                        assertArrayEquals(expected[1], fused[1], "host vs portable state " + packed + " " + state);
                    }
                }
            }
        }
    }

    /** Three AdamW steps with weight decay on Java-made inputs; returns {weight bits, state bits}. */
    static int[][] adamW(Kernels k, boolean packed, Rounding stateRounding, boolean fused) {
        int n = 5_001;
        float[][] in = inputs(13, n);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = Bf16.roundNearestEven(in[0][i] == in[0][i] && Float.isFinite(in[0][i]) ? in[0][i] : 1f);
        }
        long momentValues = packed ? n : 2L * n;
        INDArray params = Nd4j.createFromArray(w);
        INDArray state = Nd4j.zeros(DataType.FLOAT, momentValues + Kernels.compensationSlots(n));
        SplittableRandom r = new SplittableRandom(14);
        for (int t = 1; t <= 3; t++) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) (r.nextGaussian() * 1e-2);
            }
            INDArray grad = Nd4j.createFromArray(g);
            AdamWState moments = packed ? AdamWState.packed(state, 0) : AdamWState.separate(state, 0, n);
            AdamWOperands o = new AdamWOperands(grad, 0, params, 0, moments.withCompensation(momentValues), n, 1000,
                    fused ? AdamWOperands.Output.WEIGHTS : AdamWOperands.Output.UPDATE);
            AdamWCoefficients c = new AdamWCoefficients(0.9f, 0.999f, 1f - 0.9f, 1f - 0.999f,
                    (float) (1e-3 * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t))), 1e-8f, 1e-4f,
                    Rounding.KAHAN, stateRounding, CounterRng.key(5, t, 0));
            k.adamW(c, o);
            if (!fused) {
                k.applyCompensatedUpdate(params, 0, grad, 0, state, momentValues, n);
            }
        }
        return new int[][] {bits(params.toFloatVector()), bits(state.toFloatVector())};
    }

    @Test
    void kahanNeedsACompensationAndFloatStorage() {
        INDArray x = Nd4j.ones(DataType.FLOAT, 4);
        INDArray u = Nd4j.zeros(DataType.FLOAT, 4);
        for (Kernels k : new Kernels[] {host, portable}) {
            assertThrows(IllegalArgumentException.class, () -> k.round(x, 0, x, 0, 4, Rounding.KAHAN, 0, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> k.applyCompensatedUpdate(x, 0, u, 0, Nd4j.zeros(DataType.BFLOAT16, 4), 0, 4));
            assertThrows(IllegalArgumentException.class, () -> k.applyCompensatedUpdate(x, 0, u, 0, u, -1, 4));
        }
    }
}
