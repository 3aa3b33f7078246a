package org.dl4jsr;

import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.StochasticRoundingConfig;
import org.dl4jsr.training.StockSparkMasterGuard;
import org.dl4jsr.training.WrappedGradientUpdater;
import java.io.ObjectStreamException;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.AdaBeliefUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Any DL4J updater (Sgd, Nesterovs, Adam, RmsProp, AdaBelief, ...) with its weight updates rounded onto the BF16
 * grid: the wrapped updater turns the gradient into an update exactly as in DL4J, then the plugin applies it as
 * {@code x = round(x - update)} in FP32. The wrapped updater's own state keeps the network's data type (FP32 on a FLOAT
 * network); only {@link AdamWSR} stores its moments in BF16.
 *
 * <p>{@link Bf16Training#attach} wraps every non-SR updater of a network with this class, so the configuration itself
 * records that the network needs the plugin (a clone or a restored copy that was not attached fails at its first
 * {@code fit} instead of silently training with round-to-nearest). It can also be written in a configuration directly:
 * {@code .updater(Bf16Rounded.wrap(new Nesterovs(0.1, 0.9)))}.
 */
public final class Bf16Rounded implements StochasticRoundingConfig {
    @JsonProperty private IUpdater updater;
    @JsonProperty private Rounding weightRounding = Rounding.STOCHASTIC;
    /** Null: the seed of the options the network is attached with. */
    @JsonProperty private Long seed;

    /** For JSON. */
    private Bf16Rounded() {
    }

    /** {@code updater} with weight updates rounded by {@code weightRounding}, its bits seeded by {@code seed}. */
    public Bf16Rounded(IUpdater updater, Rounding weightRounding, long seed) {
        this(updater, weightRounding, Long.valueOf(seed));
    }

    private Bf16Rounded(IUpdater updater, Rounding weightRounding, Long seed) {
        this.updater = updater;
        this.weightRounding = weightRounding;
        this.seed = seed;
        validate();
    }

    /** {@code updater} with stochastically rounded weight updates, seeded by the attach options' seed. */
    public static Bf16Rounded wrap(IUpdater updater) {
        return wrap(updater, Rounding.STOCHASTIC);
    }

    /** {@code updater} with weight updates rounded by {@code weightRounding}, seeded by the attach options' seed. */
    public static Bf16Rounded wrap(IUpdater updater, Rounding weightRounding) {
        return new Bf16Rounded(updater, weightRounding, (Long) null);
    }

    /** The wrapped DL4J updater. */
    public IUpdater getUpdater() {
        return updater;
    }

    @Override
    public Rounding getWeightRounding() {
        return weightRounding;
    }

    @Override
    public Long getExplicitSeed() {
        return seed;
    }

    /** A copy of this wrapper whose rounding bits are seeded by {@code seed}. */
    @Override
    public Bf16Rounded withSeed(long seed) {
        return new Bf16Rounded(updater.clone(), weightRounding, seed);
    }

    void validate() {
        if (updater == null) {
            throw new IllegalArgumentException("Bf16Rounded: the wrapped updater must not be null");
        }
        if (updater instanceof StochasticRoundingConfig) {
            throw new IllegalArgumentException("Bf16Rounded: " + updater + " already rounds its weights; do not wrap it");
        }
        if (updater instanceof NoOp) {
            throw new IllegalArgumentException("Bf16Rounded: NoOp parameters are never updated; do not wrap NoOp");
        }
        if (weightRounding == Rounding.KAHAN) {
            throw new IllegalArgumentException("Bf16Rounded: weightRounding KAHAN is not offered for wrapped DL4J"
                    + " updaters: their state view is DL4J's layout, with no room for the compensation buffer. Use"
                    + " AdamWSR.builder().weightRounding(Rounding.KAHAN) (AdamW), or STOCHASTIC rounding here");
        }
        if (weightRounding != Rounding.STOCHASTIC && weightRounding != Rounding.NEAREST) {
            throw new IllegalArgumentException("Bf16Rounded: weightRounding must be STOCHASTIC or NEAREST, got "
                    + weightRounding);
        }
    }

    @Override
    public long stateSize(long numParams) {
        return updater.stateSize(numParams);
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        validate();
        return new WrappedGradientUpdater<>(this, instantiateWrapped(viewArray, initializeViewArray));
    }

    private GradientUpdater<?> instantiateWrapped(INDArray viewArray, boolean initializeViewArray) {
        if (updater instanceof AdaBelief) {
            // DL4J 1.0.0-M2.1's AdaBelief.instantiate reshapes the view to 1-D, then indexes its shape with [1] and
            // throws; its AdaBeliefUpdater itself expects a [1, 2n] row.
            AdaBeliefUpdater u = new AdaBeliefUpdater((AdaBelief) updater);
            long length = viewArray.length();
            u.setStateViewArray(viewArray.reshape(1, length), new long[] {length / 2}, 'c', initializeViewArray);
            return u;
        }
        return updater.instantiate(viewArray, initializeViewArray);
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        throw new UnsupportedOperationException("Bf16Rounded trains MultiLayerNetwork and ComputationGraph models through"
                + " Bf16Training.attach(net); SameDiff training with a state map is not supported");
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return updater.getLearningRate(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return updater.hasLearningRate();
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        updater.setLrAndSchedule(lr, lrSchedule);
    }

    /** Refuses DL4J's stock Spark training masters on the driver ({@link StockSparkMasterGuard}). */
    private Object writeReplace() throws ObjectStreamException {
        StockSparkMasterGuard.refuseStockSparkMaster(this);
        return this;
    }

    @Override
    public Bf16Rounded clone() {
        return new Bf16Rounded(updater.clone(), weightRounding, seed);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Bf16Rounded)) {
            return false;
        }
        Bf16Rounded b = (Bf16Rounded) o;
        return Objects.equals(seed, b.seed) && weightRounding == b.weightRounding && updater.equals(b.updater);
    }

    @Override
    public int hashCode() {
        return Objects.hash(updater, weightRounding, seed);
    }

    @Override
    public String toString() {
        return "Bf16Rounded(" + updater + ", weights=" + weightRounding + ", seed="
                + (seed != null ? seed : "(from attach options)") + ")";
    }
}
