package org.dl4jsr.diagnostics;

import org.dl4jsr.network.Network;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bytes held for training, measured from the arrays that exist: parameters, gradients and updater state.
 * (Activations and workspaces are excluded: they depend on the batch, not on the optimizer.)
 */
public final class TrainingMemory {
    private final long parameters;
    private final long paramBytes;
    private final long gradientBytes;
    private final long updaterStateBytes;

    private TrainingMemory(long parameters, long paramBytes, long gradientBytes, long updaterStateBytes) {
        this.parameters = parameters;
        this.paramBytes = paramBytes;
        this.gradientBytes = gradientBytes;
        this.updaterStateBytes = updaterStateBytes;
    }

    /** Measures a MultiLayerNetwork or ComputationGraph (initialising its updater and gradient arrays if needed). */
    public static TrainingMemory of(Model model) {
        Network net = Network.of(model);
        net.initialise();
        INDArray state = net.updater().getStateViewArray();
        return new TrainingMemory(net.params().length(), bytes(net.params()), bytes(net.gradients()), bytes(state));
    }

    private static long bytes(INDArray a) {
        return a == null ? 0 : a.length() * a.dataType().width();
    }

    public long getParameters() {
        return parameters;
    }

    public long getParamBytes() {
        return paramBytes;
    }

    public long getGradientBytes() {
        return gradientBytes;
    }

    public long getUpdaterStateBytes() {
        return updaterStateBytes;
    }

    public long getTotalBytes() {
        return paramBytes + gradientBytes + updaterStateBytes;
    }

    /** (params + gradients + updater state) bytes per parameter. */
    public double bytesPerParameter() {
        return (double) getTotalBytes() / parameters;
    }

    @Override
    public String toString() {
        return String.format("%.2f bytes/param (params %d B, gradients %d B, updater state %d B, %d parameters)",
                bytesPerParameter(), paramBytes, gradientBytes, updaterStateBytes, parameters);
    }
}
