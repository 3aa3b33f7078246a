package org.dl4jsr;

import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * An activation computed in FP32 inside a BFLOAT16 network. ND4J 1.0.0-M2.1's CPU backend has no BF16 backprop
 * kernel for most activations (relu_bp, tanh_bp, sigmoid_bp, elu_bp, ... fail), so a standard network converted to
 * BF16 could not train. This wrapper widens the input (exactly), runs the wrapped activation in FP32 and rounds the
 * result back to the array's type (to nearest, as any BF16 op would). On FLOAT arrays it is the wrapped activation.
 * JSON-serialisable like any DL4J activation; {@link org.dl4jsr.convert.Bf16Converter} adds and removes it.
 */
public final class Fp32Activation implements IActivation {
    private static final long serialVersionUID = 1L;

    @JsonProperty private IActivation activation;

    private Fp32Activation() {
    }

    public Fp32Activation(IActivation activation) {
        this.activation = Objects.requireNonNull(activation, "activation");
    }

    /** The wrapped activation. */
    public IActivation getActivation() {
        return activation;
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        if (in.dataType() == DataType.FLOAT) {
            return activation.getActivation(in, training);
        }
        INDArray out = activation.getActivation(in.castTo(DataType.FLOAT), training);
        return in.assign(out);
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        if (in.dataType() == DataType.FLOAT && epsilon.dataType() == DataType.FLOAT) {
            return activation.backprop(in, epsilon);
        }
        Pair<INDArray, INDArray> p = activation.backprop(in.castTo(DataType.FLOAT), epsilon.castTo(DataType.FLOAT));
        INDArray paramGradients = p.getSecond() == null ? null : p.getSecond().castTo(in.dataType());
        return new Pair<>(in.assign(p.getFirst()), paramGradients);
    }

    @Override
    public int numParams(int inputSize) {
        return activation.numParams(inputSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fp32Activation && activation.equals(((Fp32Activation) o).activation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Fp32Activation.class, activation);
    }

    @Override
    public String toString() {
        return "fp32(" + activation + ")";
    }
}
