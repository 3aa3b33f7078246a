package org.dl4jsr.training;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which activations the current ND4J backend can run forward and backward on BFLOAT16 arrays, found by trying
 * (M2.1's CPU backend rejects relu_bp, tanh_bp, sigmoid_bp and most others; GELU, SWISH, MISH, identity and softmax
 * work). Asking the backend rather than keeping a list stays right on backends with other kernels.
 */
public final class Bf16Activations {
    private static final Map<IActivation, Boolean> KNOWN = new ConcurrentHashMap<>();

    private Bf16Activations() {
    }

    public static boolean backpropagatesInBf16(IActivation activation) {
        return KNOWN.computeIfAbsent(activation, Bf16Activations::tryBf16);
    }

    private static boolean tryBf16(IActivation activation) {
        INDArray in = Nd4j.createFromArray(new float[][] {{-1f, -0.5f, 0f}, {0.25f, 0.5f, 1f}}).castTo(DataType.BFLOAT16);
        INDArray epsilon = Nd4j.ones(DataType.BFLOAT16, 2, 3);
        try {
            activation.getActivation(in.dup(), true);
            activation.backprop(in.dup(), epsilon);
            return true;
        } catch (RuntimeException e) {
            return false; // e.g. "Op [tanh_bp] execution failed": no BF16 kernel
        }
    }
}
