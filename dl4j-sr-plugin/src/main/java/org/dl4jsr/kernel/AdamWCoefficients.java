package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;

/**
 * What one AdamW step applies to every block: the FP32 coefficients of the rule, how the results are rounded, and
 * the key of the step's random bits. Created once per step and block by the updater; {@link AdamWOperands} says
 * which arrays a pass reads and writes.
 *
 * <p>Per element, in FP32: {@code m = beta1*m + g*oneMinusBeta1}, {@code v = beta2*v + g*g*oneMinusBeta2},
 * {@code u = m*alpha/(sqrt(v)+epsilon) + lrWeightDecay*x}; then either the weight is written ({@code x = round(x - u)},
 * or with KAHAN the compensated update of {@link Kernels#applyCompensatedUpdate}: the fused path) or {@code u} is
 * written over the gradient (see {@link AdamWOperands.Output}).
 *
 * @param oneMinusBeta1  1 - beta1, given (ND4J's adam_updater computes it in FP32)
 * @param alpha          bias-corrected step size: lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 * @param lrWeightDecay  learning rate times decoupled weight decay
 * @param weightRounding how new weights are rounded (KAHAN: compensated, see {@link AdamWState#compensationOffset})
 * @param stateRounding  how the moments are rounded
 * @param key            key of the step's random bits (drawn per element index, see {@link Kernels})
 */
public record AdamWCoefficients(float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float alpha,
                                float epsilon, float lrWeightDecay, Rounding weightRounding, Rounding stateRounding,
                                long key) {

    /** True when weights are rounded with a Kahan compensation. */
    boolean compensated() {
        return weightRounding == Rounding.KAHAN;
    }
}
