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

/** The handful of things the plugin needs from a MultiLayerNetwork or a ComputationGraph, behind one interface. */
abstract class NetworkAccess {

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

    abstract Model model();

    /** Makes sure parameters and gradients exist (the updater is created on first use, see {@link #updater()}). */
    abstract void initialise();

    abstract DataType dataType();

    abstract INDArray params();

    abstract INDArray gradients();

    /** The network's updater (created if absent). */
    abstract BaseMultiLayerUpdater updater();

    /** The network's updater, or null if DL4J has not created one yet. */
    abstract BaseMultiLayerUpdater updaterIfExists();

    /** A new updater built from the current configuration. */
    abstract BaseMultiLayerUpdater newUpdater();

    abstract void setUpdater(BaseMultiLayerUpdater updater);

    /** The current optimizer, or null if the network has no solver yet. */
    abstract ConvexOptimizer optimizerOrNull();

    abstract int iterationCount();

    abstract OptimizationAlgorithm optimizationAlgorithm();

    /** The configuration objects of every layer (the ones serialised with the network). */
    final List<Layer> layerConfigs() {
        return NetworkConfig.live(model()).layers();
    }

    private static final class Mln extends NetworkAccess {
        private final MultiLayerNetwork net;

        Mln(MultiLayerNetwork net) {
            this.net = net;
        }

        @Override
        Model model() {
            return net;
        }

        @Override
        void initialise() {
            if (net.getLayers() == null) {
                net.init();
            }
            if (net.getGradientsViewArray() == null) {
                net.initGradientsView();
            }
        }

        @Override
        DataType dataType() {
            return net.getLayerWiseConfigurations().getDataType();
        }

        @Override
        INDArray params() {
            return net.params();
        }

        @Override
        INDArray gradients() {
            return net.getGradientsViewArray();
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

        @Override
        ConvexOptimizer optimizerOrNull() {
            return net.getUpdater(false) == null ? null : net.getOptimizer();
        }

        @Override
        int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        OptimizationAlgorithm optimizationAlgorithm() {
            return net.conf().getOptimizationAlgo();
        }


    }

    private static final class Graph extends NetworkAccess {
        private final ComputationGraph net;

        Graph(ComputationGraph net) {
            this.net = net;
        }

        @Override
        Model model() {
            return net;
        }

        @Override
        void initialise() {
            if (net.getLayers() == null) {
                net.init();
            }
            if (net.getGradientsViewArray() == null) {
                net.initGradientsView();
            }
        }

        @Override
        DataType dataType() {
            return net.getConfiguration().getDataType();
        }

        @Override
        INDArray params() {
            return net.params();
        }

        @Override
        INDArray gradients() {
            return net.getGradientsViewArray();
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

        @Override
        ConvexOptimizer optimizerOrNull() {
            return net.getUpdater(false) == null ? null : net.getOptimizer();
        }

        @Override
        int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        OptimizationAlgorithm optimizationAlgorithm() {
            return net.conf().getOptimizationAlgo();
        }


    }
}
