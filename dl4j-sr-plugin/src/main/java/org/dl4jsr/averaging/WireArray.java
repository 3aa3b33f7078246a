package org.dl4jsr.averaging;

import java.io.Serializable;
import org.dl4jsr.rounding.Bf16;

/**
 * One flat array (parameters or updater state) in its wire form, given its {@link WireLayout}: the BF16 halves of its
 * GRID and PACKED elements (2 bytes per value) and the bit patterns of its FP32 elements. Lossless: values on the grid
 * lose nothing when their zero low halves are dropped, and encoding refuses a GRID value that is off the grid rather
 * than rounding it silently.
 *
 * <p>Plain Java arrays, so that Spark's serialiser writes 2 bytes per BF16 value with no per-element overhead.
 */
public final class WireArray implements Serializable {
    private static final long serialVersionUID = 1L;

    private final short[] halves;
    private final int[] fp32;

    WireArray(short[] halves, int[] fp32) {
        this.halves = halves;
        this.fp32 = fp32;
    }

    /** Encodes the FP32 bit patterns of a whole array. */
    public static WireArray encode(int[] bits, WireLayout layout, String what) {
        checkLength(bits.length, layout, what);
        short[] halves = new short[(int) layout.halves()];
        int[] fp32 = new int[(int) layout.count(WireLayout.Kind.FP32)];
        int h = 0;
        int f = 0;
        for (int s = 0; s < layout.segments(); s++) {
            int from = (int) layout.start(s);
            int to = from + (int) layout.length(s);
            switch (layout.kind(s)) {
                case GRID:
                    for (int i = from; i < to; i++) {
                        requireOnGrid(bits[i], i, what);
                        halves[h++] = (short) (bits[i] >>> 16);
                    }
                    break;
                case PACKED:
                    for (int i = from; i < to; i++) {
                        halves[h++] = (short) (bits[i] >>> 16); // m
                        halves[h++] = (short) bits[i];          // v
                    }
                    break;
                default:
                    System.arraycopy(bits, from, fp32, f, to - from);
                    f += to - from;
            }
        }
        return new WireArray(halves, fp32);
    }

    /** The FP32 bit patterns of the whole array (exactly those that were encoded). */
    public int[] decodeBits(WireLayout layout) {
        checkWire(layout);
        int[] bits = new int[(int) layout.length()];
        int h = 0;
        int f = 0;
        for (int s = 0; s < layout.segments(); s++) {
            int from = (int) layout.start(s);
            int to = from + (int) layout.length(s);
            switch (layout.kind(s)) {
                case GRID:
                    for (int i = from; i < to; i++) {
                        bits[i] = halves[h++] << 16;
                    }
                    break;
                case PACKED:
                    for (int i = from; i < to; i++) {
                        int m = halves[h++] << 16;
                        bits[i] = m | (halves[h++] & 0xFFFF);
                    }
                    break;
                default:
                    System.arraycopy(fp32, f, bits, from, to - from);
                    f += to - from;
            }
        }
        return bits;
    }

    /**
     * An empty sum for {@link #addValuesTo}: every value -0.0, the identity of FP32 addition that also keeps a -0.0
     * summand (+0.0 would turn the sum of a single -0.0 into +0.0, breaking bit-exactness).
     */
    public static float[] newSums(WireLayout layout) {
        float[] sums = new float[Math.toIntExact(layout.values())];
        java.util.Arrays.fill(sums, -0.0f);
        return sums;
    }

    /** Adds this array's values (in value order, see {@link WireLayout}) to {@code sums}, in FP32. */
    public void addValuesTo(float[] sums, WireLayout layout) {
        checkWire(layout);
        if (sums.length != layout.values()) {
            throw new IllegalArgumentException("sums has " + sums.length + " values, layout " + layout.values());
        }
        int h = 0;
        int f = 0;
        int v = 0;
        for (int s = 0; s < layout.segments(); s++) {
            long n = layout.kind(s) == WireLayout.Kind.PACKED ? 2 * layout.length(s) : layout.length(s);
            if (layout.kind(s) == WireLayout.Kind.FP32) {
                for (long i = 0; i < n; i++) {
                    sums[v++] += Float.intBitsToFloat(fp32[f++]);
                }
            } else {
                for (long i = 0; i < n; i++) {
                    sums[v++] += Bf16.fromBits(halves[h++]);
                }
            }
        }
    }

    /**
     * The wire form of averaged values: {@code sums[i] / count} in FP32, stochastically rounded onto the BF16 grid
     * (GRID and PACKED values; FP32 values are kept as they are). Value {@code i} takes the 16 random bits
     * {@code round16.bits(i)}, so the result depends only on the sums and the key.
     */
    public static WireArray average(float[] sums, int count, WireLayout layout, RandomBits16 round16) {
        if (sums.length != layout.values()) {
            throw new IllegalArgumentException("sums has " + sums.length + " values, layout " + layout.values());
        }
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + count);
        }
        short[] halves = new short[(int) layout.halves()];
        int[] fp32 = new int[(int) layout.count(WireLayout.Kind.FP32)];
        float divisor = count;
        int h = 0;
        int f = 0;
        int v = 0;
        for (int s = 0; s < layout.segments(); s++) {
            long n = layout.kind(s) == WireLayout.Kind.PACKED ? 2 * layout.length(s) : layout.length(s);
            if (layout.kind(s) == WireLayout.Kind.FP32) {
                for (long i = 0; i < n; i++, v++) {
                    fp32[f++] = Float.floatToRawIntBits(sums[v] / divisor);
                }
            } else {
                for (long i = 0; i < n; i++, v++) {
                    halves[h++] = Bf16.toBits(Bf16.roundStochastic(sums[v] / divisor, round16.bits(v)));
                }
            }
        }
        return new WireArray(halves, fp32);
    }

    /** Bytes of the payload (BF16 halves and FP32 values), without serialisation framing. */
    public long payloadBytes() {
        return 2L * halves.length + 4L * fp32.length;
    }

    /** 16 random bits per value index. */
    @FunctionalInterface
    public interface RandomBits16 {
        int bits(long valueIndex);
    }

    private void checkWire(WireLayout layout) {
        if (halves.length != layout.halves() || fp32.length != layout.count(WireLayout.Kind.FP32)) {
            throw new IllegalArgumentException("Wire array (" + halves.length + " BF16 halves, " + fp32.length
                    + " FP32 values) does not match " + layout);
        }
    }

    /** Refuses element {@code i} if its FP32 bits are off the BF16 grid (it would be rounded silently otherwise). */
    static void requireOnGrid(int bits, int i, String what) {
        if ((bits & 0xFFFF) != 0) {
            throw new IllegalStateException(what + " element " + i + " (" + Float.intBitsToFloat(bits)
                    + ") is off the BF16 grid, so it cannot travel as BF16. Something changed it outside"
                    + " the plugin (a listener, a layer constraint, custom code between fits); every"
                    + " value updated by an SR updater must stay on the grid.");
        }
    }

    static void checkLength(int n, WireLayout layout, String what) {
        if (n != layout.length()) {
            throw new IllegalArgumentException(what + " has " + n + " elements, its layout " + layout.length());
        }
    }
}
