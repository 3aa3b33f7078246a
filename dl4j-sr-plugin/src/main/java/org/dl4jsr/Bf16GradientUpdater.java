package org.dl4jsr;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

/** The GradientUpdater of {@link Bf16Updater}: the wrapped DL4J updater computes the update, the plugin rounds it. */
final class Bf16GradientUpdater extends SrGradientUpdater<Bf16Updater> {
    private final Bf16Updater config;
    private final GradientUpdater<?> inner;

    Bf16GradientUpdater(Bf16Updater config, GradientUpdater<?> inner) {
        this.config = config;
        this.inner = inner;
    }

    @Override
    public Bf16Updater getConfig() {
        return config;
    }

    /** The wrapped DL4J GradientUpdater. */
    GradientUpdater<?> inner() {
        return inner;
    }

    @Override
    void computeUpdate(BlockBinding b, INDArray gradient, int iteration, int epoch) {
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
