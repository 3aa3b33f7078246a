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
        BlockBinding b = binding != null ? binding : TrainingEngine.rebindFor(this, gradient);
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

    /** Puts the block's weights onto the BF16 grid when the network is attached (frozen parameters excepted). */
    void prepareWeights(INDArray params, Kernels kernels, Rounding initialRounding, long key) {
        if (getConfig().getWeightRounding() != Rounding.NONE) {
            for (long[] r : binding.writtenRanges()) {
                kernels.round(params, r[0], params, r[0], r[1] - r[0], initialRounding, key, r[0]);
            }
        }
    }

    /** Applies this block's slice of {@code update} to its weights (frozen parameters excepted): {@code x = round(x - u)} with the given key. */
    void applyToWeights(OptimizerStep step, INDArray params, INDArray update, long key) {
        for (long[] r : binding.writtenRanges()) {
            // the same element gets the same rounding bits whichever ranges it is applied in (rngIndex = offset)
            step.kernels().applyUpdate(params, r[0], update, r[0], r[1] - r[0], getConfig().getWeightRounding(), key,
                    r[0]);
        }
    }
}
