package org.dl4jsr.rounding;

/** How a value computed in FP32 is stored. */
public enum Rounding {
    /** Onto the BF16 grid with stochastic rounding (unbiased): the paper's BF16+SR. */
    STOCHASTIC,
    /** Onto the BF16 grid with round-to-nearest-even: "vanilla BF16". */
    NEAREST,
    /** Kept in FP32 (no rounding): only where the storage is FP32. */
    NONE,
    /**
     * Weights only, AdamWSR only: round to nearest and keep what rounding threw away in a BF16 compensation buffer
     * (2 more bytes per parameter) that is added back at the next update (Kahan summation).
     */
    KAHAN
}
