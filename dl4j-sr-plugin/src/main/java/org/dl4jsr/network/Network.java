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
 * configuration, counters) is typed differently by the two classes and lives here, and nowhere else in the plugin.
 * Internal API: not for users.
 *
 * <p>The two classes share no interface for these calls (their configurations neither), so each operation below names
 * the MultiLayerNetwork call and the ComputationGraph call side by side: exactly one of {@code mln} and {@code graph}
 * is set.
 */
public final class Network {
    private final Model model;
    private final MultiLayerNetwork mln;
    private final ComputationGraph graph;

    private Network(MultiLayerNetwork mln, ComputationGraph graph) {
        this.model = mln != null ? mln : graph;
        this.mln = mln;
        this.graph = graph;
    }

    /** The adapter of an existing MultiLayerNetwork or ComputationGraph. */
    public static Network of(Model model) {
        if (model instanceof MultiLayerNetwork) {
            return new Network((MultiLayerNetwork) model, null);
        }
        if (model instanceof ComputationGraph) {
            return new Network(null, (ComputationGraph) model);
        }
        throw new IllegalArgumentException("BF16 training supports MultiLayerNetwork and ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /** A new, not yet initialised network of a JSON configuration (see {@link #init}). */
    public static Network fromJson(String configJson, boolean graph) {
        return graph ? new Network(null, new ComputationGraph(ComputationGraphConfiguration.fromJson(configJson)))
                : new Network(new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson)), null);
    }

    /** A new, not yet initialised network with an independent copy of this one's configuration (a JSON round trip). */
    public Network copyConfiguration() {
        return fromJson(configJson(), isGraph());
    }

    public Model model() {
        return model;
    }

    public boolean isGraph() {
        return graph != null;
    }

    // Through DL4J's Model interface.

    public INDArray params() {
        return model.params();
    }

    public INDArray gradients() {
        return model.getGradientsViewArray();
    }

    public OptimizationAlgorithm optimizationAlgorithm() {
        return model.conf().getOptimizationAlgo();
    }

    /** The current optimizer, or null if the network has no solver yet. */
    public ConvexOptimizer optimizerOrNull() {
        return updaterIfExists() == null ? null : model.getOptimizer();
    }

    // What DL4J's Model interface does not offer: one call per network class, side by side.

    private MultiLayerConfiguration mlnConf() {
        return mln.getLayerWiseConfigurations();
    }

    private ComputationGraphConfiguration graphConf() {
        return graph.getConfiguration();
    }

    public String configJson() {
        return isGraph() ? graphConf().toJson() : mlnConf().toJson();
    }

    /** Initialises a new network with these parameters ({@code cloneParams}: copied, else used as the view array). */
    public void init(INDArray params, boolean cloneParams) {
        if (isGraph()) {
            graph.init(params, cloneParams);
        } else {
            mln.init(params, cloneParams);
        }
    }

    /** Makes sure parameters and gradients exist (the updater is created on first use, see {@link #updater()}). */
    public void initialise() {
        if (model.params() == null || model.params().isEmpty()) {
            model.init();
        }
        if (model.getGradientsViewArray() == null) {
            if (isGraph()) {
                graph.initGradientsView();
            } else {
                mln.initGradientsView();
            }
        }
    }

    /** Every layer configuration (top level, the objects serialised with the network; wrappers: {@link LayerTree}). */
    public List<Layer> layerConfigs() {
        List<Layer> layers = new ArrayList<>();
        for (NeuralNetConfiguration c : layerNetConfs()) {
            layers.add(c.getLayer());
        }
        return layers;
    }

    /** The per-layer configurations: a MultiLayerNetwork's list, a ComputationGraph's layer vertices'. */
    private List<NeuralNetConfiguration> layerNetConfs() {
        if (!isGraph()) {
            return mlnConf().getConfs();
        }
        List<NeuralNetConfiguration> confs = new ArrayList<>();
        for (GraphVertex v : graphConf().getVertices().values()) {
            if (v instanceof LayerVertex) {
                confs.add(((LayerVertex) v).getLayerConf());
            }
        }
        return confs;
    }

    public DataType dataType() {
        return isGraph() ? graphConf().getDataType() : mlnConf().getDataType();
    }

    /** Sets the data type of the configuration (before {@link #init}). */
    public void setDataType(DataType type) {
        if (isGraph()) {
            graphConf().setDataType(type);
        } else {
            mlnConf().setDataType(type);
        }
        for (NeuralNetConfiguration c : layerNetConfs()) {
            c.setDataType(type);
        }
    }

    public int iterationCount() {
        return isGraph() ? graphConf().getIterationCount() : mlnConf().getIterationCount();
    }

    public int epochCount() {
        return isGraph() ? graphConf().getEpochCount() : mlnConf().getEpochCount();
    }

    public void setCounts(int iteration, int epoch) {
        if (isGraph()) {
            graphConf().setIterationCount(iteration);
            graphConf().setEpochCount(epoch);
        } else {
            mlnConf().setIterationCount(iteration);
            mlnConf().setEpochCount(epoch);
        }
    }

    /** Sets the score the network reports (DL4J's Model interface has no setter). */
    public void setScore(double score) {
        if (isGraph()) {
            graph.setScore(score);
        } else {
            mln.setScore(score);
        }
    }

    public void setParams(INDArray params) {
        if (isGraph()) {
            graph.setParams(params);
        } else {
            mln.setParameters(params);
        }
    }

    /** The network's updater (created if absent). */
    public BaseMultiLayerUpdater<?> updater() {
        return updater(true);
    }

    /** The network's updater, or null if DL4J has not created one yet. */
    public BaseMultiLayerUpdater<?> updaterIfExists() {
        return updater(false);
    }

    private BaseMultiLayerUpdater<?> updater(boolean create) {
        return isGraph() ? graph.getUpdater(create) : (BaseMultiLayerUpdater<?>) mln.getUpdater(create);
    }

    /** A new updater built from the current configuration, with fresh state, or viewing {@code state} if not null. */
    public BaseMultiLayerUpdater<?> newUpdater(INDArray state) {
        if (isGraph()) {
            return state == null ? new ComputationGraphUpdater(graph) : new ComputationGraphUpdater(graph, state);
        }
        return state == null ? new MultiLayerUpdater(mln) : new MultiLayerUpdater(mln, state);
    }

    public void setUpdater(BaseMultiLayerUpdater<?> updater) {
        if (isGraph()) {
            graph.setUpdater((ComputationGraphUpdater) updater);
        } else {
            mln.setUpdater((MultiLayerUpdater) updater);
        }
    }

    /** The updater state view array, or null when no updater keeps state. */
    public INDArray updaterState() {
        return updater().getStateViewArray();
    }

    public void setUpdaterState(INDArray state) {
        updater().setStateViewArray(state);
    }

    public List<UpdaterBlock> updaterBlocks() {
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
}
