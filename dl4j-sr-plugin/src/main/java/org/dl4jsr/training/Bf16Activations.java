package org.dl4jsr.training;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which activations the current ND4J backend can run forward and backward on BFLOAT16 arrays (M2.1's CPU backend
 * rejects relu_bp, tanh_bp, sigmoid_bp and most others; GELU, SWISH, MISH, identity and softmax work).
 *
 * <p>Trying an op the backend rejects makes libnd4j print "Op [tanh_bp] failed check ..." to standard output and ND4J
 * log an ERROR, from a call that succeeds. So on the CPU backend the answers for DL4J's built-in activations (their
 * default instances, as {@code .activation(Activation.X)} configures them) come from {@link #CPU_BF16_BACKPROP}, a
 * table measured on ND4J 1.0.0-M2.1 that {@code Bf16ActivationsTest} checks against the backend by trying every one.
 * Only activations outside the table (custom ones, other parameters, other backends) are tried, once each.
 */
public final class Bf16Activations {
    /** The built-in activations whose default instance runs forward and backward in BF16 on the M2.1 CPU backend. */
    public static final Set<Activation> CPU_BF16_BACKPROP = EnumSet.of(Activation.GELU, Activation.IDENTITY,
            Activation.MISH, Activation.RRELU, Activation.SOFTMAX, Activation.SWISH);

    /**
     * Activation classes whose answer does not depend on their parameters (the same op runs whatever they are), so a
     * non-default instance is not tried either: LeakyReLU with any alpha (Darknet19 and YOLO use 0.1).
     */
    public static final Map<Class<? extends IActivation>, Boolean> CPU_BY_CLASS = Map.of(ActivationLReLU.class, false);

    private static final boolean CPU = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");
    private static final Map<IActivation, Boolean> KNOWN = new ConcurrentHashMap<>();
    private static final AtomicLong TRIED = new AtomicLong();

    static {
        if (CPU) {
            for (Activation a : Activation.values()) {
                IActivation instance = defaultInstance(a);
                if (instance != null) {
                    KNOWN.put(instance, CPU_BF16_BACKPROP.contains(a));
                }
            }
        }
    }

    private Bf16Activations() {
    }

    /** The instance {@code .activation(a)} configures, or null where ND4J has none. */
    public static IActivation defaultInstance(Activation a) {
        try {
            return a.getActivationFunction();
        } catch (RuntimeException e) {
            return null; // e.g. an enum value without an implementation
        }
    }

    public static boolean backpropagatesInBf16(IActivation activation) {
        Boolean byClass = CPU ? CPU_BY_CLASS.get(activation.getClass()) : null;
        return byClass != null ? byClass : KNOWN.computeIfAbsent(activation, Bf16Activations::tryInBf16);
    }

    /**
     * Asks the backend by running {@code activation} forward and backward on a small BFLOAT16 array. A rejected op
     * makes libnd4j print to standard output: used for activations outside the table, and by the test that checks it.
     */
    public static boolean tryInBf16(IActivation activation) {
        TRIED.incrementAndGet();
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

    /** How many times the backend has been tried in this JVM (0 while only table activations were asked about). */
    public static long timesTried() {
        return TRIED.get();
    }
}
