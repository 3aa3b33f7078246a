package org.dl4jsr;

import org.deeplearning4j.nn.api.Model;
import org.dl4jsr.training.TrainingEngine;

/**
 * A network attached for BF16 training, returned by {@link Bf16Training#attach}: the options it was attached with,
 * the steps skipped because of non-finite values, and which kernels run. The training itself happens in
 * {@link org.dl4jsr.training} (package {@code training}: one {@code OptimizerStep} per step).
 */
public final class Bf16Attachment {
    private final TrainingEngine engine;

    Bf16Attachment(TrainingEngine engine) {
        this.engine = engine;
    }

    /** The attachment the network's optimizer currently uses, or null when the network is not attached. */
    public static Bf16Attachment installedOn(Model model) {
        TrainingEngine a = TrainingEngine.installedOn(model);
        return a == null ? null : new Bf16Attachment(a);
    }

    /**
     * Lets this network train with a DL4J GradientsAccumulator (gradient sharing). Called by
     * {@code org.dl4jsr.parallel} for the replicas it manages; without it a network whose optimizer has an accumulator
     * is stopped at its first step, because DL4J's own gradient-sharing trainers cannot attach their replicas.
     */
    public void permitGradientSharing() {
        engine.permitGradientSharing();
    }

    /** The attached network. */
    public Model getModel() {
        return engine.model();
    }

    /** The options the network was attached with. */
    public Bf16Options getOptions() {
        return Bf16Options.of(engine.settings());
    }

    /** Steps skipped because the gradient held NaN or infinity ({@link NonFiniteGradients#SKIP_STEP}). */
    public long getSkippedSteps() {
        return engine.skippedSteps();
    }

    /** Which kernels run the element-wise passes, e.g. "host(2 threads)". */
    public String getKernelsName() {
        return engine.kernels().name();
    }
}
