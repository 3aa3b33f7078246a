package org.dl4jsr.training;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/** The GradientUpdater of {@code Bf16Rounded}: the wrapped DL4J updater computes the update, the plugin rounds it. */
public final class WrappedGradientUpdater<T extends StochasticRoundingConfig> extends SrGradientUpdater<T> {
    private final T config;
    private final GradientUpdater<?> inner;

    public WrappedGradientUpdater(T config, GradientUpdater<?> inner) {
        this.config = config;
        this.inner = inner;
    }

    @Override
    public T getConfig() {
        return config;
    }

    /** The wrapped DL4J GradientUpdater. */
    public GradientUpdater<?> inner() {
        return inner;
    }

    @Override
    IUpdater hyperParameters() {
        return inner.getConfig();
    }

    @Override
    void computeUpdate(OptimizerStep step, BlockBinding b, INDArray gradient, int iteration, int epoch) {
        inner.applyUpdater(gradient, iteration, epoch);
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        inner.setState(stateMap, initialize);
    }

    @Override
    public Map<String, INDArray> getState() {
        return inner.getState();
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        inner.setStateViewArray(viewArray, gradientShape, gradientOrder, initialize);
    }
}
