package org.dl4jsr.parallel;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.Network;
import org.dl4jsr.training.StochasticRoundingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the ParallelWrapper integration does to one replica network (MultiLayerNetwork or ComputationGraph). */
final class Replicas {
    private Replicas() {
    }

    /** Attaches {@code model} with {@code options} unless it is attached already. */
    static void attachIfNeeded(Model model, Bf16Options options) {
        if (Bf16Attachment.installedOn(model) == null) {
            Bf16Training.attachModel(model, options);
        }
    }

    /** The updater state view, or null (no updater yet, or an updater without state). */
    static INDArray updaterState(Model model) {
        BaseMultiLayerUpdater<?> u = Network.of(model).updaterIfExists();
        return u == null ? null : u.getStateViewArray();
    }

    /**
     * Gives the network an updater holding {@code state} if DL4J dropped it ({@code MultiLayerNetwork.clear()}, which
     * ParallelWrapper calls on the user's network when a fit ends, discards the solver and with it the optimizer
     * state), and detaches a gradient-sharing accumulator DL4J left on it.
     */
    static void restoreUpdater(Model model, INDArray state) {
        Network net = Network.of(model);
        if (net.updaterIfExists() == null) {
            net.setUpdater(net.newUpdater(state));
        }
        model.getOptimizer().setGradientsAccumulator(null);
    }

    /**
     * Changes the rounding seed of every stochastic-rounding updater of a replica (not attached yet) to its effective
     * seed plus {@code delta}: each replica then draws its own rounding bits ({@link ReplicaRandomBits#PER_WORKER},
     * for measurements only). The updater configurations are the replica's own (it was built from JSON), so the
     * user's network is not touched.
     */
    static void offsetSeeds(Model replica, long delta, long attachSeed) {
        for (UpdaterBlock block : Network.of(replica).updaterBlocks()) {
            Object config = block.getGradientUpdater().getConfig();
            if (config instanceof StochasticRoundingConfig) {
                Long own = ((StochasticRoundingConfig) config).getExplicitSeed();
                try {
                    Field f = config.getClass().getDeclaredField("seed");
                    f.setAccessible(true);
                    f.set(config, (own != null ? own : attachSeed) + delta);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("Cannot give " + config + " a per-worker seed", e);
                }
            }
        }
    }
}
