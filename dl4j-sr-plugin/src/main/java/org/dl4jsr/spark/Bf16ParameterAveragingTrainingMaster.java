package org.dl4jsr.spark;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.dl4jsr.averaging.ArrayBits;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;
import org.dl4jsr.averaging.WireLayouts;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DL4J's {@link ParameterAveragingTrainingMaster} for networks trained in BF16 with stochastic rounding. Use it exactly
 * like DL4J's master, with {@code SparkDl4jMultiLayer} or {@code SparkComputationGraph}:
 * <pre>{@code
 * TrainingMaster tm = new Bf16ParameterAveragingTrainingMaster.Builder(rddDataSetNumExamples)
 *         .batchSizePerWorker(32).averagingFrequency(5).build();
 * new SparkDl4jMultiLayer(sc, net, tm).fit(trainingData);
 * }</pre>
 * What changes against DL4J's master:
 * <ul>
 * <li>The driver network is attached ({@code Bf16Training.attach}) and checked before the first round; every worker
 * builds its network from the broadcast and attaches it with the same {@link Bf16Options}, so every update on a
 * worker is the one single-machine training would apply, rounded with the same counter-based random bits.</li>
 * <li>Parameters and updater state travel as BF16 in both directions (lossless: the values are on the grid, see
 * {@code WireArray}): 6 bytes per parameter per direction with AdamWSR (weights, m, v) instead of 12.</li>
 * <li>Averaging sums the workers' values in FP32 on the executors, in a tree of depth {@code aggregationDepth} whose
 * order of additions is fixed by partition index ({@link SumTree}: the result does not depend on which task finishes
 * first, is retried or loses its executor), divides, and rounds the averages back onto the BF16 grid with stochastic
 * rounding keyed on (seed, round): every worker of the next round receives the same BF16-grid model. Only that
 * rounded average reaches the driver (one worker's result in size), whatever the number of workers. Values DL4J
 * keeps in FP32 (wrapped DL4J updaters' state, NoOp parameters) are averaged in FP32 as DL4J does. The round is
 * identified by the network's iteration count at its start.</li>
 * <li>Updater state is averaged by default ({@code saveUpdater(true)}); training statistics
 * ({@code collectTrainingStats}) are not supported.</li>
 * </ul>
 *
 * <p>It mirrors DL4J's master and its Builder (same constructors and options, in {@link Bf16MasterBuilder}), so it is
 * a drop-in replacement; the wire format, the averaging and the executor check are in their own classes.
 */
public class Bf16ParameterAveragingTrainingMaster extends ParameterAveragingTrainingMaster {
    private static final Logger log = LoggerFactory.getLogger(Bf16ParameterAveragingTrainingMaster.class);

    private SparkBf16Options bf16Options;
    /** See {@link Bf16MasterBuilder#executorRegistrationTimeout}; milliseconds, so DL4J's JSON carries it as a number. */
    private long executorRegistrationTimeoutMillis = ExecutorRegistration.DEFAULT_TIMEOUT.toMillis();

    /** The driver network this master has attached and checked (transient: per driver JVM). */
    private transient Model preparedNetwork;
    private transient Broadcast<Bf16NetBroadcast> roundBroadcast;
    private transient WireLayout roundParamLayout;
    private transient WireLayout roundStateLayout;
    private transient int roundsDone;

    /** For JSON. */
    protected Bf16ParameterAveragingTrainingMaster() {
        super();
    }

    protected Bf16ParameterAveragingTrainingMaster(Builder builder) {
        super(builder);
        this.bf16Options = SparkBf16Options.of(builder.getBf16Options());
        this.executorRegistrationTimeoutMillis = builder.getExecutorRegistrationTimeout().toMillis();
    }

    /** How long training waits for the first executor before failing (zero: no check). */
    public Duration getExecutorRegistrationTimeout() {
        return Duration.ofMillis(executorRegistrationTimeoutMillis);
    }

    /** The options workers attach their networks with. */
    public SparkBf16Options getBf16Options() {
        return bf16Options;
    }

    /** Averaging rounds completed by this master (in this JVM). */
    public int getRoundsDone() {
        return roundsDone;
    }

    // Every training entry point prepares (attaches and checks) the driver network before Spark runs anything.

    @Override
    public void executeTraining(SparkDl4jMultiLayer network, JavaRDD<DataSet> trainingData) {
        beforeTraining(network.getNetwork(), network.getSparkContext());
        super.executeTraining(network, trainingData);
    }

    @Override
    public void executeTraining(SparkComputationGraph graph, JavaRDD<DataSet> trainingData) {
        beforeTraining(graph.getNetwork(), graph.getSparkContext());
        super.executeTraining(graph, trainingData);
    }

    @Override
    public void executeTrainingMDS(SparkComputationGraph graph, JavaRDD<MultiDataSet> trainingData) {
        beforeTraining(graph.getNetwork(), graph.getSparkContext());
        super.executeTrainingMDS(graph, trainingData);
    }

    @Override
    public void executeTrainingPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                     JavaRDD<String> trainingDataPaths, DataSetLoader dsLoader,
                                     MultiDataSetLoader mdsLoader) {
        beforeTraining(network != null ? network.getNetwork() : graph.getNetwork(),
                network != null ? network.getSparkContext() : graph.getSparkContext());
        super.executeTrainingPaths(network, graph, trainingDataPaths, dsLoader, mdsLoader);
    }

    /**
     * Attaches and checks the driver network, then waits for the first executor: fails with a message saying where
     * to look, rather than letting Spark wait forever for executors.
     */
    private void beforeTraining(Model model, JavaSparkContext sc) {
        prepare(model);
        ExecutorRegistration.await(sc.sc(), getExecutorRegistrationTimeout());
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        return worker(network.getNetwork(), network.getSparkContext());
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        return worker(graph.getNetwork(), graph.getSparkContext());
    }

    private Bf16ParameterAveragingWorker worker(Model model, JavaSparkContext sc) {
        Network net = prepare(model);
        WireLayout paramLayout = WireLayouts.params(net);
        WireLayout stateLayout = WireLayouts.state(net);
        WireArray params = WireArray.encode(ArrayBits.of(net.params()), paramLayout, "Parameter");
        WireArray state = stateLayout == null ? null
                : WireArray.encode(ArrayBits.of(net.updaterState()), stateLayout, "Updater state");
        Bf16NetBroadcast tuple = new Bf16NetBroadcast(net.configJson(), net.isGraph(), net.dataType(), paramLayout,
                params, stateLayout, state);
        releaseBroadcast();
        roundBroadcast = sc.broadcast(tuple);
        roundParamLayout = paramLayout;
        roundStateLayout = stateLayout;
        WorkerConfiguration configuration = new WorkerConfiguration(net.isGraph(), rddDataSetNumExamples,
                batchSizePerWorker, averagingFrequency, prefetchNumBatches, false);
        return new Bf16ParameterAveragingWorker(roundBroadcast, saveUpdater, bf16Options, configuration,
                trainingHookList, listeners, getRouterProvider());
    }

    /** Attaches and checks the driver network once per network, before anything is sent to the workers. */
    private Network prepare(Model model) {
        Network net = Network.of(model);
        if (preparedNetwork != model) {
            Bf16Training.attachModel(model, bf16Options.toOptions());
            WireLayouts.validate(net);
            preparedNetwork = model;
        }
        return net;
    }

    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                  JavaRDD<ParameterAveragingTrainingResult> results, int splitNum, int totalSplits) {
        Network net = Network.of(network != null ? network.getNetwork() : graph.getNetwork());
        int round = net.iterationCount();
        WireLayout stateLayout = saveUpdater ? roundStateLayout : null;
        // Summed on the executors in a tree of depth aggregationDepth, in partition order (TreeAveraging): the driver
        // receives the rounded average only, whatever the number of workers and whichever task finishes first.
        AveragedResult averaged = TreeAveraging.average(results.map(new ToWire()), checkedDepth(aggregationDepth),
                roundParamLayout, stateLayout, bf16Options.getSeed(), round);
        releaseBroadcast();
        if (averaged.params == null) {
            log.info("Skipping imbalanced split with no data for all executors");
            return;
        }
        net.setParams(ArrayBits.params(averaged.params.decodeBits(roundParamLayout), net.dataType()));
        if (stateLayout != null) {
            net.setUpdaterState(ArrayBits.updaterState(averaged.state.decodeBits(stateLayout), net.dataType()));
        }
        List<Bf16WorkerResult> reports = averaged.reports;
        double scoreSum = 0;
        for (Bf16WorkerResult r : reports) {
            scoreSum += r.score;
        }
        if (network != null) {
            network.setScore(scoreSum / reports.size());
        } else {
            graph.setScore(scoreSum / reports.size());
        }
        routeListenerInfo(reports);
        net.setCounts(round + averagingFrequency, net.epochCount());
        roundsDone++;
        log.info("Completed training of split {} of {}: averaged {} workers in BF16", splitNum, totalSplits,
                reports.size());
    }

    /** The depth, refused below 1 (a master read from JSON skips the Builder's check). */
    static int checkedDepth(int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException(SumTree.depthMessage(depth));
        }
        return depth;
    }

    @Override
    public void setAggregationDepth(int aggregationDepth) {
        super.setAggregationDepth(checkedDepth(aggregationDepth));
    }

    /** As DL4J's master does: what the workers' listeners recorded goes to the stats storage. */
    private void routeListenerInfo(List<Bf16WorkerResult> results) {
        if (statsStorage == null) {
            return;
        }
        List<StorageMetaData> meta = new ArrayList<>();
        List<Persistable> staticInfo = new ArrayList<>();
        List<Persistable> updates = new ArrayList<>();
        for (Bf16WorkerResult r : results) {
            addAll(meta, r.listenerMetaData);
            addAll(staticInfo, r.listenerStaticInfo);
            addAll(updates, r.listenerUpdates);
        }
        if (!meta.isEmpty()) {
            statsStorage.putStorageMetaData(meta);
        }
        if (!staticInfo.isEmpty()) {
            statsStorage.putStaticInfo(staticInfo);
        }
        if (!updates.isEmpty()) {
            statsStorage.putUpdate(updates);
        }
    }

    private static <T> void addAll(List<T> to, Collection<? extends T> from) {
        if (from != null) {
            to.addAll(from);
        }
    }

    private void releaseBroadcast() {
        if (roundBroadcast != null) {
            roundBroadcast.destroy();
            roundBroadcast = null;
        }
    }

    @Override
    public void setCollectTrainingStats(boolean collectTrainingStats) {
        super.setCollectTrainingStats(refuseTrainingStats(collectTrainingStats));
    }

    /** False, or refused: this master does not collect DL4J's training statistics (Builder, setter). */
    static boolean refuseTrainingStats(boolean collectTrainingStats) {
        if (collectTrainingStats) {
            throw new UnsupportedOperationException("Bf16ParameterAveragingTrainingMaster does not collect DL4J training"
                    + " statistics; use Spark's UI or a SparkListener for timings");
        }
        return false;
    }

    /** Reads a master written by {@link #toJson()}. */
    public static Bf16ParameterAveragingTrainingMaster fromJson(String json) {
        try {
            return getJsonMapper().readValue(json, Bf16ParameterAveragingTrainingMaster.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("Could not parse a Bf16ParameterAveragingTrainingMaster from JSON", e);
        }
    }

    /** Sends a worker's result in its wire form (runs on the executor, in the training task). */
    private static final class ToWire implements Function<ParameterAveragingTrainingResult, Bf16WorkerResult> {
        private static final long serialVersionUID = 1L;

        @Override
        public Bf16WorkerResult call(ParameterAveragingTrainingResult r) {
            if (!(r instanceof Bf16TrainingResult)) {
                throw new IllegalStateException("Expected a result of Bf16ParameterAveragingWorker, got " + r);
            }
            return ((Bf16TrainingResult) r).getWire();
        }
    }

    /**
     * The builder users write, as with DL4J's master: DL4J's options (same names and defaults, except
     * {@code saveUpdater}, true here) plus {@link Bf16MasterBuilder#bf16Options(Bf16Options)}; all of them are in
     * {@link Bf16MasterBuilder}.
     */
    public static class Builder extends Bf16MasterBuilder<Builder> {
        /** Workers: Spark's default parallelism. {@code rddDataSetNumExamples}: examples in each DataSet of the RDD. */
        public Builder(int rddDataSetNumExamples) {
            this(null, rddDataSetNumExamples);
        }

        public Builder(Integer numWorkers, int rddDataSetNumExamples) {
            super(numWorkers, rddDataSetNumExamples);
        }

        @Override
        public Bf16ParameterAveragingTrainingMaster build() {
            checkedDepth(aggregationDepth);
            return new Bf16ParameterAveragingTrainingMaster(this);
        }
    }
}
