package org.dl4jsr.examples.lm;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Where the LM example uses the plugin: the updater of each of the paper's four strategies (and of Kahan-compensated
 * BF16), and the one extra call that every BF16 strategy makes. Everything else (the model, the data, the sweep) is
 * the same for all of them.
 *
 * <p>All four are AdamW with the same learning-rate schedule, betas and epsilon, and decoupled weight decay on weight
 * matrices and embeddings only ({@link GptModel.Optimisation}: updater for weights, updater for biases and layer-norm
 * parameters, DL4J regularisation of the weights).
 */
final class Strategies {
    private Strategies() {
    }

    /** FP32, the reference: DL4J's own Adam, and WeightDecay(applyLR) applied after it: decoupled AdamW. */
    static GptModel.Optimisation fp32(ISchedule learningRate, double weightDecay) {
        return new GptModel.Optimisation(new Adam(learningRate), new Adam(learningRate),
                List.of(new WeightDecay(weightDecay, true)));
    }

    /** Mixed precision: FP32 master weights and FP32 moments in the updater; the network holds their nearest BF16. */
    static GptModel.Optimisation mixed(ISchedule learningRate, double weightDecay, long seed) {
        return adamWSR(AdamWSR.builder().masterWeights(true).weightRounding(Rounding.NEAREST)
                .stateRounding(Rounding.NONE), learningRate, weightDecay, seed);
    }

    /** Vanilla BF16: BF16 weights and moments, round-to-nearest (updates below half a BF16 step are lost). */
    static GptModel.Optimisation bf16Nearest(ISchedule learningRate, double weightDecay, long seed) {
        return adamWSR(AdamWSR.builder().weightRounding(Rounding.NEAREST).stateRounding(Rounding.NEAREST)
                .compactState(true), learningRate, weightDecay, seed);
    }

    /** The paper's BF16 + SR: AdamWSR's defaults (stochastic rounding), m and v packed in one 32-bit slot. */
    static GptModel.Optimisation bf16Sr(ISchedule learningRate, double weightDecay, long seed) {
        return adamWSR(AdamWSR.builder().compactState(true), learningRate, weightDecay, seed);
    }

    /**
     * Kahan-compensated BF16 (not in the paper): moments as BF16 + SR, weights rounded to nearest with a BF16
     * compensation that keeps what rounding threw away (docs/kahan.md).
     */
    static GptModel.Optimisation bf16Kahan(ISchedule learningRate, double weightDecay, long seed) {
        return adamWSR(AdamWSR.builder().weightRounding(Rounding.KAHAN).compactState(true), learningRate, weightDecay,
                seed);
    }

    /** The one extra call of every BF16 strategy, after {@code net.init()}: its seed decides every rounding bit. */
    static void attach(MultiLayerNetwork net, long seed) {
        Bf16Training.attach(net, Bf16Options.builder().seed(seed).build());
    }

    /** Weight decay inside AdamWSR's own update (one rounding per step) for weights, none for biases. */
    private static GptModel.Optimisation adamWSR(AdamWSR.Builder builder, ISchedule learningRate, double weightDecay,
                                                 long seed) {
        builder.learningRateSchedule(learningRate).seed(seed);
        return new GptModel.Optimisation(builder.weightDecay(weightDecay).build(), builder.weightDecay(0).build(),
                List.of());
    }
}
