package org.dl4jsr.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.Repartitioner;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.parameterserver.conf.SharedTrainingConfiguration;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingResult;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingWorker;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

/**
 * DL4J's {@link SharedTrainingMaster} (gradient sharing over Aeron) for networks trained in BF16 with stochastic
 * rounding. Built like DL4J's master:
 * <pre>{@code
 * TrainingMaster tm = new Bf16SharedTrainingMaster.Builder(voidConfiguration, rddDataSetNumExamples)
 *         .batchSizePerWorker(32).build();
 * }</pre>
 * The driver network is attached before DL4J installs its update consumer (which applies the shared updates to the
 * driver's copy through the network's step function), and every worker attaches its network: every update applied
 * anywhere is rounded stochastically onto the BF16 grid with the counter-based generator. After training, the updater
 * state DL4J averages in FP32 is rounded back onto the grid with SR.
 *
 * <p>Limits: one training thread per executor ({@code workersPerNode(1)}, the default here: DL4J's in-executor
 * ParallelWrapper replicas cannot be attached); no compact AdamWSR state and no FP32 master weights (DL4J sums
 * updater state arithmetically). Gradient sharing is asynchronous: replicas apply the shared updates at different
 * iterations, so they agree statistically, not bit for bit; shared randomness makes replicas that apply the same
 * updates in the same iterations bit-identical (see the project's tests).
 */
public class Bf16SharedTrainingMaster extends SharedTrainingMaster {
    static final long STATE_STREAM = -4;

    private SparkBf16Options bf16Options;
    private transient Model preparedNetwork;
    private transient Broadcast<Bf16NetBroadcast> modelBroadcast;

    protected Bf16SharedTrainingMaster(Builder b) {
        super(b.voidConfiguration(), b.numWorkers(), b.rddTrainingApproach(), b.storageLevel(), b.collectTrainingStats(),
                b.repartitionStrategy(), b.repartition(), b.thresholdAlgorithm(), b.residualPostProcessor(),
                b.rddDataSetNumExamples(), b.batchSize(), b.debugLongerIterations(), b.numWorkersPerNode(), b.workerPrefetchNumBatches(),
                b.repartitioner(), b.workerTogglePeriodicGC(), b.workerPeriodicGCFrequency(), b.encodingDebugMode());
        this.bf16Options = SparkBf16Options.of(b.bf16Options);
        if (b.transport() != null) {
            this.transport = b.transport();
        }
    }

    public SparkBf16Options getBf16Options() {
        return bf16Options;
    }

    // Every training entry point attaches and checks the driver network first: DL4J then hands the network's (SR)
    // step function to the consumer that applies the shared updates on the driver.

    @Override
    public void executeTraining(SparkDl4jMultiLayer network, JavaRDD<DataSet> trainingData) {
        prepare(network.getNetwork());
        super.executeTraining(network, trainingData);
    }

    @Override
    public void executeTraining(SparkComputationGraph graph, JavaRDD<DataSet> trainingData) {
        prepare(graph.getNetwork());
        super.executeTraining(graph, trainingData);
    }

    @Override
    public void executeTrainingMDS(SparkComputationGraph graph, JavaRDD<MultiDataSet> trainingData) {
        prepare(graph.getNetwork());
        super.executeTrainingMDS(graph, trainingData);
    }

    @Override
    public void executeTrainingPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                     JavaRDD<String> trainingDataPaths, DataSetLoader dsLoader,
                                     MultiDataSetLoader mdsLoader) {
        prepare(network != null ? network.getNetwork() : graph.getNetwork());
        super.executeTrainingPaths(network, graph, trainingDataPaths, dsLoader, mdsLoader);
    }

    private SparkModel prepare(Model model) {
        SparkModel net = SparkModel.of(model);
        if (preparedNetwork != model) {
            if (numWorkersPerNode != 1) {
                throw new IllegalArgumentException("Bf16SharedTrainingMaster needs workersPerNode(1): with more, DL4J"
                        + " trains ParallelWrapper replicas inside each executor, built from the configuration where the"
                        + " plugin cannot attach them. Use more executors (or executor cores as separate executors)"
                        + " instead; got workersPerNode(" + numWorkersPerNode + ")");
            }
            net.attach(bf16Options.toOptions());
            WireLayouts.validate(net);
            for (UpdaterBlock ub : net.updaterBlocks()) {
                Object u = ub.getGradientUpdater().getConfig();
                if (u instanceof AdamWSR && ((AdamWSR) u).isCompactState()) {
                    throw new IllegalArgumentException("Bf16SharedTrainingMaster cannot train AdamWSR with"
                            + " compactState(true): DL4J's gradient sharing sums the workers' updater states as numbers,"
                            + " which would mix the packed m/v halves. Use compactState(false), or"
                            + " Bf16ParameterAveragingTrainingMaster (nothing was trained)");
                }
            }
            preparedNetwork = model;
        }
        return net;
    }

    @Override
    public SharedTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        return worker(network.getNetwork(), network.getSparkContext());
    }

    @Override
    public SharedTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        return worker(graph.getNetwork(), graph.getSparkContext());
    }

    /** As DL4J's master: the model and the configuration are broadcast once; workers keep training their copy. */
    private SharedTrainingWorker worker(Model model, JavaSparkContext sc) {
        SparkModel net = prepare(model);
        voidConfiguration.setUnicastControllerPort(voidConfiguration.getPortSupplier().getPort());
        if (modelBroadcast == null) {
            WireLayout paramLayout = WireLayouts.params(net);
            WireLayout stateLayout = WireLayouts.state(net);
            WireArray params = WireArray.encode(ArrayBits.of(net.params()), paramLayout, "Parameter");
            WireArray state = stateLayout == null ? null
                    : WireArray.encode(ArrayBits.of(net.updaterState()), stateLayout, "Updater state");
            modelBroadcast = sc.broadcast(new Bf16NetBroadcast(net.configJson(), net.isGraph(), net.dataType(),
                    paramLayout, params, stateLayout, state));
        }
        if (broadcastConfiguration == null) {
            broadcastConfiguration = sc.broadcast(SharedTrainingConfiguration.builder()
                    .thresholdAlgorithm(thresholdAlgorithm).residualPostProcessor(residualPostProcessor)
                    .voidConfiguration(voidConfiguration).debugLongerIterations(debugLongerIterations)
                    .numberOfWorkersPerNode(numWorkersPerNode).prefetchSize(workerPrefetchBatches)
                    .encodingDebugMode(encodingDebugMode).build());
        }
        return new Bf16SharedTrainingWorker(instanceId, modelBroadcast, broadcastConfiguration, listeners, statsStorage,
                workerTogglePeriodicGC, workerPeriodicGCFrequency, bf16Options);
    }

    /**
     * DL4J's processing, then the updater state it averaged in FP32 is rounded back onto the BF16 grid (SR keyed on
     * the seed and the driver's iteration count). The driver's weights are on the grid already: every shared update
     * reached them through the SR step function.
     */
    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                  JavaRDD<SharedTrainingResult> results) {
        super.processResults(network, graph, results);
        SparkModel net = SparkModel.of(network != null ? network.getNetwork() : graph.getNetwork());
        WireLayout layout = WireLayouts.state(net);
        if (layout == null) {
            return;
        }
        long drawKey = CounterRng.drawKey(CounterRng.key(bf16Options.getSeed(), net.iterationCount(), STATE_STREAM),
                CounterRng.WEIGHT);
        WireArray rounded = WireArray.average(WireArray.values(ArrayBits.of(net.updaterState()), layout), 1, layout,
                i -> CounterRng.bits(drawKey, i) & 0xFFFF);
        net.setUpdaterState(ArrayBits.updaterState(rounded.decodeBits(layout), net.dataType()));
    }

    /** DL4J's builder for gradient sharing, with one worker per executor by default and {@link #bf16Options}. */
    public static class Builder extends SharedTrainingMaster.Builder {
        private Bf16Options bf16Options = Bf16Options.defaults();

        public Builder(VoidConfiguration voidConfiguration, int rddDataSetNumExamples) {
            super(voidConfiguration, rddDataSetNumExamples);
            this.numWorkersPerNode = 1;
        }

        public Builder(VoidConfiguration voidConfiguration, ThresholdAlgorithm thresholdAlgorithm,
                       int rddDataSetNumExamples) {
            super(voidConfiguration, thresholdAlgorithm, rddDataSetNumExamples);
            this.numWorkersPerNode = 1;
        }

        /** How workers attach their networks; its seed also keys the rounding of the averaged updater state. */
        public Builder bf16Options(Bf16Options options) {
            if (options == null) {
                throw new IllegalArgumentException("bf16Options must not be null (use Bf16Options.defaults())");
            }
            this.bf16Options = options;
            return this;
        }

        @Override
        public Builder batchSizePerWorker(int batchSize) {
            super.batchSizePerWorker(batchSize);
            return this;
        }

        @Override
        public Builder workersPerNode(int numWorkers) {
            super.workersPerNode(numWorkers);
            return this;
        }

        @Override
        public Builder rddTrainingApproach(RDDTrainingApproach rddTrainingApproach) {
            super.rddTrainingApproach(rddTrainingApproach);
            return this;
        }

        @Override
        public Builder storageLevel(StorageLevel storageLevel) {
            super.storageLevel(storageLevel);
            return this;
        }

        @Override
        public Builder thresholdAlgorithm(ThresholdAlgorithm thresholdAlgorithm) {
            super.thresholdAlgorithm(thresholdAlgorithm);
            return this;
        }

        @Override
        public Builder residualPostProcessor(ResidualPostProcessor residualPostProcessor) {
            super.residualPostProcessor(residualPostProcessor);
            return this;
        }

        @Override
        public Builder workerPrefetchNumBatches(int prefetchNumBatches) {
            super.workerPrefetchNumBatches(prefetchNumBatches);
            return this;
        }

        @Override
        public Builder repartitioner(Repartitioner repartitioner) {
            super.repartitioner(repartitioner);
            return this;
        }

        @Override
        public Builder repartitionStrategy(RepartitionStrategy repartitionStrategy) {
            super.repartitionStrategy(repartitionStrategy);
            return this;
        }

        @Override
        public Builder collectTrainingStats(boolean enable) {
            super.collectTrainingStats(enable);
            return this;
        }

        @Override
        public Bf16SharedTrainingMaster build() {
            if (numWorkersPerNode != 1) {
                throw new IllegalArgumentException("Bf16SharedTrainingMaster needs workersPerNode(1) (DL4J's in-executor"
                        + " ParallelWrapper replicas cannot be attached); got " + numWorkersPerNode);
            }
            return new Bf16SharedTrainingMaster(this);
        }

        // The builder's fields, for the master's constructor.
        VoidConfiguration voidConfiguration() {
            return voidConfiguration;
        }

        Integer numWorkers() {
            return numWorkers;
        }

        RDDTrainingApproach rddTrainingApproach() {
            return rddTrainingApproach;
        }

        StorageLevel storageLevel() {
            return storageLevel;
        }

        boolean collectTrainingStats() {
            return collectTrainingStats;
        }

        RepartitionStrategy repartitionStrategy() {
            return repartitionStrategy;
        }

        Repartition repartition() {
            return repartition;
        }

        ThresholdAlgorithm thresholdAlgorithm() {
            return thresholdAlgorithm;
        }

        ResidualPostProcessor residualPostProcessor() {
            return residualPostProcessor;
        }

        int rddDataSetNumExamples() {
            return rddDataSetNumExamples;
        }

        int batchSize() {
            return batchSize;
        }

        long debugLongerIterations() {
            return debugLongerIterations;
        }

        int numWorkersPerNode() {
            return numWorkersPerNode;
        }

        int workerPrefetchNumBatches() {
            return workerPrefetchNumBatches;
        }

        Repartitioner repartitioner() {
            return repartitioner;
        }

        Boolean workerTogglePeriodicGC() {
            return workerTogglePeriodicGC;
        }

        Integer workerPeriodicGCFrequency() {
            return workerPeriodicGCFrequency;
        }

        boolean encodingDebugMode() {
            return encodingDebugMode;
        }

        org.nd4j.parameterserver.distributed.v2.transport.Transport transport() {
            return transport;
        }
    }
}
