package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Iris;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The Iris training runs the Spark tests compare: single-machine SR training, and the same network trained by the BF16
 * master with two workers (each round: both workers fit {@link #FREQUENCY} minibatches of {@link #BATCH}, then
 * average). Every example is seen once per epoch in both.
 */
final class IrisTraining {
    static final int BATCH = 5;
    static final int FREQUENCY = 3;
    static final int WORKERS = 2;
    static final IUpdater UPDATER = new AdamWSR(0.02);

    private IrisTraining() {
    }

    static double accuracy(MultiLayerNetwork net) {
        DataSet all = Iris.shuffled();
        Evaluation e = new Evaluation(3);
        e.eval(all.getLabels(), net.output(all.getFeatures()));
        return e.accuracy();
    }

    static MultiLayerNetwork singleMachine(int epochs) {
        MultiLayerNetwork net = TestNets.irisMlp(UPDATER, 42);
        Bf16Training.attach(net);
        List<DataSet> batches = Iris.batches(BATCH);
        for (int e = 0; e < epochs; e++) {
            for (DataSet b : batches) {
                net.fit(b);
            }
        }
        return net;
    }

    /** Called on the driver after every averaging round. */
    interface RoundCheck {
        void afterRound(int round, MultiLayerNetwork driver);
    }

    static MultiLayerNetwork spark(JavaSparkContext sc, int epochs, RoundCheck check, TrainingHook... hooks) {
        return spark(sc, epochs, Bf16Options.defaults(), check, hooks);
    }

    static MultiLayerNetwork spark(JavaSparkContext sc, int epochs, Bf16Options options, RoundCheck check,
                                   TrainingHook... hooks) {
        return spark(sc, WORKERS, 2, epochs, options, check, hooks);
    }

    /**
     * {@code workers} partitions per round, summed in a tree of {@code depth}; every epoch uses the first
     * {@code workers * FREQUENCY * rounds} minibatches that fill whole rounds.
     */
    static MultiLayerNetwork spark(JavaSparkContext sc, int workers, int depth, int epochs, Bf16Options options,
                                   RoundCheck check, TrainingHook... hooks) {
        MultiLayerNetwork net = TestNets.irisMlp(UPDATER, 42);
        Bf16ParameterAveragingTrainingMaster master = new Bf16ParameterAveragingTrainingMaster.Builder(workers, BATCH)
                .batchSizePerWorker(BATCH).averagingFrequency(FREQUENCY).aggregationDepth(depth).trainingHooks(hooks)
                .bf16Options(options).rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never)
                .build();
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        List<DataSet> batches = Iris.batches(BATCH);
        int perRound = workers * FREQUENCY;
        int round = 0;
        for (int e = 0; e < epochs; e++) {
            for (int start = 0; start + perRound <= batches.size(); start += perRound) {
                // one fit = one round: partition w holds worker w's FREQUENCY minibatches
                List<DataSet> data = new ArrayList<>(batches.subList(start, start + perRound));
                spark.fit(sc.parallelize(data, workers));
                round++;
                check.afterRound(round, net);
            }
        }
        assertEquals(round, master.getRoundsDone(), "averaging rounds");
        return net;
    }
}
