package org.dl4jsr;

/**
 * What a step does when the gradient holds NaN or infinity. The check runs once per step over the whole gradient,
 * before any updater state or weight changes, so either the whole step happens or none of it does.
 */
public enum NonFiniteGradients {
    /**
     * Default: skip the step (weights and updater state untouched, the iteration counter still advances), log a
     * warning, and count it in {@link Bf16Attachment#getSkippedSteps()}. Like loss scaling's overflow skip.
     */
    SKIP_STEP,
    /** Throw {@link NonFiniteGradientException} from {@code fit}; weights and updater state are untouched. */
    THROW
}
