package org.dl4jsr.training;

import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.rounding.Rounding;

/**
 * How a network is attached, as the engine reads it ({@code org.dl4jsr.Bf16Options} is the user's immutable view of
 * the same values, with a builder and defaults).
 *
 * @param initialRounding how existing weights are put onto the BF16 grid at attach (NEAREST or STOCHASTIC)
 * @param weightRounding weight rounding given to DL4J updaters that attach wraps (STOCHASTIC or NEAREST)
 * @param seed seed of every rounding bit of the network, unless an updater configuration sets its own seed
 * @param threads threads of the host kernels (results do not depend on it)
 * @param kernels which kernels run the element-wise passes
 * @param throwsOnNonFiniteSteps true: a step with non-finite values throws; false: it is skipped with a warning
 */
public record AttachSettings(Rounding initialRounding, Rounding weightRounding, long seed, int threads,
                             KernelPath kernels, boolean throwsOnNonFiniteSteps) {
    public AttachSettings {
        if (initialRounding != Rounding.NEAREST && initialRounding != Rounding.STOCHASTIC) {
            throw new IllegalArgumentException("initialRounding must be NEAREST or STOCHASTIC, got " + initialRounding);
        }
        if (weightRounding == Rounding.KAHAN) {
            throw new IllegalArgumentException("weightRounding KAHAN is an AdamWSR setting (its compensation lives in"
                    + " AdamWSR's updater state): use AdamWSR.builder().weightRounding(Rounding.KAHAN) for the layers;"
                    + " DL4J updaters wrapped by attach have no room for a compensation");
        }
        if (weightRounding != Rounding.NEAREST && weightRounding != Rounding.STOCHASTIC) {
            throw new IllegalArgumentException("weightRounding must be STOCHASTIC or NEAREST, got " + weightRounding);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (kernels == null) {
            throw new IllegalArgumentException("kernels must not be null");
        }
    }

    /** In the words of {@code Bf16Options} (what a user set), for logs. */
    @Override
    public String toString() {
        return "initialRounding=" + initialRounding + ", weightRounding=" + weightRounding + ", seed=" + seed
                + ", threads=" + threads + ", kernels=" + kernels + ", nonFiniteGradients="
                + (throwsOnNonFiniteSteps ? "THROW" : "SKIP_STEP");
    }
}
