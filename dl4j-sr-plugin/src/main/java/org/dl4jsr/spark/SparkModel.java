package org.dl4jsr.spark;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the Spark classes need from a MultiLayerNetwork or a ComputationGraph, behind one interface. */
abstract class SparkModel {

    static SparkModel of(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return new Mln((MultiLayerNetwork) model);
        }
        if (model instanceof ComputationGraph) {
            return new Graph((ComputationGraph) model);
        }
        throw new IllegalArgumentException("Expected a MultiLayerNetwork or a ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /** Builds and initialises a network from its JSON configuration with the given parameters and updater state. */
    static SparkModel create(String configJson, boolean graph, INDArray params, INDArray updaterState) {
        if (graph) {
            ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(configJson));
            net.init(params, false);
            if (updaterState != null) {
                net.setUpdater(new ComputationGraphUpdater(net, updaterState));
            }
            return new Graph(net);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson));
        net.init(params, false);
        if (updaterState != null) {
            net.setUpdater(new MultiLayerUpdater(net, updaterState));
        }
        return new Mln(net);
    }

    abstract Model model();

    abstract boolean isGraph();

    abstract String configJson();

    abstract DataType dataType();

    abstract int iterationCount();

    abstract void setIterationCount(int iterationCount);

    abstract BaseMultiLayerUpdater<?> updater();

    abstract Bf16Attachment attach(Bf16Options options);

    abstract void setParams(INDArray params);

    INDArray params() {
        return model().params();
    }

    /** The updater state view array, or null when no updater keeps state. */
    INDArray updaterState() {
        return updater().getStateViewArray();
    }

    void setUpdaterState(INDArray state) {
        updater().setStateViewArray(state);
    }

    List<UpdaterBlock> updaterBlocks() {
        List<UpdaterBlock> blocks = new ArrayList<>();
        for (Object o : updater().getUpdaterBlocks()) {
            blocks.add((UpdaterBlock) o);
        }
        return blocks;
    }

    private static final class Mln extends SparkModel {
        private final MultiLayerNetwork net;

        Mln(MultiLayerNetwork net) {
            this.net = net;
        }

        @Override
        Model model() {
            return net;
        }

        @Override
        boolean isGraph() {
            return false;
        }

        @Override
        String configJson() {
            return net.getLayerWiseConfigurations().toJson();
        }

        @Override
        DataType dataType() {
            return net.getLayerWiseConfigurations().getDataType();
        }

        @Override
        int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        void setIterationCount(int iterationCount) {
            net.setIterationCount(iterationCount);
        }

        @Override
        BaseMultiLayerUpdater<?> updater() {
            return (BaseMultiLayerUpdater<?>) net.getUpdater(true);
        }

        @Override
        Bf16Attachment attach(Bf16Options options) {
            return Bf16Training.attach(net, options);
        }

        @Override
        void setParams(INDArray params) {
            net.setParameters(params);
        }
    }

    private static final class Graph extends SparkModel {
        private final ComputationGraph net;

        Graph(ComputationGraph net) {
            this.net = net;
        }

        @Override
        Model model() {
            return net;
        }

        @Override
        boolean isGraph() {
            return true;
        }

        @Override
        String configJson() {
            return net.getConfiguration().toJson();
        }

        @Override
        DataType dataType() {
            return net.getConfiguration().getDataType();
        }

        @Override
        int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        void setIterationCount(int iterationCount) {
            net.getConfiguration().setIterationCount(iterationCount);
        }

        @Override
        BaseMultiLayerUpdater<?> updater() {
            return net.getUpdater(true);
        }

        @Override
        Bf16Attachment attach(Bf16Options options) {
            return Bf16Training.attach(net, options);
        }

        @Override
        void setParams(INDArray params) {
            net.setParams(params);
        }
    }
}
