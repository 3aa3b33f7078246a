package org.dl4jsr.training;

import org.deeplearning4j.optimize.api.StepFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The step function installed into an attached network's optimizer. DL4J applies every update through it (plain
 * fit, and gradient sharing via {@code EncodedGradientsAccumulator.applyUpdate}); it finishes the current
 * {@link OptimizerStep}. Weights change only there and in a fused updater pass that the step records.
 *
 * <p>This function holds no state of its own: the {@link TrainingEngine} owns the step in progress (it starts it when
 * the first block's updater asks, {@link TrainingEngine#stepFor}) and finishes it here.
 */
final class SrStepFunction implements StepFunction {
    private static final long serialVersionUID = 1L;
    private final transient TrainingEngine engine;

    SrStepFunction(TrainingEngine engine) {
        this.engine = engine;
    }

    TrainingEngine engine() {
        return engine;
    }

    @Override
    public void step(INDArray x, INDArray line) {
        engine.step(x, line);
    }

    @Override
    public void step(INDArray x, INDArray line, double step) {
        throw new UnsupportedOperationException("BF16 training supports stochastic gradient descent only (no line search)");
    }

    @Override
    public void step() {
    }
}
