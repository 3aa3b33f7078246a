package org.dl4jsr;

import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The handful of things the plugin needs from a MultiLayerNetwork or a ComputationGraph. What DL4J's {@link Model}
 * interface offers is used directly; only the updater, which the two classes type differently, needs a subclass.
 */
abstract class NetworkAccess {
    private final Model model;

    private NetworkAccess(Model model) {
        this.model = model;
    }

    static NetworkAccess of(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return new Mln((MultiLayerNetwork) model);
        }
        if (model instanceof ComputationGraph) {
            return new Graph((ComputationGraph) model);
        }
        throw new IllegalArgumentException("BF16 training supports MultiLayerNetwork and ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    final Model model() {
        return model;
    }

    /** Makes sure parameters and gradients exist (the updater is created on first use, see {@link #updater()}). */
    final void initialise() {
        if (model.params() == null || model.params().isEmpty()) {
            model.init();
        }
        if (model.getGradientsViewArray() == null) {
            initGradientsView();
        }
    }

    abstract void initGradientsView();

    final DataType dataType() {
        return NetworkConfig.live(model).dataType();
    }

    final INDArray params() {
        return model.params();
    }

    final INDArray gradients() {
        return model.getGradientsViewArray();
    }

    final int iterationCount() {
        return NetworkConfig.live(model).iterationCount();
    }

    final OptimizationAlgorithm optimizationAlgorithm() {
        return model.conf().getOptimizationAlgo();
    }

    /** The configuration objects of every layer (the ones serialised with the network). */
    final List<Layer> layerConfigs() {
        return NetworkConfig.live(model).layers();
    }

    /** The current optimizer, or null if the network has no solver yet. */
    final ConvexOptimizer optimizerOrNull() {
        return updaterIfExists() == null ? null : model.getOptimizer();
    }

    /** The network's updater (created if absent). */
    abstract BaseMultiLayerUpdater updater();

    /** The network's updater, or null if DL4J has not created one yet. */
    abstract BaseMultiLayerUpdater updaterIfExists();

    /** A new updater built from the current configuration. */
    abstract BaseMultiLayerUpdater newUpdater();

    abstract void setUpdater(BaseMultiLayerUpdater updater);

    private static final class Mln extends NetworkAccess {
        private final MultiLayerNetwork net;

        Mln(MultiLayerNetwork net) {
            super(net);
            this.net = net;
        }

        @Override
        void initGradientsView() {
            net.initGradientsView();
        }

        @Override
        BaseMultiLayerUpdater updater() {
            return (BaseMultiLayerUpdater) net.getUpdater(true);
        }

        @Override
        BaseMultiLayerUpdater updaterIfExists() {
            return (BaseMultiLayerUpdater) net.getUpdater(false);
        }

        @Override
        BaseMultiLayerUpdater newUpdater() {
            return new MultiLayerUpdater(net);
        }

        @Override
        void setUpdater(BaseMultiLayerUpdater updater) {
            net.setUpdater((MultiLayerUpdater) updater);
        }
    }

    private static final class Graph extends NetworkAccess {
        private final ComputationGraph net;

        Graph(ComputationGraph net) {
            super(net);
            this.net = net;
        }

        @Override
        void initGradientsView() {
            net.initGradientsView();
        }

        @Override
        BaseMultiLayerUpdater updater() {
            return net.getUpdater(true);
        }

        @Override
        BaseMultiLayerUpdater updaterIfExists() {
            return net.getUpdater(false);
        }

        @Override
        BaseMultiLayerUpdater newUpdater() {
            return new ComputationGraphUpdater(net);
        }

        @Override
        void setUpdater(BaseMultiLayerUpdater updater) {
            net.setUpdater((ComputationGraphUpdater) updater);
        }
    }
}
