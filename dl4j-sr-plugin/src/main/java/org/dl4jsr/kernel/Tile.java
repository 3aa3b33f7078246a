package org.dl4jsr.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Per-thread scratch for one tile of elements. Kernels move a tile from native memory into these heap arrays, run
 * each stage (update rule, random bits, rounding) as a simple loop the JIT vectorises, and write it back.
 *
 * <p>Arithmetic runs on float arrays, rounding on int bit patterns. HotSpot 17 does not vectorise
 * {@code Float.floatToRawIntBits} in loops, so floats are reinterpreted as ints through a small direct buffer
 * (two bulk copies that stay in L1), which is several times faster than a scalar conversion loop.
 */
public final class Tile {
    /** Elements per tile: the arrays below stay inside a 64 KB L1 data cache. */
    public static final int SIZE = 1024;

    /** 0, 1, ..., SIZE-1: lets hash loops read the element index from an array, which HotSpot vectorises. */
    static final int[] IOTA = new int[SIZE];

    static {
        for (int k = 0; k < SIZE; k++) {
            IOTA[k] = k;
        }
    }

    final float[] g = new float[SIZE];
    final float[] m = new float[SIZE];
    final float[] v = new float[SIZE];
    final float[] x = new float[SIZE];
    final float[] u = new float[SIZE];
    final int[] mBits = new int[SIZE];
    final int[] vBits = new int[SIZE];
    final int[] xBits = new int[SIZE];
    /** Kahan compensation: its values, its bit patterns, and its slots (two BF16 per 32-bit slot). */
    final float[] c = new float[SIZE];
    final int[] cBits = new int[SIZE];
    final int[] cPairs = new int[SIZE / 2];
    final short[] halves = new short[SIZE];
    /** Widening scratch of BF16 loads. */
    final int[] wide = new int[SIZE];

    private final FloatBuffer scratchFloats;
    private final IntBuffer scratchInts;

    Tile() {
        ByteBuffer scratch = ByteBuffer.allocateDirect(SIZE * 4).order(ByteOrder.nativeOrder());
        scratchFloats = scratch.asFloatBuffer();
        scratchInts = scratch.asIntBuffer();
    }

    /** dst[k] = floatToRawIntBits(src[k]). */
    void toBits(float[] src, int[] dst, int n) {
        scratchFloats.put(0, src, 0, n);
        scratchInts.get(0, dst, 0, n);
    }

    /** dst[k] = intBitsToFloat(src[k]). */
    void toFloats(int[] src, float[] dst, int n) {
        scratchInts.put(0, src, 0, n);
        scratchFloats.get(0, dst, 0, n);
    }
}
