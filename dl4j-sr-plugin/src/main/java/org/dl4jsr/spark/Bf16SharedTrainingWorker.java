package org.dl4jsr.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.listener.RoutingIterationListener;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.parameterserver.conf.SharedTrainingConfiguration;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingWorker;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The worker of {@link Bf16SharedTrainingMaster}: DL4J's gradient-sharing worker whose network is built from the
 * plugin's broadcast and attached, so that every update it applies (its own and the ones it receives from other
 * workers, all through {@code EncodedGradientsAccumulator.applyUpdate -> stepFunction.step}) is rounded stochastically
 * with the counter-based generator.
 */
public class Bf16SharedTrainingWorker extends SharedTrainingWorker {
    private static final long serialVersionUID = 1L;

    private final Broadcast<Bf16NetBroadcast> broadcast;
    private final SparkBf16Options options;
    private final List<TrainingListener> trainingListeners;
    private final StatsStorageRouter statsRouter;

    Bf16SharedTrainingWorker(long instanceId, Broadcast<Bf16NetBroadcast> broadcast,
                             Broadcast<SharedTrainingConfiguration> configuration, List<TrainingListener> listeners,
                             StatsStorageRouter router, Boolean togglePeriodicGC, Integer periodicGCFrequency,
                             SparkBf16Options options) {
        super(instanceId, null, configuration, listeners, router, togglePeriodicGC, periodicGCFrequency);
        this.broadcast = broadcast;
        this.options = options;
        this.trainingListeners = listeners;
        this.statsRouter = router;
    }

    @Override
    public MultiLayerNetwork getInitialModel() {
        Bf16NetBroadcast b = broadcast.getValue();
        return b.graph ? null : (MultiLayerNetwork) initialModel(b).model();
    }

    @Override
    public ComputationGraph getInitialModelGraph() {
        Bf16NetBroadcast b = broadcast.getValue();
        return b.graph ? (ComputationGraph) initialModel(b).model() : null;
    }

    private SparkModel initialModel(Bf16NetBroadcast b) {
        if (getWorkerTogglePeriodicGC() != null) {
            Nd4j.getMemoryManager().togglePeriodicGc(getWorkerTogglePeriodicGC());
        }
        if (getWorkerPeriodicGCFrequency() != null) {
            Nd4j.getMemoryManager().setAutoGcWindow(getWorkerPeriodicGCFrequency());
        }
        Nd4j.getAffinityManager().unsafeSetDevice(0); // as DL4J's worker does
        INDArray params = ArrayBits.params(b.params.decodeBits(b.paramLayout), b.dataType);
        INDArray state = b.state == null ? null : ArrayBits.updaterState(b.state.decodeBits(b.stateLayout), b.dataType);
        SparkModel net = SparkModel.create(b.configJson, b.graph, params, state);
        if (trainingListeners != null) {
            List<TrainingListener> list = new ArrayList<>(trainingListeners);
            for (TrainingListener l : list) {
                if (statsRouter != null && l instanceof RoutingIterationListener) {
                    ((RoutingIterationListener) l).setStorageRouter(statsRouter);
                }
            }
            net.model().setListeners(list);
        }
        // After the listeners: setting listeners re-creates the optimizer, which would drop the step function.
        net.attach(options.toOptions());
        return net;
    }

    /**
     * None: the listeners are set in {@link #getInitialModel()} before the network is attached. (DL4J's training
     * wrapper sets the listeners it gets here after building the model, which would re-create the optimizer and drop
     * the plugin's step function.)
     */
    @Override
    public List<TrainingListener> getListeners() {
        return null;
    }
}
