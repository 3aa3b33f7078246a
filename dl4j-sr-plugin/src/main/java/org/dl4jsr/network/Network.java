package org.dl4jsr.network;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The plugin's one seam over DL4J's two network classes: everything the plugin needs from a MultiLayerNetwork or a
 * ComputationGraph and its configuration. DL4J's {@link Model} interface is used where it suffices; the rest (updater,
 * configuration, counters) is typed differently by the two classes and lives in the two subclasses here, and nowhere
 * else in the plugin. Internal API: not for users.
 *
 * <p>Both adapters (MultiLayerNetwork and ComputationGraph) sit side by side: this is the one place that knows DL4J's
 * two network classes.
 */
public abstract class Network {
    private final Model model;

    private Network(Model model) {
        this.model = model;
    }

    /** The adapter of an existing MultiLayerNetwork or ComputationGraph. */
    public static Network of(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return new Mln((MultiLayerNetwork) model);
        }
        if (model instanceof ComputationGraph) {
            return new Graph((ComputationGraph) model);
        }
        throw new IllegalArgumentException("BF16 training supports MultiLayerNetwork and ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /** A new, not yet initialised network of a JSON configuration (see {@link #init}). */
    public static Network fromJson(String configJson, boolean graph) {
        return graph ? new Graph(new ComputationGraph(ComputationGraphConfiguration.fromJson(configJson)))
                : new Mln(new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson)));
    }

    /** A new, not yet initialised network with an independent copy of this one's configuration (a JSON round trip). */
    public final Network copyConfiguration() {
        return fromJson(configJson(), isGraph());
    }

    public final Model model() {
        return model;
    }

    public abstract boolean isGraph();

    public abstract String configJson();

    /** Initialises a new network with these parameters ({@code cloneParams}: copied, else used as the view array). */
    public abstract void init(INDArray params, boolean cloneParams);

    /** Makes sure parameters and gradients exist (the updater is created on first use, see {@link #updater()}). */
    public final void initialise() {
        if (model.params() == null || model.params().isEmpty()) {
            model.init();
        }
        if (model.getGradientsViewArray() == null) {
            initGradientsView();
        }
    }

    abstract void initGradientsView();

    /** Every layer configuration (top level, the objects serialised with the network; wrappers: {@link LayerTree}). */
    public abstract List<Layer> layerConfigs();

    public abstract DataType dataType();

    /** Sets the data type of the configuration (before {@link #init}). */
    public abstract void setDataType(DataType type);

    public abstract int iterationCount();

    public abstract int epochCount();

    public abstract void setCounts(int iteration, int epoch);

    /** Sets the score the network reports (DL4J's Model interface has no setter). */
    public abstract void setScore(double score);

    public final INDArray params() {
        return model.params();
    }

    public abstract void setParams(INDArray params);

    public final INDArray gradients() {
        return model.getGradientsViewArray();
    }

    public final OptimizationAlgorithm optimizationAlgorithm() {
        return model.conf().getOptimizationAlgo();
    }

    /** The current optimizer, or null if the network has no solver yet. */
    public final ConvexOptimizer optimizerOrNull() {
        return updaterIfExists() == null ? null : model.getOptimizer();
    }

    /** The network's updater (created if absent). */
    public abstract BaseMultiLayerUpdater<?> updater();

    /** The network's updater, or null if DL4J has not created one yet. */
    public abstract BaseMultiLayerUpdater<?> updaterIfExists();

    /** A new updater built from the current configuration, with fresh state, or viewing {@code state} if not null. */
    public abstract BaseMultiLayerUpdater<?> newUpdater(INDArray state);

    public abstract void setUpdater(BaseMultiLayerUpdater<?> updater);

    /** The updater state view array, or null when no updater keeps state. */
    public final INDArray updaterState() {
        return updater().getStateViewArray();
    }

    public final void setUpdaterState(INDArray state) {
        updater().setStateViewArray(state);
    }

    public final List<UpdaterBlock> updaterBlocks() {
        List<UpdaterBlock> blocks = new ArrayList<>();
        for (Object o : updater().getUpdaterBlocks()) {
            blocks.add((UpdaterBlock) o);
        }
        return blocks;
    }

    /** "[layer/param, ...]": the parameters of an updater block, for messages. */
    public static String blockName(UpdaterBlock block) {
        List<String> names = new ArrayList<>();
        for (Object o : block.getLayersAndVariablesInBlock()) {
            UpdaterBlock.ParamState p = (UpdaterBlock.ParamState) o;
            names.add(p.getLayer().getConfig().getLayerName() + "/" + p.getParamName());
        }
        return names.toString();
    }

    private static final class Mln extends Network {
        private final MultiLayerNetwork net;

        Mln(MultiLayerNetwork net) {
            super(net);
            this.net = net;
        }

        private MultiLayerConfiguration conf() {
            return net.getLayerWiseConfigurations();
        }

        @Override
        public boolean isGraph() {
            return false;
        }

        @Override
        public String configJson() {
            return conf().toJson();
        }

        @Override
        public void init(INDArray params, boolean cloneParams) {
            net.init(params, cloneParams);
        }

        @Override
        void initGradientsView() {
            net.initGradientsView();
        }

        @Override
        public List<Layer> layerConfigs() {
            List<Layer> layers = new ArrayList<>();
            for (NeuralNetConfiguration c : conf().getConfs()) {
                layers.add(c.getLayer());
            }
            return layers;
        }

        @Override
        public DataType dataType() {
            return conf().getDataType();
        }

        @Override
        public void setDataType(DataType type) {
            conf().setDataType(type);
            for (NeuralNetConfiguration c : conf().getConfs()) {
                c.setDataType(type);
            }
        }

        @Override
        public int iterationCount() {
            return conf().getIterationCount();
        }

        @Override
        public int epochCount() {
            return conf().getEpochCount();
        }

        @Override
        public void setCounts(int iteration, int epoch) {
            conf().setIterationCount(iteration);
            conf().setEpochCount(epoch);
        }

        @Override
        public void setScore(double score) {
            net.setScore(score);
        }

        @Override
        public void setParams(INDArray params) {
            net.setParameters(params);
        }

        @Override
        public BaseMultiLayerUpdater<?> updater() {
            return (BaseMultiLayerUpdater<?>) net.getUpdater(true);
        }

        @Override
        public BaseMultiLayerUpdater<?> updaterIfExists() {
            return (BaseMultiLayerUpdater<?>) net.getUpdater(false);
        }

        @Override
        public BaseMultiLayerUpdater<?> newUpdater(INDArray state) {
            return state == null ? new MultiLayerUpdater(net) : new MultiLayerUpdater(net, state);
        }

        @Override
        public void setUpdater(BaseMultiLayerUpdater<?> updater) {
            net.setUpdater((MultiLayerUpdater) updater);
        }
    }

    private static final class Graph extends Network {
        private final ComputationGraph net;

        Graph(ComputationGraph net) {
            super(net);
            this.net = net;
        }

        private ComputationGraphConfiguration conf() {
            return net.getConfiguration();
        }

        @Override
        public boolean isGraph() {
            return true;
        }

        @Override
        public String configJson() {
            return conf().toJson();
        }

        @Override
        public void init(INDArray params, boolean cloneParams) {
            net.init(params, cloneParams);
        }

        @Override
        void initGradientsView() {
            net.initGradientsView();
        }

        @Override
        public List<Layer> layerConfigs() {
            List<Layer> layers = new ArrayList<>();
            for (GraphVertex v : conf().getVertices().values()) {
                if (v instanceof LayerVertex) {
                    layers.add(((LayerVertex) v).getLayerConf().getLayer());
                }
            }
            return layers;
        }

        @Override
        public DataType dataType() {
            return conf().getDataType();
        }

        @Override
        public void setDataType(DataType type) {
            conf().setDataType(type);
            for (GraphVertex v : conf().getVertices().values()) {
                if (v instanceof LayerVertex) {
                    ((LayerVertex) v).getLayerConf().setDataType(type);
                }
            }
        }

        @Override
        public int iterationCount() {
            return conf().getIterationCount();
        }

        @Override
        public int epochCount() {
            return conf().getEpochCount();
        }

        @Override
        public void setCounts(int iteration, int epoch) {
            conf().setIterationCount(iteration);
            conf().setEpochCount(epoch);
        }

        @Override
        public void setScore(double score) {
            net.setScore(score);
        }

        @Override
        public void setParams(INDArray params) {
            net.setParams(params);
        }

        @Override
        public BaseMultiLayerUpdater<?> updater() {
            return net.getUpdater(true);
        }

        @Override
        public BaseMultiLayerUpdater<?> updaterIfExists() {
            return net.getUpdater(false);
        }

        @Override
        public BaseMultiLayerUpdater<?> newUpdater(INDArray state) {
            return state == null ? new ComputationGraphUpdater(net) : new ComputationGraphUpdater(net, state);
        }

        @Override
        public void setUpdater(BaseMultiLayerUpdater<?> updater) {
            net.setUpdater((ComputationGraphUpdater) updater);
        }
    }
}
