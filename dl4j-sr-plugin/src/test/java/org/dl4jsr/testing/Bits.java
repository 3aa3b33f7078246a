package org.dl4jsr.testing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.deeplearning4j.nn.api.Model;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Exact bit patterns of arrays and networks, for bit-for-bit comparisons and golden hashes. */
public final class Bits {
    private Bits() {
    }

    /** FP32 bit patterns of every element (BF16 values widen exactly). */
    public static int[] of(INDArray a) {
        float[] f = a.dup().data().asFloat();
        int[] bits = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            bits[i] = Float.floatToRawIntBits(f[i]);
        }
        return bits;
    }

    /** SHA-256 (first 8 bytes, hex) of the data types and raw bytes of {@code arrays} (null counts as empty). */
    public static String hash(INDArray... arrays) {
        MessageDigest md = sha256();
        for (INDArray a : arrays) {
            if (a == null) {
                md.update((byte) 0);
                continue;
            }
            md.update(a.dataType().name().getBytes(StandardCharsets.UTF_8));
            md.update(a.dup().data().asBytes());
        }
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    /** {@link #hash(INDArray...)} of a network's params and updater state, and its iteration count. */
    public static String hash(Model model) {
        Network net = Network.of(model);
        MessageDigest md = sha256();
        md.update(hash(net.params(), net.updaterState()).getBytes(StandardCharsets.UTF_8));
        md.update(Integer.toString(net.iterationCount()).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
