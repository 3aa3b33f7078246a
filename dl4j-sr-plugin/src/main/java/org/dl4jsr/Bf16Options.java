package org.dl4jsr;

import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.AttachSettings;
import org.dl4jsr.training.StochasticRoundingConfig;

/**
 * How {@link Bf16Training#attach} sets a network up. Everything has a sensible default:
 * {@code Bf16Training.attach(net)} is the same as {@code attach(net, Bf16Options.defaults())}.
 */
public final class Bf16Options {
    private final AttachSettings settings;

    private Bf16Options(AttachSettings settings) {
        this.settings = settings;
    }

    public static Bf16Options defaults() {
        return new Builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The options a network was attached with, as the engine holds them. */
    static Bf16Options of(AttachSettings settings) {
        return new Bf16Options(settings);
    }

    /** These options as the engine reads them. */
    AttachSettings settings() {
        return settings;
    }

    /** How existing weights are put onto the BF16 grid when the network is attached (NEAREST by default). */
    public Rounding getInitialRounding() {
        return settings.initialRounding();
    }

    /** Weight rounding given to DL4J updaters that attach wraps in a {@link Bf16Rounded} (STOCHASTIC by default). */
    public Rounding getWeightRounding() {
        return settings.weightRounding();
    }

    /**
     * The seed of every rounding bit of the attached network (updates, rounding at attach, Spark averaging), except
     * for an updater whose configuration sets its own seed ({@code AdamWSR.builder().seed(...)},
     * {@code new Bf16Rounded(updater, rounding, seed)}). Default: a fixed constant, whatever the network's
     * {@code .seed(...)}; the same seed gives bit-identical training.
     */
    public long getSeed() {
        return settings.seed();
    }

    /** Threads of the host kernels (default: available processors). Results do not depend on it. */
    public int getThreads() {
        return settings.threads();
    }

    public KernelPath getKernels() {
        return settings.kernels();
    }

    public NonFiniteGradients getNonFiniteGradients() {
        return settings.throwsOnNonFiniteSteps() ? NonFiniteGradients.THROW : NonFiniteGradients.SKIP_STEP;
    }

    /** A builder pre-filled with these options. */
    public Builder toBuilder() {
        return builder().initialRounding(getInitialRounding()).weightRounding(getWeightRounding()).seed(getSeed())
                .threads(getThreads()).kernels(getKernels()).nonFiniteGradients(getNonFiniteGradients());
    }

    /** Equal options attach a network the same way. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Bf16Options && ((Bf16Options) o).settings.equals(settings);
    }

    @Override
    public int hashCode() {
        return settings.hashCode();
    }

    @Override
    public String toString() {
        return "Bf16Options(" + settings + ")";
    }

    public static final class Builder {
        private Rounding initialRounding = Rounding.NEAREST;
        private Rounding weightRounding = Rounding.STOCHASTIC;
        private long seed = StochasticRoundingConfig.DEFAULT_SEED;
        private int threads = Runtime.getRuntime().availableProcessors();
        private KernelPath kernels = KernelPath.AUTO;
        private NonFiniteGradients nonFiniteGradients = NonFiniteGradients.SKIP_STEP;

        public Builder initialRounding(Rounding rounding) {
            initialRounding = rounding;
            return this;
        }

        public Builder weightRounding(Rounding rounding) {
            weightRounding = rounding;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder kernels(KernelPath kernels) {
            this.kernels = kernels;
            return this;
        }

        public Builder nonFiniteGradients(NonFiniteGradients policy) {
            nonFiniteGradients = policy;
            return this;
        }

        public Bf16Options build() {
            if (nonFiniteGradients == null) {
                throw new IllegalArgumentException("nonFiniteGradients must not be null");
            }
            return new Bf16Options(new AttachSettings(initialRounding, weightRounding, seed, threads, kernels,
                    nonFiniteGradients == NonFiniteGradients.THROW));
        }
    }
}
