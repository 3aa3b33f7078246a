package org.dl4jsr.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The host memory of a contiguous FLOAT or BFLOAT16 array, moved to and from tiles in bulk. Only valid on a backend
 * whose buffers live in host memory (ND4J's CPU backend); {@link Kernels#name()} tells which path is active.
 */
final class HostArray {
    /** Weak, so a cache of views never keeps a network's arrays alive. */
    private final java.lang.ref.WeakReference<INDArray> array;
    private final boolean bf16;
    private final FloatBuffer floats;
    private final IntBuffer ints;
    private final ShortBuffer shorts;
    /** Index of the array's first element in the buffers above. */
    private final int base;
    private final long length;

    private HostArray(INDArray array) {
        OperandChecks.requireKernelArray(array);
        DataType type = array.dataType();
        // asNio() starts at the base of the underlying allocation; a view adds its offset (in elements).
        ByteBuffer bytes = array.data().asNio().order(ByteOrder.nativeOrder());
        long first = array.offset();
        long capacity = bytes.capacity() / (type == DataType.FLOAT ? 4 : 2);
        if (first + array.length() > capacity) {
            throw new IllegalStateException("Array of length " + array.length() + " at offset " + first
                    + " exceeds its host buffer of " + capacity + " elements");
        }
        this.array = new java.lang.ref.WeakReference<>(array);
        this.bf16 = type == DataType.BFLOAT16;
        this.floats = bf16 ? null : bytes.asFloatBuffer();
        this.ints = bf16 ? null : bytes.asIntBuffer();
        this.shorts = bf16 ? bytes.asShortBuffer() : null;
        this.base = (int) first;
        this.length = array.length();
    }

    static HostArray of(INDArray array) {
        return new HostArray(array);
    }

    boolean isViewOf(INDArray candidate) {
        return array.get() == candidate;
    }

    boolean isBf16() {
        return bf16;
    }

    long length() {
        return length;
    }

    /** dst[0..n) = values at [i, i+n) as floats (BF16 widened exactly). */
    void load(long i, float[] dst, int n, Tile t) {
        if (bf16) {
            loadBits(i, t.wide, n, t);
            t.toFloats(t.wide, dst, n);
        } else {
            floats.get(base + (int) i, dst, 0, n);
        }
    }

    /** dst[0..n) = FP32 bit patterns of the values at [i, i+n). */
    void loadBits(long i, int[] dst, int n, Tile t) {
        if (bf16) {
            short[] h = t.halves;
            shorts.get(base + (int) i, h, 0, n);
            for (int k = 0; k < n; k++) {
                dst[k] = h[k] << 16;
            }
        } else {
            ints.get(base + (int) i, dst, 0, n);
        }
    }

    /**
     * Values at [i, i+n) = the FP32 bit patterns src[0..n). BF16 storage keeps the upper halves, so src must already
     * be on the BF16 grid (kernels round before they store).
     */
    void storeBits(long i, int[] src, int n, Tile t) {
        if (bf16) {
            short[] h = t.halves;
            for (int k = 0; k < n; k++) {
                h[k] = (short) (src[k] >>> 16);
            }
            shorts.put(base + (int) i, h, 0, n);
        } else {
            ints.put(base + (int) i, src, 0, n);
        }
    }

    /** Values at [i, i+n) = src[0..n) in full FP32; FLOAT arrays only. */
    void storeFloats(long i, float[] src, int n) {
        if (bf16) {
            throw new IllegalStateException("Unrounded FP32 values cannot be stored in a BFLOAT16 array");
        }
        floats.put(base + (int) i, src, 0, n);
    }
}
