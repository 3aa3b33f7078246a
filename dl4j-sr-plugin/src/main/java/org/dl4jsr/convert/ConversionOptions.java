package org.dl4jsr.convert;

import org.dl4jsr.Bf16Options;
import org.dl4jsr.rounding.Rounding;

/** How {@link Bf16Converter} converts a network. Defaults: round to nearest, SR state, no compaction. */
public final class ConversionOptions {
    private Rounding initialRounding = Rounding.NEAREST;
    private Rounding stateRounding = Rounding.STOCHASTIC;
    private boolean compactState;
    private Bf16Options attach = Bf16Options.defaults();

    private ConversionOptions() {
    }

    public static ConversionOptions defaults() {
        return new Builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How FP32 weights and optimizer state enter BF16 (NEAREST, or STOCHASTIC with the attach options' seed). */
    public Rounding getInitialRounding() {
        return initialRounding;
    }

    /**
     * The seed of every rounding bit of the conversion and of the converted network's training: the seed of the
     * attach options ({@link #getAttach()}), as everywhere in the plugin.
     */
    public long getSeed() {
        return attach.getSeed();
    }

    /** State rounding of the AdamWSR updaters created from DL4J's Adam. */
    public Rounding getStateRounding() {
        return stateRounding;
    }

    /** Whether AdamWSR updaters created from DL4J's Adam pack m and v (FLOAT networks only). */
    public boolean isCompactState() {
        return compactState;
    }

    /** Options of the attach done on the converted network. */
    public Bf16Options getAttach() {
        return attach;
    }

    public static final class Builder {
        private final ConversionOptions o = new ConversionOptions();

        public Builder initialRounding(Rounding rounding) {
            o.initialRounding = rounding;
            return this;
        }

        public Builder stateRounding(Rounding rounding) {
            o.stateRounding = rounding;
            return this;
        }

        public Builder compactState(boolean compact) {
            o.compactState = compact;
            return this;
        }

        /** Options of the attach done on the converted network; their seed also seeds the conversion's rounding. */
        public Builder attach(Bf16Options options) {
            o.attach = options;
            return this;
        }

        public ConversionOptions build() {
            if (o.initialRounding != Rounding.NEAREST && o.initialRounding != Rounding.STOCHASTIC) {
                throw new IllegalArgumentException("initialRounding must be NEAREST or STOCHASTIC, got " + o.initialRounding);
            }
            if (o.stateRounding == null || o.attach == null) {
                throw new IllegalArgumentException("stateRounding and attach options must not be null");
            }
            if (o.compactState && o.stateRounding == Rounding.NONE) {
                throw new IllegalArgumentException("compactState needs stateRounding STOCHASTIC or NEAREST, not NONE");
            }
            ConversionOptions c = new ConversionOptions();
            c.initialRounding = o.initialRounding;
            c.stateRounding = o.stateRounding;
            c.compactState = o.compactState;
            c.attach = o.attach;
            return c;
        }
    }
}
