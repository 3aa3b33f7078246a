package org.dl4jsr;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A MultiLayerConfiguration or a ComputationGraphConfiguration behind one interface. */
abstract class NetworkConfig {

    /** The configuration object the network itself uses (edits affect the network). */
    static NetworkConfig live(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return new Mln(((MultiLayerNetwork) model).getLayerWiseConfigurations());
        }
        if (model instanceof ComputationGraph) {
            return new Graph(((ComputationGraph) model).getConfiguration());
        }
        throw new IllegalArgumentException("Expected a MultiLayerNetwork or ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /** An independent copy of the network's configuration (a JSON round trip, as DL4J's own copies do). */
    static NetworkConfig copyOf(Model model) {
        return fromJson(live(model).toJson(), model instanceof ComputationGraph);
    }

    static NetworkConfig fromJson(String json, boolean graph) {
        return graph ? new Graph(ComputationGraphConfiguration.fromJson(json))
                : new Mln(MultiLayerConfiguration.fromJson(json));
    }

    abstract boolean isGraph();

    /** Every layer configuration (top level; wrappers are walked by {@link LayerTree}). */
    abstract List<Layer> layers();

    abstract DataType dataType();

    abstract void setDataType(DataType type);

    abstract int iterationCount();

    abstract int epochCount();

    abstract void setCounts(int iteration, int epoch);

    abstract String toJson();

    /** A new initialised network with these parameters (copied), or freshly initialised ones when null. */
    abstract Model build(INDArray params);

    private static final class Mln extends NetworkConfig {
        private final MultiLayerConfiguration conf;

        Mln(MultiLayerConfiguration conf) {
            this.conf = conf;
        }

        @Override
        boolean isGraph() {
            return false;
        }

        @Override
        List<Layer> layers() {
            List<Layer> layers = new ArrayList<>();
            for (NeuralNetConfiguration c : conf.getConfs()) {
                layers.add(c.getLayer());
            }
            return layers;
        }

        @Override
        DataType dataType() {
            return conf.getDataType();
        }

        @Override
        void setDataType(DataType type) {
            conf.setDataType(type);
            for (NeuralNetConfiguration c : conf.getConfs()) {
                c.setDataType(type);
            }
        }

        @Override
        int iterationCount() {
            return conf.getIterationCount();
        }

        @Override
        int epochCount() {
            return conf.getEpochCount();
        }

        @Override
        void setCounts(int iteration, int epoch) {
            conf.setIterationCount(iteration);
            conf.setEpochCount(epoch);
        }

        @Override
        String toJson() {
            return conf.toJson();
        }

        @Override
        Model build(INDArray params) {
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init(params, params != null);
            return net;
        }
    }

    private static final class Graph extends NetworkConfig {
        private final ComputationGraphConfiguration conf;

        Graph(ComputationGraphConfiguration conf) {
            this.conf = conf;
        }

        @Override
        boolean isGraph() {
            return true;
        }

        @Override
        List<Layer> layers() {
            List<Layer> layers = new ArrayList<>();
            for (GraphVertex v : conf.getVertices().values()) {
                if (v instanceof LayerVertex) {
                    layers.add(((LayerVertex) v).getLayerConf().getLayer());
                }
            }
            return layers;
        }

        @Override
        DataType dataType() {
            return conf.getDataType();
        }

        @Override
        void setDataType(DataType type) {
            conf.setDataType(type);
            for (GraphVertex v : conf.getVertices().values()) {
                if (v instanceof LayerVertex) {
                    ((LayerVertex) v).getLayerConf().setDataType(type);
                }
            }
        }

        @Override
        int iterationCount() {
            return conf.getIterationCount();
        }

        @Override
        int epochCount() {
            return conf.getEpochCount();
        }

        @Override
        void setCounts(int iteration, int epoch) {
            conf.setIterationCount(iteration);
            conf.setEpochCount(epoch);
        }

        @Override
        String toJson() {
            return conf.toJson();
        }

        @Override
        Model build(INDArray params) {
            ComputationGraph net = new ComputationGraph(conf);
            net.init(params, params != null);
            return net;
        }
    }
}
