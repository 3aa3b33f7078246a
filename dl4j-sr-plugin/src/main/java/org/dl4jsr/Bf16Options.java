package org.dl4jsr;

import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.AttachSettings;
import org.dl4jsr.training.StochasticRoundingConfig;

/**
 * How {@link Bf16Training#attach} sets a network up. Everything has a sensible default:
 * {@code Bf16Training.attach(net)} is the same as {@code attach(net, Bf16Options.defaults())}.
 */
public final class Bf16Options implements AttachSettings {
    private Rounding initialRounding = Rounding.NEAREST;
    private Rounding weightRounding = Rounding.STOCHASTIC;
    private long seed = StochasticRoundingConfig.DEFAULT_SEED;
    private int threads = Runtime.getRuntime().availableProcessors();
    private KernelPath kernels = KernelPath.AUTO;
    private NonFiniteGradients nonFiniteGradients = NonFiniteGradients.SKIP_STEP;

    private Bf16Options() {
    }

    public static Bf16Options defaults() {
        return new Builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How existing weights are put onto the BF16 grid when the network is attached (NEAREST by default). */
    @Override
    public Rounding getInitialRounding() {
        return initialRounding;
    }

    /** Weight rounding given to DL4J updaters that attach wraps in a {@link Bf16Updater} (STOCHASTIC by default). */
    public Rounding getWeightRounding() {
        return weightRounding;
    }

    /**
     * The seed of every rounding bit of the attached network (updates, rounding at attach, Spark averaging), except
     * for an updater whose configuration sets its own seed ({@code AdamWSR.builder().seed(...)},
     * {@code new Bf16Updater(updater, rounding, seed)}). Default: a fixed constant, whatever the network's
     * {@code .seed(...)}; the same seed gives bit-identical training.
     */
    @Override
    public long getSeed() {
        return seed;
    }

    /** Threads of the host kernels (default: available processors). Results do not depend on it. */
    public int getThreads() {
        return threads;
    }

    public KernelPath getKernels() {
        return kernels;
    }

    public NonFiniteGradients getNonFiniteGradients() {
        return nonFiniteGradients;
    }

    @Override
    public boolean throwsOnNonFiniteSteps() {
        return nonFiniteGradients == NonFiniteGradients.THROW;
    }

    /** A builder pre-filled with these options. */
    public Builder toBuilder() {
        return builder().initialRounding(initialRounding).weightRounding(weightRounding).seed(seed).threads(threads)
                .kernels(kernels).nonFiniteGradients(nonFiniteGradients);
    }

    @Override
    public String toString() {
        return "Bf16Options(initialRounding=" + initialRounding + ", weightRounding=" + weightRounding + ", seed=" + seed
                + ", threads=" + threads + ", kernels=" + kernels + ", nonFiniteGradients=" + nonFiniteGradients + ")";
    }

    public static final class Builder {
        private final Bf16Options o = new Bf16Options();

        public Builder initialRounding(Rounding rounding) {
            o.initialRounding = rounding;
            return this;
        }

        public Builder weightRounding(Rounding rounding) {
            o.weightRounding = rounding;
            return this;
        }

        public Builder seed(long seed) {
            o.seed = seed;
            return this;
        }

        public Builder threads(int threads) {
            o.threads = threads;
            return this;
        }

        public Builder kernels(KernelPath kernels) {
            o.kernels = kernels;
            return this;
        }

        public Builder nonFiniteGradients(NonFiniteGradients policy) {
            o.nonFiniteGradients = policy;
            return this;
        }

        public Bf16Options build() {
            if (o.initialRounding != Rounding.NEAREST && o.initialRounding != Rounding.STOCHASTIC) {
                throw new IllegalArgumentException("initialRounding must be NEAREST or STOCHASTIC, got " + o.initialRounding);
            }
            if (o.weightRounding == Rounding.KAHAN) {
                throw new IllegalArgumentException("weightRounding KAHAN is an AdamWSR setting (its compensation lives in"
                        + " AdamWSR's updater state): use AdamWSR.builder().weightRounding(Rounding.KAHAN) for the layers;"
                        + " DL4J updaters wrapped by attach have no room for a compensation");
            }
            if (o.weightRounding != Rounding.NEAREST && o.weightRounding != Rounding.STOCHASTIC) {
                throw new IllegalArgumentException("weightRounding must be STOCHASTIC or NEAREST, got " + o.weightRounding);
            }
            if (o.threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + o.threads);
            }
            if (o.kernels == null || o.nonFiniteGradients == null) {
                throw new IllegalArgumentException("kernels and nonFiniteGradients must not be null");
            }
            Bf16Options copy = new Bf16Options();
            copy.initialRounding = o.initialRounding;
            copy.weightRounding = o.weightRounding;
            copy.seed = o.seed;
            copy.threads = o.threads;
            copy.kernels = o.kernels;
            copy.nonFiniteGradients = o.nonFiniteGradients;
            return copy;
        }
    }
}
