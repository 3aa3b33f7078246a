package org.dl4jsr.examples.lm;

import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The paper's four ways to train the same model, and Kahan-compensated BF16 (the other known cure of stagnation). All
 * use AdamW with the same hyper-parameters, schedule and decoupled weight decay on weight matrices and embeddings (none
 * on biases and layer-norm parameters).
 */
public enum PrecisionStrategy {
    /** DL4J's own Adam + WeightDecay(applyLR) in FP32: the reference. */
    FP32("fp32", "FP32 (DL4J Adam)"),
    /** O2-style mixed precision: FP32 master weights and FP32 moments in the updater, the network computes with BF16 weights. */
    MIXED("mixed", "mixed (FP32 master)"),
    /** Everything BF16, round-to-nearest for weights and moments. */
    BF16_NEAREST("bf16", "vanilla BF16"),
    /** The paper's BF16-AdamW-SR: BF16 weights and moments, stochastic rounding. */
    BF16_SR("bf16-sr", "BF16 + SR"),
    /** BF16 weights rounded to nearest with a BF16 Kahan compensation; BF16 moments with SR (docs/kahan.md). */
    BF16_KAHAN("bf16-kahan", "BF16 + Kahan");

    /** What the example trains unless {@code --strategies} says otherwise: the paper's four. */
    public static final List<PrecisionStrategy> PAPER = List.of(FP32, MIXED, BF16_NEAREST, BF16_SR);

    private final String id;
    private final String label;

    PrecisionStrategy(String id, String label) {
        this.id = id;
        this.label = label;
    }

    public String id() {
        return id;
    }

    public String label() {
        return label;
    }

    /** True when the network must be attached with {@code Bf16Training.attach}. */
    public boolean attaches() {
        return this != FP32;
    }

    public static PrecisionStrategy parse(String id) {
        for (PrecisionStrategy s : values()) {
            if (s.id.equals(id.trim().toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown strategy '" + id + "': use fp32, mixed, bf16, bf16-sr or bf16-kahan");
    }

    /** Updaters and regularisation of this strategy (configured in {@link Strategies}). */
    public GptModel.Optimisation optimisation(ISchedule learningRate, double weightDecay, long seed) {
        return switch (this) {
            case FP32 -> Strategies.fp32(learningRate, weightDecay);
            case MIXED -> Strategies.mixed(learningRate, weightDecay, seed);
            case BF16_NEAREST -> Strategies.bf16Nearest(learningRate, weightDecay, seed);
            case BF16_SR -> Strategies.bf16Sr(learningRate, weightDecay, seed);
            case BF16_KAHAN -> Strategies.bf16Kahan(learningRate, weightDecay, seed);
        };
    }
}
