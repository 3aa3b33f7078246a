package org.dl4jsr.spark;

import org.dl4jsr.averaging.ArrayBits;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.Network;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.core.storage.listener.RoutingIterationListener;
import org.deeplearning4j.core.util.UIDProvider;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.impl.listeners.VanillaStatsStorageRouter;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The worker of {@link Bf16ParameterAveragingTrainingMaster}. DL4J's worker loop (minibatching, training hooks, fit)
 * is inherited unchanged; this class builds the worker's network from the BF16 broadcast and attaches it (so every
 * update on the worker is rounded with the same seeds as on a single machine), and returns parameters and updater
 * state in their BF16 wire form.
 */
public class Bf16ParameterAveragingWorker extends ParameterAveragingTrainingWorker {
    private static final long serialVersionUID = 1L;

    private final Broadcast<Bf16NetBroadcast> broadcast;
    private final boolean saveUpdater;
    private final SparkBf16Options options;
    private final Collection<TrainingListener> listeners;
    private final StatsStorageRouterProvider routerProvider;

    Bf16ParameterAveragingWorker(Broadcast<Bf16NetBroadcast> broadcast, boolean saveUpdater, SparkBf16Options options,
                                 WorkerConfiguration configuration, Collection<TrainingHook> hooks,
                                 Collection<TrainingListener> listeners, StatsStorageRouterProvider routerProvider) {
        // DL4J's FP32 broadcast is not used: the network comes from the BF16 broadcast below.
        super(null, saveUpdater, configuration, hooks, listeners, routerProvider);
        this.broadcast = broadcast;
        this.saveUpdater = saveUpdater;
        this.options = options;
        this.listeners = listeners;
        this.routerProvider = routerProvider;
    }

    @Override
    public MultiLayerNetwork getInitialModel() {
        return (MultiLayerNetwork) initialModel().model();
    }

    @Override
    public ComputationGraph getInitialModelGraph() {
        return (ComputationGraph) initialModel().model();
    }

    private Network initialModel() {
        Bf16NetBroadcast b = broadcast.getValue();
        INDArray params = ArrayBits.params(b.params.decodeBits(b.paramLayout), b.dataType);
        INDArray state = b.state == null ? null : ArrayBits.updaterState(b.state.decodeBits(b.stateLayout), b.dataType);
        Network net = Network.fromJson(b.configJson, b.graph);
        net.init(params, false);
        if (state != null) {
            net.setUpdater(net.newUpdater(state));
        }
        configureListeners(net.model(), b.counter.getAndIncrement());
        // After the listeners: setting listeners re-creates the optimizer, which would drop the step function.
        Bf16Training.attachModel(net.model(), options.toOptions());
        return net;
    }

    /** As DL4J's worker does: listeners get the stats router and a worker id. */
    private void configureListeners(Model m, int counter) {
        if (listeners == null) {
            return;
        }
        List<TrainingListener> list = new ArrayList<>(listeners.size());
        for (TrainingListener l : listeners) {
            if (routerProvider != null && l instanceof RoutingIterationListener) {
                RoutingIterationListener rl = (RoutingIterationListener) l;
                rl.setStorageRouter(routerProvider.getRouter());
                rl.setWorkerID(UIDProvider.getJVMUID() + "_" + counter);
            }
            list.add(l);
        }
        m.setListeners(list);
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResult(MultiLayerNetwork network) {
        return result(Network.of(network));
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResult(ComputationGraph network) {
        return result(Network.of(network));
    }

    private Bf16TrainingResult result(Network net) {
        Bf16NetBroadcast b = broadcast.getValue();
        WireArray params = WireArray.encode(ArrayBits.of(net.params()), b.paramLayout, "Parameter");
        WireArray state = null;
        if (saveUpdater && b.stateLayout != null) {
            state = WireArray.encode(ArrayBits.of(net.updaterState()), b.stateLayout, "Updater state");
        }
        Collection<StorageMetaData> meta = null;
        Collection<Persistable> staticInfo = null;
        Collection<Persistable> updates = null;
        if (routerProvider != null) {
            StatsStorageRouter r = routerProvider.getRouter();
            if (r instanceof VanillaStatsStorageRouter) {
                VanillaStatsStorageRouter v = (VanillaStatsStorageRouter) r;
                meta = v.getStorageMetaData();
                staticInfo = v.getStaticInfo();
                updates = v.getUpdates();
            }
        }
        return new Bf16TrainingResult(new Bf16WorkerResult(params, state, net.model().score(), meta, staticInfo,
                updates));
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResultNoData() {
        return new Bf16TrainingResult(null);
    }
}
