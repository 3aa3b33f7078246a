package org.dl4jsr.checkpoint;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The array encoding of checkpoints: exact, and half the size of FP32 for values on the BF16 grid.
 *
 * <p>An FP32 array is written as the upper 16 bits of every value, then, chunk by chunk, a flag and, only for chunks
 * where some value is off the grid, the lower 16 bits. The upper halves go out as two byte planes per block (all
 * sign/exponent bytes, then all mantissa bytes), which lets the zip's deflate squeeze the repetitive exponents. Weights and AdamWSR moments on the grid cost 2 bytes per value;
 * FP32 master weights, packed moments or DL4J optimizer state cost 4 (plus one flag byte per chunk). A BFLOAT16 array
 * is its 16-bit values. Arrays are read and written in blocks, so nothing the size of the network is copied at once.
 */
final class CheckpointArrays {
    static final int CHUNK = 4096;
    private static final int BLOCK = 1 << 20;

    private CheckpointArrays() {
    }

    static void write(INDArray array, DataOutputStream out) throws IOException {
        INDArray flat = array.reshape(array.length());
        long n = flat.length();
        boolean bf16 = flat.dataType() == DataType.BFLOAT16;
        out.writeUTF(bf16 ? DataType.BFLOAT16.name() : DataType.FLOAT.name());
        out.writeLong(n);
        for (long from = 0; from < n; from += BLOCK) {
            float[] values = block(flat, from, n);
            byte[] planes = new byte[2 * values.length];
            for (int i = 0; i < values.length; i++) {
                int bits = Float.floatToRawIntBits(values[i]);
                planes[i] = (byte) (bits >>> 24);
                planes[values.length + i] = (byte) (bits >>> 16);
            }
            out.write(planes);
        }
        if (bf16) {
            return;
        }
        for (long from = 0; from < n; from += BLOCK) {
            float[] values = block(flat, from, n);
            for (int c = 0; c < values.length; c += CHUNK) {
                int end = Math.min(values.length, c + CHUNK);
                boolean onGrid = true;
                for (int i = c; i < end && onGrid; i++) {
                    onGrid = (Float.floatToRawIntBits(values[i]) & 0xFFFF) == 0;
                }
                out.writeBoolean(!onGrid);
                for (int i = c; i < end && !onGrid; i++) {
                    out.writeShort(Float.floatToRawIntBits(values[i]));
                }
            }
        }
    }

    private static float[] block(INDArray flat, long from, long n) {
        return flat.get(NDArrayIndex.interval(from, Math.min(n, from + BLOCK))).castTo(DataType.FLOAT).toFloatVector();
    }

    /** Reads an array written by {@link #write}; {@code expectedLength} guards against a mismatched entry. */
    static INDArray read(DataInputStream in, long expectedLength) throws IOException {
        DataType type = DataType.valueOf(in.readUTF());
        long n = in.readLong();
        if (n != expectedLength) {
            throw new IOException("array holds " + n + " values, expected " + expectedLength);
        }
        if (n > Integer.MAX_VALUE) {
            throw new IOException("arrays over 2^31 values are not supported");
        }
        int[] bits = new int[(int) n];
        for (int from = 0; from < n; from += BLOCK) {
            int len = (int) Math.min(BLOCK, n - from);
            byte[] planes = new byte[2 * len];
            in.readFully(planes);
            for (int i = 0; i < len; i++) {
                bits[from + i] = ((planes[i] & 0xFF) << 24) | ((planes[len + i] & 0xFF) << 16);
            }
        }
        if (type == DataType.FLOAT) {
            for (int c = 0; c < n; c += CHUNK) {
                if (in.readBoolean()) {
                    for (int i = c; i < Math.min(n, c + CHUNK); i++) {
                        bits[i] |= in.readUnsignedShort();
                    }
                }
            }
        }
        float[] values = new float[(int) n];
        for (int i = 0; i < n; i++) {
            values[i] = Float.intBitsToFloat(bits[i]);
        }
        INDArray fp32 = Nd4j.createFromArray(values);
        return type == DataType.FLOAT ? fp32 : fp32.castTo(type); // BF16 values are exact in FP32 and back
    }
}
