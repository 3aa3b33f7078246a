package org.dl4jsr.parallel;

import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.LayerTree;
import org.dl4jsr.network.Network;
import org.dl4jsr.training.StochasticRoundingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

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
     * Gives every stochastic-rounding updater configuration of a replica (not attached yet) the seed
     * {@code (its explicit seed, else attachSeed) + delta}, then rebuilds the replica's updater from the new
     * configurations (keeping its state): each replica then draws its own rounding bits
     * ({@link ReplicaRandomBits#PER_WORKER}, for measurements only). The configurations are the replica's own (it was
     * built from JSON), so the user's network is not touched.
     */
    static void offsetSeeds(Model replica, long delta, long attachSeed) {
        Network net = Network.of(replica);
        UnaryOperator<IUpdater> offset = u -> {
            if (!(u instanceof StochasticRoundingConfig)) {
                return u;
            }
            StochasticRoundingConfig sr = (StochasticRoundingConfig) u;
            Long own = sr.getExplicitSeed();
            return sr.withSeed((own != null ? own : attachSeed) + delta);
        };
        for (Layer layer : net.layerConfigs()) {
            LayerTree.forEachTrainableLeaf(layer, leaf -> LayerTree.mapUpdaters(leaf, offset));
        }
        BaseMultiLayerUpdater<?> updater = net.updaterIfExists();
        if (updater != null) {
            net.setUpdater(net.newUpdater(updater.getStateViewArray()));
        }
    }
}
