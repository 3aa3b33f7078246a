package org.dl4jsr.testing;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Values made in plain Java from a seed, for bit-exact tests whose expected bits must not depend on the CPU: a
 * SplitMix64 mix of (seed, index) turned into a float with IEEE arithmetic only (no library function, no BLAS, no
 * ND4J random generator), so every x86-64 CPU and every JDK makes the same bits.
 */
public final class JavaMade {
    private JavaMade() {
    }

    /** SplitMix64's finaliser: a bijective mix of 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A key made of several numbers (order matters). */
    public static long key(long... parts) {
        long k = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            k = mix(k ^ mix(p + 0x9E3779B97F4A7C15L));
        }
        return k;
    }

    /**
     * Value {@code index} of the stream {@code seed}: uniform in (-scale, scale) times a power of two between 1 and
     * 2^-7 (so magnitudes vary like real gradients), exactly 0 for about one value in 32; on the BF16 grid (low 16
     * bits cleared) when {@code bf16}.
     */
    public static float value(long seed, long index, double scale, boolean bf16) {
        long z = mix(seed + index * 0x9E3779B97F4A7C15L);
        if ((z & 31) == 0) {
            return 0f;
        }
        double u = (z >>> 11) * 0x1.0p-53 * 2 - 1;
        float f = (float) Math.scalb(u * scale, -(int) ((z >>> 5) & 7));
        return bf16 ? Float.intBitsToFloat(Float.floatToRawIntBits(f) & 0xFFFF0000) : f;
    }

    public static float[] values(long seed, int n, double scale, boolean bf16) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = value(seed, i, scale, bf16);
        }
        return out;
    }

    /** Overwrites {@code target} (any shape, FLOAT or BFLOAT16) with {@code values} in flat order (exact). */
    public static void assign(INDArray target, float[] values) {
        INDArray source = Nd4j.createFromArray(values).reshape(target.shape()).castTo(target.dataType());
        target.assign(source);
    }

    /** Sets every parameter of {@code model} to Java-made values (on the BF16 grid for a BFLOAT16 network). */
    public static void params(Model model, long seed) {
        Network net = Network.of(model);
        INDArray p = net.params();
        assign(p, values(key(seed, 1), (int) p.length(), 0.5, p.dataType() == DataType.BFLOAT16));
    }

    /**
     * {@code count} minibatches of {@code rows} Iris-shaped rows (4 features, 3 one-hot classes) made in Java. The
     * network's forward pass sees them; with {@link JavaGradients} they also decide the gradients.
     */
    public static List<DataSet> batches(long seed, int count, int rows, DataType type) {
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            float[] f = values(key(seed, 2, b), rows * 4, 2.0, type == DataType.BFLOAT16);
            float[] l = new float[rows * 3];
            for (int r = 0; r < rows; r++) {
                l[r * 3 + (int) Long.remainderUnsigned(mix(key(seed, 3, b, r)), 3)] = 1f;
            }
            out.add(new DataSet(Nd4j.createFromArray(f).reshape(rows, 4).castTo(type),
                    Nd4j.createFromArray(l).reshape(rows, 3).castTo(type)));
        }
        return out;
    }

    /** A hash of the exact bits of {@code a} (for seeding, not for comparing). */
    public static long bitsKey(INDArray a) {
        if (a == null) {
            return 0;
        }
        float[] f = a.dup().data().asFloat();
        long k = f.length;
        for (float x : f) {
            k = mix(k ^ Float.floatToRawIntBits(x));
        }
        return k;
    }
}
