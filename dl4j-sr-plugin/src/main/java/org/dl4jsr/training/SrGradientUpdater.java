package org.dl4jsr.training;

import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Base of the plugin's GradientUpdaters: refuses to run until the network is attached, skips the update when its
 * {@link OptimizerStep} is skipped, and rounds its block's weights when the step function applies the update.
 */
public abstract class SrGradientUpdater<T extends StochasticRoundingConfig> implements GradientUpdater<T> {
    private BlockBinding binding;

    final void bind(BlockBinding binding) {
        this.binding = binding;
        bound(binding);
    }

    /** Called when the updater learns where its block sits (attach). */
    void bound(BlockBinding binding) {
    }

    final BlockBinding binding() {
        return binding;
    }

    @Override
    public final void applyUpdater(INDArray gradient, int iteration, int epoch) {
        BlockBinding b = binding;
        OptimizerStep step = b == null ? null : b.step();
        if (step == null) {
            throw new Bf16NotAttachedException(getConfig());
        }
        if (!step.skipped()) {
            computeUpdate(step, b, gradient, iteration, epoch);
        }
    }

    /** Turns the block's gradient into its update (or, fused, writes the weights and records it in the step). */
    abstract void computeUpdate(OptimizerStep step, BlockBinding b, INDArray gradient, int iteration, int epoch);

    /** The configuration whose hyper-parameters compute the update (the wrapped DL4J updater's, when wrapped). */
    abstract IUpdater hyperParameters();

    /** Checks that this updater's configuration can run on a network of {@code dataType}. */
    void validateFor(DataType dataType, String blockName) {
    }

    /** Puts the block's weights onto the BF16 grid when the network is attached. */
    void prepareWeights(INDArray params, Kernels kernels, Rounding initialRounding, long key) {
        BlockBinding b = binding;
        if (getConfig().getWeightRounding() != Rounding.NONE) {
            kernels.round(params, b.start(), params, b.start(), b.length(), initialRounding, key, b.start());
        }
    }

    /** Applies this block's slice of {@code update} to its weights: {@code x = round(x - u)} with the given key. */
    void applyToWeights(OptimizerStep step, INDArray params, INDArray update, long key) {
        BlockBinding b = binding;
        step.kernels().applyUpdate(params, b.start(), update, b.start(), b.length(), getConfig().getWeightRounding(),
                key, b.start());
    }
}
