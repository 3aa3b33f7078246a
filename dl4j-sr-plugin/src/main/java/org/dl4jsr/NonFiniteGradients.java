package org.dl4jsr;

/**
 * What a step does when the gradient holds NaN or infinity, or when an updater's learning rate or schedule gives a
 * NaN, infinite or negative value at that iteration. The checks run once per step, before any updater state or
 * weight changes, so either the whole step happens or none of it does.
 */
public enum NonFiniteGradients {
    /**
     * Default: skip the step (weights and updater state untouched, the iteration counter still advances), log a
     * warning, and count it in {@link Bf16Attachment#getSkippedSteps()}. Like loss scaling's overflow skip.
     */
    SKIP_STEP,
    /**
     * Throw from {@code fit} ({@code NonFiniteGradientException}, or {@code InvalidHyperParameterException} for a bad
     * scheduled value; both in {@code org.dl4jsr.training}); weights and updater state are untouched.
     */
    THROW
}
