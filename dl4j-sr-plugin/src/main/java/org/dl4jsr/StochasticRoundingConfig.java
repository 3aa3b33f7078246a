package org.dl4jsr;

import org.nd4j.linalg.learning.config.IUpdater;

/** What the plugin needs from an updater configuration to round a block's weights: the rounding and its seed. */
public interface StochasticRoundingConfig extends IUpdater {
    /** Default seed of the rounding bits. */
    long DEFAULT_SEED = 0x5EED_B16FL;

    /** How new weights are stored. */
    Rounding getWeightRounding();

    /** Seed of the counter-based rounding bits (combined with the iteration and the parameter index). */
    long getSeed();
}
