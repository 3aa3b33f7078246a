package org.dl4jsr.training;

import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.learning.config.IUpdater;

/** What the plugin needs from an updater configuration to round a block's weights: the rounding and its seed. */
public interface StochasticRoundingConfig extends IUpdater {
    /** Seed of the rounding bits when neither the updater nor the attach options set one. */
    long DEFAULT_SEED = 0x5EED_B16FL;

    /** How new weights are stored. */
    Rounding getWeightRounding();

    /**
     * The seed this configuration sets for its rounding bits, or null (the default) to use the seed of the options
     * the network is attached with.
     */
    Long getExplicitSeed();

    /** A copy of this configuration whose rounding bits are seeded by {@code seed} (an explicit seed). */
    StochasticRoundingConfig withSeed(long seed);
}
