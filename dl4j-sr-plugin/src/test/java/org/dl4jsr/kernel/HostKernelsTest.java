package org.dl4jsr.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The host kernels against a scalar reference built from {@link Bf16} and {@link CounterRng}, element by element. */
class HostKernelsTest {
    /** The roundings of a single value (KAHAN needs a compensation buffer: KahanUpdateTest covers it). */
    private static final Rounding[] ROUNDINGS = {Rounding.STOCHASTIC, Rounding.NEAREST, Rounding.NONE};
    private static final long KEY = CounterRng.key(11, 22, 0);

    private static HostKernels kernels(int threads) {
        return new HostKernels(ParallelRunner.shared(threads));
    }

    /** Random finite values of mixed magnitude plus every special value class, length n. */
    static float[] values(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(-30, 30)));
        }
        int[] specials = {0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFFFFFFF,
            0x00008001, 0x007FFFFF, 0x807FFFFF, 0x7F7F0001, 0x7F7FFFFF, 0xFF7F8000, 0x3F808000, 0x3F818000};
        for (int i = 0; i < specials.length && i < n; i++) {
            v[i * (n / specials.length)] = Float.intBitsToFloat(specials[i]);
        }
        return v;
    }

    private static int[] bitsOf(INDArray a) {
        INDArray f = a.castTo(DataType.FLOAT);
        float[] v = f.data().asFloat();
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    private static int reference(float x, Rounding r, long key, long index) {
        switch (r) {
            case STOCHASTIC:
                return Float.floatToRawIntBits(Bf16.roundStochastic(x, CounterRng.weightBits(key, index)));
            case NEAREST:
                return Float.floatToRawIntBits(Bf16.roundNearestEven(x));
            default:
                return Float.floatToRawIntBits(x);
        }
    }

    @Test
    void roundMatchesTheScalarDefinitionOnEveryElement() {
        int n = 100_003;
        float[] v = values(n, 1);
        for (Rounding r : ROUNDINGS) {
            INDArray a = Nd4j.createFromArray(v);
            kernels(2).round(a, 0, a, 0, n, r, KEY, 500);
            int[] got = bitsOf(a);
            for (int i = 0; i < n; i++) {
                int expected = reference(v[i], r, KEY, 500 + i);
                if (Float.isNaN(v[i])) {
                    assertTrue(Float.isNaN(Float.intBitsToFloat(got[i])));
                    if (r != Rounding.NONE) {
                        assertEquals(expected, got[i]);
                    }
                } else {
                    assertEquals(expected, got[i], "element " + i + " " + r);
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnThreadsOrChunking() {
        int n = 3 * (int) ParallelRunner.CHUNK + 12345;
        float[] v = values(n, 2);
        float[] u = values(n, 3);
        int[] reference = null;
        for (int threads : new int[] {1, 2, 3, 4}) {
            INDArray x = Nd4j.createFromArray(v);
            kernels(threads).applyUpdate(x, 0, Nd4j.createFromArray(u), 0, n, Rounding.STOCHASTIC, KEY, 0);
            int[] got = bitsOf(x);
            if (reference == null) {
                reference = got;
            } else {
                assertArrayEquals(reference, got, "threads=" + threads);
            }
        }
        // Two half-runs (different chunk boundaries) equal one run.
        INDArray x = Nd4j.createFromArray(v);
        INDArray uArr = Nd4j.createFromArray(u);
        kernels(2).applyUpdate(x, 0, uArr, 0, 70001, Rounding.STOCHASTIC, KEY, 0);
        kernels(2).applyUpdate(x, 70001, uArr, 70001, n - 70001, Rounding.STOCHASTIC, KEY, 70001);
        assertArrayEquals(reference, bitsOf(x));
    }

    @Test
    void applyUpdateIsRoundOfTheFp32Difference() {
        int n = 50_000;
        float[] v = values(n, 4);
        float[] u = values(n, 5);
        INDArray x = Nd4j.createFromArray(v);
        kernels(2).applyUpdate(x, 0, Nd4j.createFromArray(u), 0, n, Rounding.STOCHASTIC, KEY, 7);
        int[] got = bitsOf(x);
        for (int i = 0; i < n; i++) {
            float d = v[i] - u[i];
            if (!Float.isNaN(d)) {
                assertEquals(reference(d, Rounding.STOCHASTIC, KEY, 7 + i), got[i], "element " + i);
            }
        }
    }

    @Test
    void viewsAndOffsetsTouchOnlyTheirRun() {
        int n = 40_000;
        float[] v = values(n, 6);
        INDArray whole = Nd4j.createFromArray(v);
        // A view of a view: elements [10000, 30000) of the whole array, then [5000, 15000) of that.
        INDArray outer = whole.get(NDArrayIndex.interval(10_000, 30_000));
        INDArray inner = outer.get(NDArrayIndex.interval(5_000, 15_000));
        kernels(2).round(inner, 100, inner, 100, 9_000, Rounding.STOCHASTIC, KEY, 0);
        int[] got = bitsOf(whole);
        for (int i = 0; i < n; i++) {
            int local = i - 15_100;
            int expected = local >= 0 && local < 9_000 ? reference(v[i], Rounding.STOCHASTIC, KEY, local)
                    : Float.floatToRawIntBits(v[i]);
            if (!Float.isNaN(v[i])) {
                assertEquals(expected, got[i], "element " + i);
            }
        }
    }

    @Test
    void bf16ArraysAreReadAndWrittenExactly() {
        int n = 30_000;
        float[] v = values(n, 7);
        float[] u = values(n, 8);
        INDArray x = Nd4j.createFromArray(v).castTo(DataType.BFLOAT16);
        float[] widened = x.castTo(DataType.FLOAT).data().asFloat();
        kernels(2).applyUpdate(x, 0, Nd4j.createFromArray(u), 0, n, Rounding.STOCHASTIC, KEY, 0);
        int[] got = bitsOf(x);
        for (int i = 0; i < n; i++) {
            float d = widened[i] - u[i];
            if (!Float.isNaN(d)) {
                assertEquals(reference(d, Rounding.STOCHASTIC, KEY, i), got[i], "element " + i);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> kernels(1).round(x, 0, x, 0, n, Rounding.NONE, KEY, 0), "FP32 values cannot go into BF16");
    }

    @Test
    void allFiniteFindsEveryKindOfNonFiniteValueAnywhere() {
        int n = 100_000;
        INDArray a = Nd4j.rand(DataType.FLOAT, n);
        assertTrue(kernels(2).allFinite(a, 0, n));
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.intBitsToFloat(0x7F800001)}) {
            for (int at : new int[] {0, 4567, n - 1}) {
                INDArray b = a.dup();
                b.putScalar(at, bad);
                assertFalse(kernels(2).allFinite(b, 0, n), "missed " + bad + " at " + at);
                assertTrue(kernels(2).allFinite(b, at + 1, n - at - 1) || at == n - 1 || at < 0);
            }
        }
        INDArray bf = a.castTo(DataType.BFLOAT16);
        bf.putScalar(99_999, Float.NaN);
        assertFalse(kernels(2).allFinite(bf, 0, n));
    }

    @Test
    void adamWMatchesAScalarReferenceInEveryLayout() {
        int n = 20_000;
        for (boolean packed : new boolean[] {false, true}) {
            for (boolean master : new boolean[] {false, true}) {
                for (Rounding stateRounding : ROUNDINGS) {
                    if (packed && stateRounding == Rounding.NONE) {
                        continue;
                    }
                    for (boolean applyToWeights : new boolean[] {true, false}) {
                        checkAdamW(n, packed, master, stateRounding, applyToWeights, DataType.FLOAT);
                    }
                }
            }
        }
        checkAdamW(n, false, false, Rounding.STOCHASTIC, true, DataType.BFLOAT16);
        checkAdamW(n, false, false, Rounding.NEAREST, true, DataType.BFLOAT16);
    }

    private static void checkAdamW(int n, boolean packed, boolean master, Rounding stateRounding,
                                   boolean applyToWeights, DataType type) {
        SplittableRandom rnd = new SplittableRandom(n + (packed ? 1 : 0) + (master ? 2 : 0) + stateRounding.ordinal());
        float[] g = new float[n], m = new float[n], v = new float[n], x = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) (rnd.nextGaussian() * 1e-2);
            m[i] = Bf16.roundNearestEven((float) (rnd.nextGaussian() * 1e-3));
            v[i] = Bf16.roundNearestEven((float) (rnd.nextDouble() * 1e-4));
            x[i] = Bf16.roundNearestEven((float) rnd.nextGaussian());
        }
        AdamWCoefficients c = new AdamWCoefficients(0.9f, 0.999f, 0.1f, 0.001f, 3e-3f, 1e-8f, 1e-4f,
                Rounding.STOCHASTIC, stateRounding, KEY);
        long stateLen = (packed ? n : 2L * n) + (master ? n : 0);
        INDArray state = Nd4j.create(type, stateLen);
        if (packed) {
            int[] slots = new int[n];
            for (int i = 0; i < n; i++) {
                slots[i] = (Float.floatToRawIntBits(m[i]) & 0xFFFF0000) | (Float.floatToRawIntBits(v[i]) >>> 16);
            }
            state.assign(Nd4j.createFromArray(concat(floatsFromBits(slots), master ? x : new float[0])));
        } else {
            state.assign(Nd4j.createFromArray(concat(concat(m, v), master ? x : new float[0])).castTo(type));
        }
        long masterOffset = master ? (packed ? n : 2L * n) : -1;
        INDArray grad = Nd4j.createFromArray(g).castTo(type == DataType.BFLOAT16 ? DataType.BFLOAT16 : DataType.FLOAT);
        float[] gUsed = grad.castTo(DataType.FLOAT).data().asFloat();
        INDArray params = Nd4j.createFromArray(x).castTo(type);
        AdamWState moments = packed ? AdamWState.packed(state, 0) : AdamWState.separate(state, 0, n);
        AdamWOperands o = new AdamWOperands(grad, 0, params, 0, master ? moments.withMaster(masterOffset) : moments,
                n, 1000, applyToWeights ? AdamWOperands.Output.WEIGHTS : AdamWOperands.Output.UPDATE);
        kernels(2).adamW(c, o);

        int[] stateBits = bitsOf(state);
        int[] paramBits = bitsOf(params);
        int[] gradBits = bitsOf(grad);
        for (int i = 0; i < n; i++) {
            float mi = 0.9f * m[i] + gUsed[i] * 0.1f;
            float vi = 0.999f * v[i] + gUsed[i] * gUsed[i] * 0.001f;
            float ui = mi * 3e-3f / ((float) Math.sqrt(vi) + 1e-8f) + 1e-4f * x[i];
            long idx = 1000 + i;
            int mr = round(mi, stateRounding, CounterRng.firstMomentBits(KEY, idx));
            int vr = round(vi, stateRounding, CounterRng.secondMomentBits(KEY, idx));
            if (packed) {
                assertEquals((mr & 0xFFFF0000) | (vr >>> 16), stateBits[i], "packed slot " + i);
            } else {
                assertEquals(mr, stateBits[i], "m " + i);
                assertEquals(vr, stateBits[n + i], "v " + i);
            }
            if (!applyToWeights) {
                assertEquals(Float.floatToRawIntBits(ui), gradBits[i], "update " + i);
                assertEquals(Float.floatToRawIntBits(x[i]), paramBits[i], "weights untouched " + i);
                continue;
            }
            float xi = x[i] - ui;
            if (master) {
                assertEquals(Float.floatToRawIntBits(xi), stateBits[(int) masterOffset + i], "master " + i);
            }
            assertEquals(round(xi, Rounding.STOCHASTIC, CounterRng.weightBits(KEY, idx)), paramBits[i], "weight " + i);
        }
    }

    private static int round(float x, Rounding r, int bits) {
        switch (r) {
            case STOCHASTIC:
                return Float.floatToRawIntBits(Bf16.roundStochastic(x, bits));
            case NEAREST:
                return Float.floatToRawIntBits(Bf16.roundNearestEven(x));
            default:
                return Float.floatToRawIntBits(x);
        }
    }

    private static float[] floatsFromBits(int[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = Float.intBitsToFloat(b[i]);
        }
        return f;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * One instance called from several threads at once (no lock around a pass: each carries its own operands) gives
     * the bits, and the NaN/Inf answers, of the same calls made one after another.
     */
    @Test
    void concurrentCallsGiveTheResultsOfSequentialCalls() throws Exception {
        int n = 3 * (int) ParallelRunner.CHUNK + 17; // several chunks, so the runner's threads take part
        int callers = 4;
        INDArray[] xs = new INDArray[callers];
        INDArray[] us = new INDArray[callers];
        INDArray[] sequential = new INDArray[callers];
        SplittableRandom rnd = new SplittableRandom(31);
        for (int c = 0; c < callers; c++) {
            float[] x = new float[n];
            float[] u = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = Bf16.roundNearestEven((float) rnd.nextGaussian());
                u[i] = (float) (rnd.nextGaussian() * 1e-3);
            }
            if (c % 2 == 1) {
                u[1000 * c] = Float.NaN;
            }
            xs[c] = Nd4j.createFromArray(x);
            us[c] = Nd4j.createFromArray(u);
            sequential[c] = xs[c].dup();
        }
        HostKernels shared = kernels(2);
        boolean[] finite = new boolean[callers];
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int c = 0; c < callers; c++) {
                final int caller = c;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < 10; r++) {
                        shared.applyUpdate(xs[caller], 0, us[caller], 0, n, Rounding.STOCHASTIC,
                                CounterRng.key(caller, r, 0), 0);
                        finite[caller] = shared.allFinite(us[caller], 0, n);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        HostKernels alone = kernels(2);
        for (int c = 0; c < callers; c++) {
            for (int r = 0; r < 10; r++) {
                alone.applyUpdate(sequential[c], 0, us[c], 0, n, Rounding.STOCHASTIC, CounterRng.key(c, r, 0), 0);
            }
            assertArrayEquals(bitsOf(sequential[c]), bitsOf(xs[c]), "caller " + c);
            assertEquals(c % 2 == 0, finite[c], "allFinite of caller " + c);
            assertEquals(c % 2 == 0, alone.allFinite(us[c], 0, n), "allFinite alone, caller " + c);
        }
    }

    /**
     * After warm-up, a pass allocates on the Java heap at most its small pass object (the lambda holding its operands):
     * no per-tile or per-element garbage from the plugin's hot path.
     */
    @Test
    void hotPathDoesNotAllocate() {
        int n = 1 << 20;
        HostKernels k = kernels(2);
        INDArray x = Nd4j.rand(DataType.FLOAT, n);
        INDArray u = Nd4j.rand(DataType.FLOAT, n).muli(1e-3);
        INDArray state = Nd4j.zeros(DataType.FLOAT, 2L * n);
        AdamWCoefficients c = new AdamWCoefficients(0.9f, 0.999f, 0.1f, 0.001f, 1e-3f, 1e-8f, 0f,
                Rounding.STOCHASTIC, Rounding.STOCHASTIC, 0);
        AdamWOperands o = new AdamWOperands(u, 0, x, 0, AdamWState.separate(state, 0, n), n, 0,
                AdamWOperands.Output.WEIGHTS);
        for (int i = 0; i < 50; i++) {
            k.applyUpdate(x, 0, u, 0, n, Rounding.STOCHASTIC, i, 0);
            k.adamW(c, o);
            k.allFinite(u, 0, n);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (int i = 0; i < 20; i++) {
            k.applyUpdate(x, 0, u, 0, n, Rounding.STOCHASTIC, i, 0);
            k.adamW(c, o);
            k.allFinite(u, 0, n);
        }
        long allocated = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 60 passes over 1M elements");
    }
}
