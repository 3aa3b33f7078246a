package org.dl4jsr.training;

import org.dl4jsr.rounding.Rounding;

/** The hyper-parameters {@link AdamWSRUpdater} runs with ({@code org.dl4jsr.AdamWSR} implements it). */
public interface AdamWConfig extends StochasticRoundingConfig {
    double getLearningRate(int iteration, int epoch);

    double getBeta1();

    double getBeta2();

    double getEpsilon();

    double getWeightDecay();

    Rounding getStateRounding();

    boolean isMasterWeights();

    boolean isCompactState();

    /** True when the weights are rounded to nearest with a Kahan compensation in the state (weightRounding KAHAN). */
    default boolean isCompensated() {
        return getWeightRounding() == Rounding.KAHAN;
    }
}
