package org.dl4jsr.kernel;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The arrays one fused AdamW pass reads and writes for one block of {@code length} parameters, each a run from its
 * offset; {@link AdamWCoefficients} holds what the step applies to every block.
 *
 * @param grad     the gradient in; with {@link Output#UPDATE} the update out (rounded to nearest when the array is
 *                 BFLOAT16: DL4J then applies a BF16 update, as it would with its own updaters on a BF16 network)
 * @param params   the network's weights (FLOAT or BFLOAT16)
 * @param state    the block's moments and optional master weights or compensation
 * @param rngIndex the counter index of the block's first element (its index in the network's flat parameters)
 * @param output   what the pass writes besides the moments
 */
public record AdamWOperands(INDArray grad, long gradOffset, INDArray params, long paramsOffset, AdamWState state,
                            long length, long rngIndex, Output output) {

    /** What a pass writes besides the moments. */
    public enum Output {
        /** The new weights (the fused path: the step function then leaves the block alone). */
        WEIGHTS,
        /** The update, over the gradient (for DL4J code that applies the update itself). */
        UPDATE
    }

    boolean writesWeights() {
        return output == Output.WEIGHTS;
    }

    /** True when the weights must be read: to apply the update, or for weight decay. */
    boolean readsWeights(AdamWCoefficients c) {
        return writesWeights() || c.lrWeightDecay() != 0f;
    }
}
