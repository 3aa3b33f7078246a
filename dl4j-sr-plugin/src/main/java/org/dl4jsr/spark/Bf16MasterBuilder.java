package org.dl4jsr.spark;

import java.time.Duration;
import java.util.Collection;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jsr.Bf16Options;

/**
 * The options of a {@link Bf16ParameterAveragingTrainingMaster}: DL4J's {@link ParameterAveragingTrainingMaster.Builder}
 * (same names and defaults, except {@code saveUpdater}, true here) plus {@link #bf16Options} and
 * {@link #executorRegistrationTimeout}, with the values the BF16 master cannot train with refused where they are set.
 * Users write {@code new Bf16ParameterAveragingTrainingMaster.Builder(...)}, DL4J's convention; that class extends this
 * one with its constructors and {@code build()} only.
 *
 * <p>Every DL4J option is overridden here only to return {@code B}, the user's builder class, so that a chain of
 * options keeps the BF16 options in reach and ends in the BF16 master's {@code build()}.
 *
 * @param <B> the builder class itself ({@link Bf16ParameterAveragingTrainingMaster.Builder})
 */
public abstract class Bf16MasterBuilder<B extends Bf16MasterBuilder<B>> extends ParameterAveragingTrainingMaster.Builder {
    private Bf16Options bf16Options = Bf16Options.defaults();
    private Duration executorRegistrationTimeout = ExecutorRegistration.DEFAULT_TIMEOUT;

    /** Workers: Spark's default parallelism if null. {@code rddDataSetNumExamples}: examples in each DataSet. */
    protected Bf16MasterBuilder(Integer numWorkers, int rddDataSetNumExamples) {
        super(numWorkers, rddDataSetNumExamples);
        this.saveUpdater = true;
    }

    @Override
    public abstract Bf16ParameterAveragingTrainingMaster build();

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    Bf16Options getBf16Options() {
        return bf16Options;
    }

    Duration getExecutorRegistrationTimeout() {
        return executorRegistrationTimeout;
    }

    /** How workers attach their networks; its seed also keys the rounding of averages. */
    public B bf16Options(Bf16Options options) {
        if (options == null) {
            throw new IllegalArgumentException("bf16Options must not be null (use Bf16Options.defaults())");
        }
        this.bf16Options = options;
        return self();
    }

    /**
     * How long training waits for the first executor to register before it fails with a message that says where
     * to look (default 3 minutes; {@link Duration#ZERO}: no check, wait as long as Spark does, i.e. forever).
     * Local mode never waits.
     */
    public B executorRegistrationTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("executorRegistrationTimeout must be >= 0 (Duration.ZERO: no check),"
                    + " got " + timeout);
        }
        this.executorRegistrationTimeout = timeout;
        return self();
    }

    // DL4J's options that the BF16 master checks.

    @Override
    public B averagingFrequency(int averagingFrequency) {
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("averagingFrequency must be >= 1 (the number of minibatches each worker"
                    + " fits between two averaging rounds), got " + averagingFrequency);
        }
        super.averagingFrequency(averagingFrequency);
        return self();
    }

    @Override
    public B batchSizePerWorker(int batchSizePerWorker) {
        if (batchSizePerWorker < 1) {
            throw new IllegalArgumentException("batchSizePerWorker must be >= 1, got " + batchSizePerWorker);
        }
        super.batchSizePerWorker(batchSizePerWorker);
        return self();
    }

    /**
     * Levels of the tree in which the executors sum the workers' results (default 2, as DL4J): with W workers each
     * executor task adds about {@code W^(1/depth)} partial sums, and only the rounded average reaches the driver.
     * The summation order, hence the bits, depends on (workers, depth); see docs/spark-scaling.md.
     */
    @Override
    public B aggregationDepth(int aggregationDepth) {
        super.aggregationDepth(Bf16ParameterAveragingTrainingMaster.checkedDepth(aggregationDepth));
        return self();
    }

    /** Refused when true: the BF16 master does not collect DL4J's training statistics. */
    @Override
    public B collectTrainingStats(boolean collectTrainingStats) {
        super.collectTrainingStats(Bf16ParameterAveragingTrainingMaster.refuseTrainingStats(collectTrainingStats));
        return self();
    }

    // DL4J's other options, as DL4J sets them.

    @Override
    public B trainingHooks(Collection<TrainingHook> trainingHooks) {
        super.trainingHooks(trainingHooks);
        return self();
    }

    @Override
    public B trainingHooks(TrainingHook... hooks) {
        super.trainingHooks(hooks);
        return self();
    }

    @Override
    public B workerPrefetchNumBatches(int prefetchNumBatches) {
        super.workerPrefetchNumBatches(prefetchNumBatches);
        return self();
    }

    @Override
    public B saveUpdater(boolean saveUpdater) {
        super.saveUpdater(saveUpdater);
        return self();
    }

    @Override
    public B repartionData(Repartition repartition) {
        super.repartionData(repartition);
        return self();
    }

    @Override
    public B repartitionStrategy(RepartitionStrategy repartitionStrategy) {
        super.repartitionStrategy(repartitionStrategy);
        return self();
    }

    @Override
    public B storageLevel(StorageLevel storageLevel) {
        super.storageLevel(storageLevel);
        return self();
    }

    @Override
    public B storageLevelStreams(StorageLevel storageLevelStreams) {
        super.storageLevelStreams(storageLevelStreams);
        return self();
    }

    @Override
    public B rddTrainingApproach(RDDTrainingApproach rddTrainingApproach) {
        super.rddTrainingApproach(rddTrainingApproach);
        return self();
    }

    @Override
    public B exportDirectory(String exportDirectory) {
        super.exportDirectory(exportDirectory);
        return self();
    }

    @Override
    public B rngSeed(long rngSeed) {
        super.rngSeed(rngSeed);
        return self();
    }
}
