package org.dl4jsr;

import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * Base of the plugin's GradientUpdaters: refuses to run until {@link Bf16Training#attach} has bound it to its
 * network, takes part in the per-step non-finite gradient check, and rounds its block's weights when the step
 * function applies the update.
 */
abstract class SrGradientUpdater<T extends StochasticRoundingConfig> implements GradientUpdater<T> {
    private BlockBinding binding;

    final void bind(BlockBinding binding) {
        this.binding = binding;
    }

    final BlockBinding binding() {
        return binding;
    }

    @Override
    public final void applyUpdater(INDArray gradient, int iteration, int epoch) {
        BlockBinding b = binding;
        if (b == null || !b.attachment().isInstalled()) {
            throw new Bf16NotAttachedException(getConfig());
        }
        if (b.attachment().beginUpdate(b)) {
            computeUpdate(b, gradient, iteration, epoch);
        }
    }

    /** Turns the block's gradient into its update (or, fused, applies it to the weights directly). */
    abstract void computeUpdate(BlockBinding b, INDArray gradient, int iteration, int epoch);

    /** Checks that this updater's configuration can run on a network of {@code dataType}. */
    void validateFor(DataType dataType, String blockName) {
    }

    /** Puts the block's weights onto the BF16 grid when the network is attached. */
    void prepareWeights(Rounding initialRounding, long key) {
        BlockBinding b = binding;
        if (getConfig().getWeightRounding() != Rounding.NONE) {
            b.kernels().round(b.params(), b.start(), b.params(), b.start(), b.length(), initialRounding, key, b.start());
        }
    }

    /**
     * Applies this block's slice of {@code update} to its weights: {@code x = round(x - u)}.
     *
     * @param firstStepOfPass true for the step that follows this step's updater pass (false for extra applications
     *                        of shared updates in gradient-sharing training)
     */
    void applyToWeights(INDArray params, INDArray update, int iteration, int applyIndex, boolean firstStepOfPass) {
        BlockBinding b = binding;
        long key = CounterRng.key(getConfig().getSeed(), iteration, applyIndex);
        b.kernels().applyUpdate(params, b.start(), update, b.start(), b.length(), getConfig().getWeightRounding(), key,
                b.start());
    }
}
