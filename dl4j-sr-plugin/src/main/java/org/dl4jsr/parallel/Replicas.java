package org.dl4jsr.parallel;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.StochasticRoundingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the ParallelWrapper integration does to one replica network (MultiLayerNetwork or ComputationGraph). */
final class Replicas {
    private Replicas() {
    }

    /** Attaches {@code model} with {@code options} unless it is attached already. */
    static void attachIfNeeded(Model model, Bf16Options options) {
        if (Bf16Training.attachment(model) != null) {
            return;
        }
        if (model instanceof MultiLayerNetwork) {
            Bf16Training.attach((MultiLayerNetwork) model, options);
        } else if (model instanceof ComputationGraph) {
            Bf16Training.attach((ComputationGraph) model, options);
        } else {
            throw new IllegalArgumentException("BF16 ParallelWrapper training supports MultiLayerNetwork and"
                    + " ComputationGraph, got " + (model == null ? "null" : model.getClass().getName()));
        }
    }

    /** The updater state view, or null (no updater yet, or an updater without state). */
    static INDArray updaterState(Model model) {
        BaseMultiLayerUpdater<?> u = updater(model);
        return u == null ? null : u.getStateViewArray();
    }

    private static BaseMultiLayerUpdater<?> updater(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return (BaseMultiLayerUpdater<?>) ((MultiLayerNetwork) model).getUpdater(false);
        }
        return ((ComputationGraph) model).getUpdater(false);
    }

    /**
     * Gives the network an updater holding {@code state} if DL4J dropped it ({@code MultiLayerNetwork.clear()}, which
     * ParallelWrapper calls on the user's network when a fit ends, discards the solver and with it the optimizer
     * state), and detaches a gradient-sharing accumulator DL4J left on it.
     */
    static void restoreUpdater(Model model, INDArray state) {
        if (model instanceof MultiLayerNetwork) {
            MultiLayerNetwork net = (MultiLayerNetwork) model;
            if (net.getUpdater(false) == null) {
                net.setUpdater(state == null ? new MultiLayerUpdater(net) : new MultiLayerUpdater(net, state));
            }
            net.getOptimizer().setGradientsAccumulator(null);
        } else {
            ComputationGraph net = (ComputationGraph) model;
            if (net.getUpdater(false) == null) {
                net.setUpdater(state == null ? new ComputationGraphUpdater(net) : new ComputationGraphUpdater(net, state));
            }
            net.getOptimizer().setGradientsAccumulator(null);
        }
    }

    /**
     * Changes the seed of every stochastic-rounding updater of a replica (not attached yet) by {@code delta}: each
     * replica then draws its own rounding bits ({@link ReplicaRandomBits#PER_WORKER}, for measurements only). The
     * updater configurations are the replica's own (it was built from JSON), so the user's network is not touched.
     */
    static void offsetSeeds(Model replica, long delta) {
        BaseMultiLayerUpdater<?> u = replica instanceof MultiLayerNetwork
                ? (BaseMultiLayerUpdater<?>) ((MultiLayerNetwork) replica).getUpdater(true)
                : ((ComputationGraph) replica).getUpdater(true);
        for (Object o : u.getUpdaterBlocks()) {
            Object config = ((UpdaterBlock) o).getGradientUpdater().getConfig();
            if (config instanceof StochasticRoundingConfig) {
                try {
                    Field f = config.getClass().getDeclaredField("seed");
                    f.setAccessible(true);
                    f.setLong(config, ((StochasticRoundingConfig) config).getSeed() + delta);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("Cannot give " + config + " a per-worker seed", e);
                }
            }
        }
    }
}
