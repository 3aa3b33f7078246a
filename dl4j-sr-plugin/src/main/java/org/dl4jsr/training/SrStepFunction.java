package org.dl4jsr.training;

import org.deeplearning4j.optimize.api.StepFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The step function installed into an attached network's optimizer. DL4J applies every update through it (plain
 * fit, and gradient sharing via {@code EncodedGradientsAccumulator.applyUpdate}); it finishes the current
 * {@link OptimizerStep}. Weights change only there and in a fused updater pass that the step records.
 */
final class SrStepFunction implements StepFunction {
    private static final long serialVersionUID = 1L;
    private final transient TrainingEngine attachment;

    SrStepFunction(TrainingEngine attachment) {
        this.attachment = attachment;
    }

    TrainingEngine attachment() {
        return attachment;
    }

    @Override
    public void step(INDArray x, INDArray line) {
        attachment.step(x, line);
    }

    @Override
    public void step(INDArray x, INDArray line, double step) {
        throw new UnsupportedOperationException("BF16 training supports stochastic gradient descent only (no line search)");
    }

    @Override
    public void step() {
    }
}
