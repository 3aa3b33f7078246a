package org.dl4jsr.examples.lm;

import java.util.List;
import java.util.Locale;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * The paper's four ways (and Kahan-compensated BF16, the other known cure of stagnation) to train the same model. All use AdamW with the same hyper-parameters, schedule and
 * decoupled weight decay on weight matrices and embeddings (none on biases and layer-norm parameters).
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

    /** Updaters and regularisation of this strategy. */
    public GptModel.Optimisation optimisation(ISchedule learningRate, double weightDecay, long seed) {
        if (this == FP32) {
            // Per layer (see GptModel): DL4J applies WeightDecay after Adam, lr_t * wd * w, i.e. decoupled AdamW.
            return new GptModel.Optimisation(new Adam(learningRate), new Adam(learningRate),
                    List.of(new WeightDecay(weightDecay, true)));
        }
        AdamWSR.Builder b = AdamWSR.builder().learningRateSchedule(learningRate).seed(seed);
        switch (this) {
            case MIXED:
                b.masterWeights(true).weightRounding(Rounding.NEAREST).stateRounding(Rounding.NONE);
                break;
            case BF16_NEAREST:
                b.weightRounding(Rounding.NEAREST).stateRounding(Rounding.NEAREST).compactState(true);
                break;
            case BF16_KAHAN:
                b.weightRounding(Rounding.KAHAN).compactState(true); // moments as bf16-sr, weights compensated
                break;
            default:
                b.compactState(true); // m and v as the two BF16 halves of one 32-bit slot: same values, less memory
                break;
        }
        return new GptModel.Optimisation(b.weightDecay(weightDecay).build(), b.weightDecay(0).build(), List.of());
    }
}
