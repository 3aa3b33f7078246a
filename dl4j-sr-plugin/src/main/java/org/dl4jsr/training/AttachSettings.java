package org.dl4jsr.training;

import org.dl4jsr.rounding.Rounding;

/** What the training engine needs from the options a network is attached with ({@code Bf16Options} implements it). */
public interface AttachSettings {
    /** Seed of every rounding bit of the network, unless an updater configuration sets its own seed explicitly. */
    long getSeed();

    /** How existing weights are put onto the BF16 grid at attach. */
    Rounding getInitialRounding();

    /** True: a step with non-finite values throws; false: it is skipped with a warning. */
    boolean throwsOnNonFiniteSteps();
}
