package org.dl4jsr;

import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.AdamWConfig;
import org.dl4jsr.training.AdamWSRUpdater;
import org.dl4jsr.training.AdamWStateLayout;
import org.dl4jsr.training.StockSparkMasterGuard;
import java.io.ObjectStreamException;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * AdamW for BF16 training (Ozkara et al., AISTATS 2025): weights and moments stored in BF16, all arithmetic in FP32,
 * and each new weight rounded once, stochastically, onto the BF16 grid:
 * {@code x = SR(x - (alpha_t * m / (sqrt(v) + eps) + lr_t * weightDecay * x))}.
 *
 * <p>Use it where you would use DL4J's {@link Adam} ({@code .updater(AdamWSR.builder().learningRate(1e-3).build())})
 * and call {@link Bf16Training#attach} on the network. Defaults equal {@link Adam}'s where they overlap, including the
 * epsilon convention of DL4J's {@code adam_updater} ({@code alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)}, epsilon
 * added to {@code sqrt(v)}), so swapping the updater line changes nothing but precision.
 *
 * <p>The paper's baselines run through the same code:
 * <ul>
 * <li>{@code weightRounding(STOCHASTIC)} (default): BF16 + SR.</li>
 * <li>{@code weightRounding(NEAREST)}: "vanilla BF16" (updates smaller than half a BF16 step are lost).</li>
 * <li>{@code masterWeights(true)}: mixed precision; an FP32 master copy lives in the updater state and the network
 * holds its nearest BF16 copy ({@code weightRounding} then says how the copy is rounded).</li>
 * <li>{@code weightRounding(NONE)} with {@code stateRounding(NONE)}: plain FP32 AdamW (weights leave the grid).</li>
 * </ul>
 * and the other known cure of BF16 stagnation: {@code weightRounding(KAHAN)} rounds the weights to nearest and keeps
 * what rounding threw away in a BF16 compensation buffer in the updater state (2 bytes per parameter, two per 32-bit
 * slot), added back at the next update (docs/kahan.md). FLOAT networks only (the compensation is packed into 32-bit
 * slots), not with master weights.
 * The moments are stored on the BF16 grid with {@code stateRounding} (STOCHASTIC by default; NEAREST; NONE keeps FP32).
 * {@code compactState(true)} packs m and v as the two BF16 halves of one 32-bit slot: updater state of n instead of
 * 2n values on a FLOAT network.
 *
 * <p>A DL4J updater configuration: getters, builder, validation, JSON, equals/hashCode and clone for its
 * hyper-parameters.
 */
public final class AdamWSR implements AdamWConfig {
    public static final double DEFAULT_LEARNING_RATE = Adam.DEFAULT_ADAM_LEARNING_RATE;
    public static final double DEFAULT_BETA1 = Adam.DEFAULT_ADAM_BETA1_MEAN_DECAY;
    public static final double DEFAULT_BETA2 = Adam.DEFAULT_ADAM_BETA2_VAR_DECAY;
    public static final double DEFAULT_EPSILON = Adam.DEFAULT_ADAM_EPSILON;

    @JsonProperty private double learningRate = DEFAULT_LEARNING_RATE;
    @JsonProperty private ISchedule learningRateSchedule;
    @JsonProperty private double beta1 = DEFAULT_BETA1;
    @JsonProperty private double beta2 = DEFAULT_BETA2;
    @JsonProperty private double epsilon = DEFAULT_EPSILON;
    @JsonProperty private double weightDecay;
    /** Null: the seed of the options the network is attached with. */
    @JsonProperty private Long seed;
    @JsonProperty private Rounding weightRounding = Rounding.STOCHASTIC;
    @JsonProperty private Rounding stateRounding = Rounding.STOCHASTIC;
    @JsonProperty private boolean masterWeights;
    @JsonProperty private boolean compactState;

    /** Defaults (DL4J Adam's hyper-parameters, no weight decay, SR weights and state). */
    public AdamWSR() {
    }

    public AdamWSR(double learningRate) {
        this.learningRate = learningRate;
        validate();
    }

    public AdamWSR(ISchedule learningRateSchedule) {
        this.learningRate = Double.NaN;
        this.learningRateSchedule = learningRateSchedule;
        validate();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.config = clone();
        return b;
    }

    public double getLearningRate() {
        return learningRate;
    }

    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    public double getBeta1() {
        return beta1;
    }

    public double getBeta2() {
        return beta2;
    }

    public double getEpsilon() {
        return epsilon;
    }

    public double getWeightDecay() {
        return weightDecay;
    }

    /** The seed this updater sets for its rounding bits, or null (default): the attach options' seed. */
    @Override
    public Long getExplicitSeed() {
        return seed;
    }

    /** A copy of this updater whose rounding bits are seeded by {@code seed}. */
    @Override
    public AdamWSR withSeed(long seed) {
        AdamWSR c = clone();
        c.seed = seed;
        return c;
    }

    @Override
    public Rounding getWeightRounding() {
        return weightRounding;
    }

    public Rounding getStateRounding() {
        return stateRounding;
    }

    public boolean isMasterWeights() {
        return masterWeights;
    }

    public boolean isCompactState() {
        return compactState;
    }

    /**
     * Values of updater state for numParams parameters: 2 per parameter (m, v), 1 when compact, +1 for an FP32 master
     * copy, + 1/2 (rounded up) for a KAHAN compensation.
     */
    @Override
    public long stateSize(long numParams) {
        return AdamWStateLayout.size(numParams, compactState, masterWeights, isCompensated());
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        validate();
        return new AdamWSRUpdater(this, viewArray, initializeViewArray);
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        throw new UnsupportedOperationException("AdamWSR trains MultiLayerNetwork and ComputationGraph models through"
                + " Bf16Training.attach(net); SameDiff training with a state map is not supported");
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    /** Checks every hyper-parameter; throws IllegalArgumentException naming the bad one and what is allowed. */
    public void validate() {
        if (learningRateSchedule == null && !(learningRate >= 0 && Double.isFinite(learningRate))) {
            throw new IllegalArgumentException("AdamWSR: learningRate must be finite and >= 0 (or set a"
                    + " learningRateSchedule), got " + learningRate);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("AdamWSR: beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamWSR: beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0 && Double.isFinite(epsilon))) {
            throw new IllegalArgumentException("AdamWSR: epsilon must be finite and > 0, got " + epsilon);
        }
        if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) {
            throw new IllegalArgumentException("AdamWSR: weightDecay must be finite and >= 0, got " + weightDecay);
        }
        if (weightRounding == null || stateRounding == null) {
            throw new IllegalArgumentException("AdamWSR: weightRounding and stateRounding must not be null");
        }
        if (stateRounding == Rounding.KAHAN) {
            throw new IllegalArgumentException("AdamWSR: KAHAN is a weight rounding (it needs a compensation buffer);"
                    + " round the moments STOCHASTIC, NEAREST or NONE");
        }
        if (weightRounding == Rounding.KAHAN && masterWeights) {
            throw new IllegalArgumentException("AdamWSR: weightRounding KAHAN and masterWeights exclude each other: both"
                    + " keep what BF16 rounding loses (a BF16 compensation, or an FP32 copy of the weights); choose one");
        }
        if (compactState && stateRounding == Rounding.NONE) {
            throw new IllegalArgumentException("AdamWSR: compactState stores m and v as BF16 halves of one 32-bit slot,"
                    + " so stateRounding must be STOCHASTIC or NEAREST, not NONE");
        }
    }

    /** Refuses DL4J's stock Spark training masters on the driver ({@link StockSparkMasterGuard}). */
    private Object writeReplace() throws ObjectStreamException {
        StockSparkMasterGuard.refuseStockSparkMaster(this);
        return this;
    }

    @Override
    public AdamWSR clone() {
        AdamWSR c = new AdamWSR();
        c.learningRate = learningRate;
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        c.beta1 = beta1;
        c.beta2 = beta2;
        c.epsilon = epsilon;
        c.weightDecay = weightDecay;
        c.seed = seed;
        c.weightRounding = weightRounding;
        c.stateRounding = stateRounding;
        c.masterWeights = masterWeights;
        c.compactState = compactState;
        return c;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof AdamWSR)) {
            return false;
        }
        AdamWSR a = (AdamWSR) o;
        return Double.compare(learningRate, a.learningRate) == 0 && Double.compare(beta1, a.beta1) == 0
                && Double.compare(beta2, a.beta2) == 0 && Double.compare(epsilon, a.epsilon) == 0
                && Double.compare(weightDecay, a.weightDecay) == 0 && Objects.equals(seed, a.seed)
                && masterWeights == a.masterWeights && compactState == a.compactState
                && weightRounding == a.weightRounding && stateRounding == a.stateRounding
                && Objects.equals(learningRateSchedule, a.learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, beta1, beta2, epsilon, weightDecay, seed,
                weightRounding, stateRounding, masterWeights, compactState);
    }

    @Override
    public String toString() {
        return "AdamWSR(lr=" + (learningRateSchedule != null ? learningRateSchedule : learningRate) + ", beta1=" + beta1
                + ", beta2=" + beta2 + ", epsilon=" + epsilon + ", weightDecay=" + weightDecay
                + ", seed=" + (seed != null ? seed : "(from attach options)")
                + ", weights=" + weightRounding + (masterWeights ? "+FP32 master" : "") + ", state=" + stateRounding
                + (compactState ? " compact" : "") + ")";
    }

    /** Builder in the style of DL4J's updaters; {@link #build()} validates. */
    public static final class Builder {
        private AdamWSR config = new AdamWSR();

        public Builder learningRate(double learningRate) {
            config.learningRate = learningRate;
            return this;
        }

        public Builder learningRateSchedule(ISchedule schedule) {
            config.learningRateSchedule = schedule;
            return this;
        }

        public Builder beta1(double beta1) {
            config.beta1 = beta1;
            return this;
        }

        public Builder beta2(double beta2) {
            config.beta2 = beta2;
            return this;
        }

        public Builder epsilon(double epsilon) {
            config.epsilon = epsilon;
            return this;
        }

        /** Decoupled weight decay (AdamW): the update gains {@code lr_t * weightDecay * x}, rounded with it once. */
        public Builder weightDecay(double weightDecay) {
            config.weightDecay = weightDecay;
            return this;
        }

        /**
         * Seed of this updater's rounding bits, overriding the seed of the options the network is attached with
         * ({@link Bf16Options#getSeed()}, which decides every other rounding bit). Leave unset to use that seed.
         */
        public Builder seed(long seed) {
            config.seed = seed;
            return this;
        }

        /**
         * How new weights are stored: STOCHASTIC (default), NEAREST, NONE (FP32, weights leave the grid), or KAHAN
         * (nearest, with the rounding error carried in a BF16 compensation buffer: docs/kahan.md).
         */
        public Builder weightRounding(Rounding rounding) {
            config.weightRounding = rounding;
            return this;
        }

        public Builder stateRounding(Rounding rounding) {
            config.stateRounding = rounding;
            return this;
        }

        /** Keep an FP32 master copy of the weights in the updater state (the mixed-precision baseline). */
        public Builder masterWeights(boolean masterWeights) {
            config.masterWeights = masterWeights;
            return this;
        }

        /** Store m and v as the two BF16 halves of one 32-bit slot (FLOAT networks; stock averaging refused). */
        public Builder compactState(boolean compactState) {
            config.compactState = compactState;
            return this;
        }

        public AdamWSR build() {
            AdamWSR built = config.clone();
            built.validate();
            return built;
        }
    }
}
