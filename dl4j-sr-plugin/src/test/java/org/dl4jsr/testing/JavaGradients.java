package org.dl4jsr.testing;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Replaces the gradients DL4J's backward pass computed with values made in Java, before the updater sees them
 * ({@code onGradientCalculation} runs between the backward pass and the updater). Training still goes through DL4J's
 * own fit, solver, updater blocks and step function, and through the plugin's attach, so every step path runs as in
 * real training; but no hashed bit of weights or optimizer state comes from the forward/backward pass, whose FP32
 * results depend on the GEMM kernel OpenBLAS picks for the CPU.
 *
 * <p>The values are a function of the seed, the iteration and the exact bits of the minibatch's features (so that
 * replicas or Spark workers fed different data get different gradients). Stateless and serialisable: ParallelWrapper
 * copies listeners to its replicas, Spark ships them to its workers.
 */
public final class JavaGradients extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Gradients replaced in this JVM by any instance (copies made for replicas and local Spark workers count too). */
    private static final AtomicLong REPLACED = new AtomicLong();
    private final long seed;
    private final double scale;

    public JavaGradients(long seed) {
        this(seed, 1.0);
    }

    /** Gradient values up to {@code scale} in magnitude (before DL4J divides them by the minibatch size). */
    public JavaGradients(long seed, double scale) {
        this.seed = seed;
        this.scale = scale;
    }

    @Override
    public void onGradientCalculation(Model model) {
        Network net = Network.of(model);
        INDArray g = net.gradients();
        long key = JavaMade.key(seed, net.iterationCount(), JavaMade.bitsKey(input(model)));
        JavaMade.assign(g, JavaMade.values(key, (int) g.length(), scale, g.dataType() == DataType.BFLOAT16));
        REPLACED.incrementAndGet();
    }

    /** How many steps' gradients were replaced in this JVM so far: lets a test check that its copies ran. */
    public static long replacedSoFar() {
        return REPLACED.get();
    }

    private static INDArray input(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return ((MultiLayerNetwork) model).getInput();
        }
        INDArray[] inputs = ((ComputationGraph) model).getInputs();
        return inputs == null || inputs.length == 0 ? null : inputs[0];
    }
}
