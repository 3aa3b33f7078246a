package org.dl4jsr.parallel;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.solvers.accumulation.EncodedGradientsAccumulator;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.DefaultTrainerContext;
import org.deeplearning4j.parallelism.factory.SymmetricTrainerContext;
import org.deeplearning4j.parallelism.factory.TrainerContext;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.averaging.Bf16Averaging;

/**
 * BF16 + SR training with DL4J's {@link ParallelWrapper} (data parallelism on one machine: several GPUs, or cores).
 * Build the wrapper as usual, then make this one call before {@code fit}:
 * <pre>{@code
 * Bf16Training.attach(net);                                   // as for single-machine training
 * ParallelWrapper pw = new ParallelWrapper.Builder<>(net)
 *         .workers(2).averagingFrequency(3).build();          // AVERAGING (default) or SHARED_GRADIENTS
 * Bf16ParallelWrapper.attach(pw);
 * pw.fit(trainData);
 * }</pre>
 * Every replica is attached with the network's {@link Bf16Options} (so all replicas draw the same counter-based
 * rounding bits). AVERAGING: parameters and updater state are averaged with the plugin's rule (FP32 sum in replica
 * order, SR onto the BF16 grid with a key shared by all replicas, {@link Bf16Averaging}), never with ND4J's
 * averaging. SHARED_GRADIENTS: DL4J's threshold-encoded updates are applied through the plugin's SR step on every
 * replica; replicas stay bit-identical (checked, and re-synchronised if not, see {@link Bf16TrainerContext}).
 * After {@code fit} the network holds the result, still attached, with its updater state.
 *
 * <p>Refused before anything trains, with what to do instead: CUSTOM mode with an accumulator other than DL4J's
 * {@code EncodedGradientsAccumulator}, a custom TrainerContext, {@code averagingFrequency(0)}, parameter/updater
 * suppliers (Spark fault tolerance), and networks the averaging rule cannot handle (a trainable layer whose updater
 * does not round stochastically, AdamWSR {@code masterWeights(true)}).
 */
public final class Bf16ParallelWrapper {
    private Bf16ParallelWrapper() {
    }

    /**
     * Makes {@code wrapper} train its network in BF16 with stochastic rounding: the network is attached with its
     * current options (or {@link Bf16Options#defaults()} if it is not attached yet), and so is every replica.
     */
    public static Bf16TrainerContext attach(ParallelWrapper wrapper) {
        return attach(wrapper, null, ReplicaRandomBits.SHARED);
    }

    /** As {@link #attach(ParallelWrapper)}, attaching the network with {@code options} if it is not attached yet. */
    public static Bf16TrainerContext attach(ParallelWrapper wrapper, Bf16Options options) {
        return attach(wrapper, options, ReplicaRandomBits.SHARED);
    }

    /** As {@link #attach(ParallelWrapper, Bf16Options)}; {@link ReplicaRandomBits#PER_WORKER} is for measurements. */
    public static Bf16TrainerContext attach(ParallelWrapper wrapper, Bf16Options options, ReplicaRandomBits bits) {
        if (wrapper == null || bits == null) {
            throw new IllegalArgumentException("wrapper and bits must not be null");
        }
        Model model = wrapper.getModel();
        if (!(model instanceof MultiLayerNetwork) && !(model instanceof ComputationGraph)) {
            throw new IllegalArgumentException("BF16 ParallelWrapper training supports MultiLayerNetwork and"
                    + " ComputationGraph, got " + (model == null ? "null" : model.getClass().getName()));
        }
        if (wrapper.getZoo() != null) {
            throw new IllegalStateException("This ParallelWrapper is training (or was not closed): call"
                    + " Bf16ParallelWrapper.attach(wrapper) right after building it, before fit().");
        }
        Bf16TrainerContext.Mode mode = mode(wrapper);
        if (wrapper.getAveragingFrequency() < 1) {
            throw new IllegalArgumentException("averagingFrequency is " + wrapper.getAveragingFrequency()
                    + "; ParallelWrapper needs >= 1 (the number of minibatches each worker fits between averaging"
                    + " rounds; with SHARED_GRADIENTS, how often the replicas are checked to be identical)."
                    + " Use .averagingFrequency(k) with k >= 1.");
        }
        if (wrapper.getModelParamsSupplier() != null || wrapper.getUpdaterParamsSupplier() != null) {
            throw new IllegalArgumentException("modelParamsSupplier/updaterParamsSupplier (Spark fault tolerance)"
                    + " would overwrite BF16 replicas with arrays the plugin has not checked; build the wrapper without"
                    + " them (for Spark use org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster).");
        }
        Bf16Options resolved = attachUserNetwork(model, options);
        Bf16Averaging.validate(model);
        Bf16TrainerContext context = new Bf16TrainerContext(wrapper, mode, resolved, bits);
        wrapper.setTrainerContext(context);
        return context;
    }

    /**
     * The mode DL4J's builder chose: it replaces any {@code trainerFactory(...)} by DefaultTrainerContext (AVERAGING)
     * or SymmetricTrainerContext (SHARED_GRADIENTS, CUSTOM), so the context tells the mode.
     */
    private static Bf16TrainerContext.Mode mode(ParallelWrapper wrapper) {
        TrainerContext c = wrapper.getTrainerContext();
        if (c instanceof Bf16TrainerContext) {
            throw new IllegalStateException("This ParallelWrapper is already attached (Bf16ParallelWrapper.attach"
                    + " was called on it before); call it once per wrapper.");
        }
        if (c != null && c.getClass() == DefaultTrainerContext.class) {
            return Bf16TrainerContext.Mode.AVERAGING;
        }
        if (c != null && c.getClass() == SymmetricTrainerContext.class) {
            if (wrapper.getGradientsAccumulator() instanceof EncodedGradientsAccumulator) {
                return Bf16TrainerContext.Mode.SHARED_GRADIENTS;
            }
            throw new IllegalArgumentException("TrainingMode.CUSTOM with "
                    + (wrapper.getGradientsAccumulator() == null ? "no accumulator"
                    : wrapper.getGradientsAccumulator().getClass().getName())
                    + " is not supported: the plugin supports DL4J's EncodedGradientsAccumulator (the SHARED_GRADIENTS"
                    + " default). Use TrainingMode.SHARED_GRADIENTS or TrainingMode.AVERAGING.");
        }
        throw new IllegalArgumentException("ParallelWrapper has TrainerContext "
                + (c == null ? "null" : c.getClass().getName()) + "; the plugin replaces DL4J's DefaultTrainerContext"
                + " (AVERAGING) or SymmetricTrainerContext (SHARED_GRADIENTS) only. Build the wrapper with one of"
                + " the standard training modes.");
    }

    private static Bf16Options attachUserNetwork(Model model, Bf16Options options) {
        Bf16Attachment existing = Bf16Attachment.installedOn(model);
        if (existing == null) {
            Bf16Options o = options != null ? options : Bf16Options.defaults();
            Replicas.attachIfNeeded(model, o);
            return o;
        }
        if (options != null && !options.equals(existing.getOptions())) {
            throw new IllegalArgumentException("The network is already attached with " + existing.getOptions()
                    + ", but " + options + " were given; replicas must use the network's options. Call"
                    + " Bf16ParallelWrapper.attach(wrapper) without options, or attach the network with these options.");
        }
        return existing.getOptions();
    }
}
