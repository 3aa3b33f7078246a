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
        layout.forEachPart(0, layout.length(), new SegmentVisitor() {
            @Override
            public void grid(Part p) {
                for (int i = p.start(), h = p.wire(); i < p.end(); i++, h++) {
                    requireOnGrid(bits[i], i, what);
                    halves[h] = (short) (bits[i] >>> 16);
                }
            }

            @Override
            public void packed(Part p) {
                for (int i = p.start(), h = p.wire(); i < p.end(); i++, h += 2) {
                    halves[h] = (short) (bits[i] >>> 16); // m
                    halves[h + 1] = (short) bits[i];      // v
                }
            }

            @Override
            public void fp32(Part p) {
                System.arraycopy(bits, p.start(), fp32, p.wire(), p.length());
            }
        });
        return new WireArray(halves, fp32);
    }

    /** The FP32 bit patterns of the whole array (exactly those that were encoded). */
    public int[] decodeBits(WireLayout layout) {
        checkWire(layout);
        int[] bits = new int[(int) layout.length()];
        layout.forEachPart(0, layout.length(), new SegmentVisitor() {
            @Override
            public void grid(Part p) {
                for (int i = p.start(), h = p.wire(); i < p.end(); i++, h++) {
                    bits[i] = halves[h] << 16;
                }
            }

            @Override
            public void packed(Part p) {
                for (int i = p.start(), h = p.wire(); i < p.end(); i++, h += 2) {
                    bits[i] = halves[h] << 16 | (halves[h + 1] & 0xFFFF);
                }
            }

            @Override
            public void fp32(Part p) {
                System.arraycopy(fp32, p.wire(), bits, p.start(), p.length());
            }
        });
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
        checkSums(sums, layout);
        layout.forEachPart(0, layout.length(), new ValuesVisitor() {
            @Override
            void halves(int value, int half, int n) { // a wire half holds a value's BF16 bits: one per value
                for (int k = 0; k < n; k++) {
                    sums[value + k] += Bf16.fromBits(halves[half + k]);
                }
            }

            @Override
            public void fp32(Part p) {
                for (int k = 0; k < p.length(); k++) {
                    sums[p.value() + k] += Float.intBitsToFloat(fp32[p.wire() + k]);
                }
            }
        });
    }

    /**
     * The wire form of averaged values: {@code sums[i] / count} in FP32, stochastically rounded onto the BF16 grid
     * (GRID and PACKED values; FP32 values are kept as they are). Value {@code i} takes the 16 random bits
     * {@code round16.bits(i)}, so the result depends only on the sums and the key.
     */
    public static WireArray average(float[] sums, int count, WireLayout layout, RandomBits16 round16) {
        checkSums(sums, layout);
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + count);
        }
        short[] halves = new short[(int) layout.halves()];
        int[] fp32 = new int[(int) layout.count(WireLayout.Kind.FP32)];
        float divisor = count;
        layout.forEachPart(0, layout.length(), new ValuesVisitor() {
            @Override
            void halves(int value, int half, int n) {
                for (int k = 0; k < n; k++) {
                    halves[half + k] = Bf16.toBits(Bf16.roundStochastic(sums[value + k] / divisor,
                            round16.bits(value + k)));
                }
            }

            @Override
            public void fp32(Part p) {
                for (int k = 0; k < p.length(); k++) {
                    fp32[p.wire() + k] = Float.floatToRawIntBits(sums[p.value() + k] / divisor);
                }
            }
        });
        return new WireArray(halves, fp32);
    }

    /**
     * A pass over values that treats GRID and PACKED alike: on the wire both are runs of BF16 halves, one per value
     * (a PACKED element's m then v), so value {@code value + k} is half {@code half + k}.
     */
    private abstract static class ValuesVisitor implements SegmentVisitor {
        abstract void halves(int value, int half, int n);

        @Override
        public void grid(Part p) {
            halves(p.value(), p.wire(), p.length());
        }

        @Override
        public void packed(Part p) {
            halves(p.value(), p.wire(), 2 * p.length());
        }
    }

    private static void checkSums(float[] sums, WireLayout layout) {
        if (sums.length != layout.values()) {
            throw new IllegalArgumentException("sums has " + sums.length + " values, layout " + layout.values());
        }
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
