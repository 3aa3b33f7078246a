package org.dl4jsr.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.earlystopping.EarlyStoppingConfiguration;
import org.deeplearning4j.earlystopping.EarlyStoppingResult;
import org.deeplearning4j.earlystopping.saver.LocalFileModelSaver;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.termination.MaxEpochsTerminationCondition;
import org.deeplearning4j.earlystopping.trainer.EarlyStoppingTrainer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16ModelSaver;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Everyday DL4J workflows with the plugin, each on a small Iris network. Where the plugin's FP32 mode (AdamWSR with
 * weightRounding and stateRounding NONE) should agree with plain DL4J's Adam, it must, within FP32 noise; in SR mode
 * every weight the plugin rounds is on the BF16 grid, every frozen weight is unchanged and the loss goes down.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class Dl4jWorkflowTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);
    private static final double LR = 0.01;
    private static final int STEPS = 6;
    /** Largest parameter difference relative to the largest parameter (as AdamWSREquivalenceTest). */
    private static final double FP32_NOISE = 2e-5;

    private static IUpdater fp32Mode(double lr) {
        return AdamWSR.builder().learningRate(lr).weightRounding(Rounding.NONE).stateRounding(Rounding.NONE).build();
    }

    /** A configuration given the updater each layer should use (DL4J's Adam, the FP32 mode or AdamWSR). */
    interface Conf {
        MultiLayerConfiguration build(Function<Double, IUpdater> updater);
    }

    private static MultiLayerNetwork net(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static void fit(Model net, int step) {
        Nd4j.getRandom().setSeed(1000 + step); // dropout masks: the same for every network compared
        TestNets.fit(net, IRIS, 1);
    }

    /** FP32 mode vs DL4J's Adam, step by step. */
    private static void assertAgreesWithDl4j(Conf conf, String what) {
        MultiLayerNetwork reference = net(conf.build(Adam::new));
        MultiLayerNetwork ours = net(conf.build(Dl4jWorkflowTest::fp32Mode));
        Bf16Training.attach(ours);
        assertEquals(reference.params(), ours.params(), what + ": same initial parameters");
        double worst = 0;
        for (int step = 0; step < STEPS; step++) {
            fit(reference, step);
            fit(ours, step);
            double diff = ours.params().sub(reference.params()).amaxNumber().doubleValue();
            worst = Math.max(worst, diff / reference.params().amaxNumber().doubleValue());
        }
        assertTrue(worst < FP32_NOISE, what + ": FP32 mode differs from DL4J's Adam by " + worst);
    }

    /** SR mode: every rounded weight on the grid after every step, the loss goes down. Returns the trained network. */
    private static MultiLayerNetwork assertSrTrains(MultiLayerNetwork net, String what) {
        Bf16Training.attach(net);
        double first = net.score(IRIS);
        for (int step = 0; step < STEPS; step++) {
            fit(net, step);
            assertEquals(0, Bf16Grid.countOffGrid(net), what + ": weights off the grid after step " + step);
        }
        assertTrue(net.score(IRIS) < first, what + ": loss did not go down");
        return net;
    }

    private static Conf mlp(Function<org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder,
            org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder> base) {
        return u -> base.apply(TestNets.base(u.apply(LR), 3)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    @Test
    void everyGradientNormalizationMode() {
        for (GradientNormalization mode : GradientNormalization.values()) {
            Conf conf = mlp(b -> b.gradientNormalization(mode).gradientNormalizationThreshold(0.05));
            assertAgreesWithDl4j(conf, mode.name());
            assertSrTrains(net(conf.build(AdamWSR::new)), mode.name());
        }
    }

    /** L1, L2 and WeightDecay set on the layers (DL4J applies the first two before the updater, WeightDecay after). */
    @Test
    void layerLevelRegularisation() {
        Conf conf = u -> TestNets.base(u.apply(LR), 3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH)
                        .regularization(List.of(new L1Regularization(1e-3))).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH)
                        .regularization(List.of(new L2Regularization(1e-2))).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .regularization(List.of(new WeightDecay(1e-2, true))).activation(Activation.SOFTMAX).build())
                .build();
        assertAgreesWithDl4j(conf, "L1/L2/WeightDecay");
        assertSrTrains(net(conf.build(AdamWSR::new)), "L1/L2/WeightDecay");
    }

    /** Each layer its own updater: AdamWSR with different rates (FP32 agreement), and DL4J updaters mixed (SR). */
    @Test
    void perLayerUpdaters() {
        Function<Function<Double, IUpdater>, MultiLayerConfiguration> conf = u -> TestNets.base(u.apply(LR), 3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).updater(u.apply(0.03)).activation(Activation.TANH)
                        .build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).updater(u.apply(0.003)).activation(Activation.TANH)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        assertAgreesWithDl4j(conf::apply, "per-layer learning rates");
        MultiLayerConfiguration mixed = TestNets.base(new AdamWSR(LR), 3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).updater(new Sgd(0.05)).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).updater(new Nesterovs(0.01, 0.9))
                        .activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        assertSrTrains(net(mixed), "Sgd / Nesterovs / AdamWSR");
    }

    @Test
    void dropout() {
        Conf conf = mlp(b -> b.dropOut(0.8));
        assertAgreesWithDl4j(conf, "dropout");
        assertSrTrains(net(conf.build(AdamWSR::new)), "dropout");
    }

    /** Workspace modes: FP32 agreement, and SR training bit-identical whichever mode. */
    @Test
    void workspaceModes() {
        List<String> hashes = new ArrayList<>();
        for (WorkspaceMode mode : new WorkspaceMode[] {WorkspaceMode.ENABLED, WorkspaceMode.NONE}) {
            Conf conf = mlp(b -> b.trainingWorkspaceMode(mode).inferenceWorkspaceMode(mode));
            assertAgreesWithDl4j(conf, mode.name());
            hashes.add(Bits.hash(assertSrTrains(net(conf.build(AdamWSR::new)), mode.name())));
        }
        assertEquals(hashes.get(0), hashes.get(1), "SR training differs between workspace modes");
    }

    /** A ComputationGraph with two outputs (classes and a regression of the features), trained from a MultiDataSet. */
    @Test
    void graphWithTwoOutputs() {
        Function<IUpdater, ComputationGraph> make = u -> {
            ComputationGraphConfiguration conf = TestNets.base(u, 4).graphBuilder().addInputs("in")
                    .addLayer("h", new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build(), "in")
                    .addLayer("classes", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                            .activation(Activation.SOFTMAX).build(), "h")
                    .addLayer("features", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(16).nOut(4)
                            .activation(Activation.IDENTITY).build(), "h")
                    .setOutputs("classes", "features").build();
            ComputationGraph g = new ComputationGraph(conf);
            g.init();
            return g;
        };
        MultiDataSet data = new MultiDataSet(new INDArray[] {IRIS.getFeatures()},
                new INDArray[] {IRIS.getLabels(), IRIS.getFeatures()});
        ComputationGraph reference = make.apply(new Adam(LR));
        ComputationGraph ours = make.apply(fp32Mode(LR));
        Bf16Training.attach(ours);
        ComputationGraph sr = make.apply(new AdamWSR(LR));
        Bf16Training.attach(sr);
        double first = sr.score(data);
        for (int step = 0; step < STEPS; step++) {
            reference.fit(data);
            ours.fit(data);
            sr.fit(data);
            assertEquals(0, Bf16Grid.countOffGrid(sr));
        }
        double diff = ours.params().sub(reference.params()).amaxNumber().doubleValue();
        assertTrue(diff / reference.params().amaxNumber().doubleValue() < FP32_NOISE, "two outputs: " + diff);
        assertTrue(sr.score(data) < first);
    }

    /**
     * TransferLearning: a feature extractor (layer 0 becomes a FrozenLayer) and a fine-tune with a new output layer,
     * both from an FP32 network trained with DL4J's Adam, both given AdamWSR by the fine-tune configuration.
     */
    @Test
    void transferLearning() {
        MultiLayerNetwork pretrained = net(mlp(b -> b).build(Adam::new));
        TestNets.fit(pretrained, IRIS, 5);
        FineTuneConfiguration fineTune = new FineTuneConfiguration.Builder().updater(new AdamWSR(LR)).seed(5).build();

        MultiLayerNetwork extractor = new TransferLearning.Builder(pretrained).fineTuneConfiguration(fineTune)
                .setFeatureExtractor(0).build();
        String frozen = Bits.hash(extractor.getLayer(0).params());
        assertSrTrains(extractor, "feature extractor");
        assertEquals(frozen, Bits.hash(extractor.getLayer(0).params()), "the feature extractor's frozen layer changed");

        MultiLayerNetwork tuned = new TransferLearning.Builder(pretrained).fineTuneConfiguration(fineTune)
                .removeOutputLayer()
                .addLayer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        assertSrTrains(tuned, "fine-tune");

        ComputationGraph graph = TestNets.irisGraph(new Adam(LR), 6);
        ComputationGraph graphExtractor = new TransferLearning.GraphBuilder(graph).fineTuneConfiguration(fineTune)
                .setFeatureExtractor("a").build();
        String a = Bits.hash(graphExtractor.getLayer("a").params());
        Bf16Training.attach(graphExtractor);
        TestNets.fit(graphExtractor, IRIS, STEPS);
        assertEquals(a, Bits.hash(graphExtractor.getLayer("a").params()), "graph feature extractor changed");
        assertEquals(0, Bf16Grid.countOffGrid(graphExtractor));
    }

    /**
     * EarlyStoppingTrainer with {@link Bf16ModelSaver}, in memory and on disk: the best model comes back attached
     * (it trains on, on the grid) and scores what the trainer recorded for it.
     */
    @Test
    void earlyStoppingHandsBackAnAttachedBestModel(@TempDir Path dir) throws Exception {
        for (boolean onDisk : new boolean[] {false, true}) {
            MultiLayerNetwork net = net(mlp(b -> b).build(AdamWSR::new));
            Bf16Training.attach(net);
            List<DataSet> batches = Iris.batches(30);
            EarlyStoppingConfiguration<MultiLayerNetwork> conf = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
                    .epochTerminationConditions(new MaxEpochsTerminationCondition(3))
                    .scoreCalculator(new DataSetLossCalculator(new ListDataSetIterator<>(Iris.batches(50), 1), true))
                    .modelSaver(onDisk ? new Bf16ModelSaver<>(new LocalFileModelSaver(dir.toFile()))
                            : new Bf16ModelSaver<>())
                    .evaluateEveryNEpochs(1).build();
            EarlyStoppingResult<MultiLayerNetwork> result = new EarlyStoppingTrainer(conf, net,
                    new ListDataSetIterator<>(batches, 1)).fit();
            MultiLayerNetwork best = result.getBestModel();
            assertNotNull(Bf16Attachment.installedOn(best), "best model attached");
            // DL4J 1.0.0-M2.1 reports getBestModelScore() 0.0 when training ends on the epoch limit: use the epochs'
            double bestScore = result.getScoreVsEpoch().values().stream().mapToDouble(Double::doubleValue).min()
                    .orElseThrow();
            assertEquals(bestScore, best.score(IRIS), 1e-5, "best model scores what was recorded for it");
            INDArray before = best.params().dup();
            best.fit(IRIS);
            assertNotEquals(before, best.params());
            assertEquals(0, Bf16Grid.countOffGrid(best));
        }
    }

    /** ModelSerializer round trip with the updater: restored and attached, it trains on bit for bit like the original. */
    @Test
    void modelSerializerRoundTrip(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = net(mlp(b -> b).build(Adam::new));
        Bf16Training.attach(net);
        TestNets.fit(net, IRIS, 3);
        File file = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        Bf16Training.attach(restored);
        TestNets.fit(net, IRIS, 3);
        TestNets.fit(restored, IRIS, 3);
        assertEquals(Bits.hash(net), Bits.hash(restored), "restored network continues differently");
    }

    /** An LSTM under ParallelWrapper, AVERAGING and SHARED_GRADIENTS, two workers: on the grid, loss goes down. */
    @Test
    void lstmUnderParallelWrapperInBothModes() {
        Nd4j.getRandom().setSeed(11);
        List<DataSet> sequences = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 6, 3, 5);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 2, 5);
            // class 1 where the first input is above one half
            y.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.all()).gt(0.5)
                    .castTo(DataType.FLOAT));
            y.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(y.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .rsub(1));
            sequences.add(new DataSet(x, y));
        }
        DataSet all = DataSet.merge(sequences);
        for (ParallelWrapper.TrainingMode mode : new ParallelWrapper.TrainingMode[] {
            ParallelWrapper.TrainingMode.AVERAGING, ParallelWrapper.TrainingMode.SHARED_GRADIENTS}) {
            MultiLayerNetwork net = net(TestNets.base(new AdamWSR(0.02), 8).list()
                    .layer(new LSTM.Builder().nIn(3).nOut(8).activation(Activation.TANH).build())
                    .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(2)
                            .activation(Activation.SOFTMAX).build())
                    .build());
            Bf16Training.attach(net);
            double first = net.score(all);
            ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(2)
                    .trainingMode(mode).build();
            Bf16ParallelWrapper.attach(pw);
            for (int epoch = 0; epoch < 4; epoch++) {
                pw.fit(new ListDataSetIterator<>(sequences, 1));
            }
            pw.shutdown();
            assertEquals(0, Bf16Grid.countOffGrid(net), mode + ": weights off the grid");
            assertTrue(net.score(all) < first, mode + ": loss did not go down");
            assertNotNull(Bf16Attachment.installedOn(net), mode + ": the network is still attached");
        }
    }
}
