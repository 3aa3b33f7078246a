package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The operands and coefficients of one fused AdamW pass over one block of parameters. Reused from step to step by
 * its owner so that the hot path allocates nothing.
 *
 * <p>Per element, in FP32: {@code m = b1*m + g*(1-b1)}, {@code v = b2*v + g*g*(1-b2)},
 * {@code u = m*alpha/(sqrt(v)+eps) + lrWd*x}; then either the weight is written ({@code x = round(x - u)}, or with
 * KAHAN the compensated update of {@link Kernels#applyCompensatedUpdate}: the fused path) or {@code u} is written over the gradient (for DL4J code that applies the update itself).
 */
public final class AdamWStep {
    /**
     * Gradient in, and the update out when {@link #applyToWeights} is false (rounded to nearest when the gradient
     * array is BFLOAT16: DL4J then applies a BF16 update, as it would with its own updaters on a BF16 network).
     */
    public INDArray grad;
    public long gradOffset;
    /** The network's weights (FLOAT or BFLOAT16). */
    public INDArray params;
    public long paramsOffset;
    /** Updater state: moments, optionally the FP32 master copy. */
    public INDArray state;
    public long mOffset;
    /** Offset of v; ignored when {@link #packedMoments}. */
    public long vOffset;
    /** m and v as the high and low BF16 halves of one 32-bit slot at {@link #mOffset}. */
    public boolean packedMoments;
    /** Offset of the FP32 master weights in {@link #state}, or -1 when the network's weights are the master. */
    public long masterOffset = -1;
    /**
     * Offset in {@link #state} (FLOAT) of the Kahan compensation, BF16 values packed two per 32-bit slot (see {@link
     * Kernels#applyCompensatedUpdate}); -1 when none. Needed when {@link #weightRounding} is KAHAN.
     */
    public long compensationOffset = -1;
    public long length;

    public float beta1;
    public float beta2;
    public float oneMinusBeta1;
    public float oneMinusBeta2;
    /** Bias-corrected step size: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
    public float alpha;
    public float epsilon;
    /** Learning rate times decoupled weight decay. */
    public float lrWeightDecay;

    public Rounding weightRounding = Rounding.STOCHASTIC;
    public Rounding stateRounding = Rounding.STOCHASTIC;
    /** True: write the new weights (fused). False: write the update over the gradient. */
    public boolean applyToWeights = true;

    /** Key of this pass and the counter index of the block's first element. */
    public long key;
    public long rngIndex;

    /** True when the weights must be read (to apply the update, or for weight decay). */
    boolean readsWeights() {
        return applyToWeights || lrWeightDecay != 0f;
    }

    boolean compensated() {
        return weightRounding == Rounding.KAHAN;
    }

    boolean hasMaster() {
        return masterOffset >= 0;
    }
}
