package org.dl4jsr;

import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.training.Bf16NotAttachedException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** What users do to networks: listeners, clone, save/restore, JSON, frozen and NoOp parameters. */
class LifecycleTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static void fit(MultiLayerNetwork net, int steps) {
        for (int i = 0; i < steps; i++) {
            net.fit(IRIS);
            TestNets.assertOnGrid(net.params(), "step " + i);
        }
    }

    @Test
    void listenersReplacedAfterAttachKeepTheAttachment() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.01), 1);
        Bf16Training.attach(net);
        net.setListeners(new ScoreIterationListener(1000));
        fit(net, 5);
        net.addListeners(new ScoreIterationListener(1000));
        fit(net, 5);
        net.setListeners();
        fit(net, 5);
    }

    @Test
    void cloneRefusesToFitUntilAttachedThenContinuesBitIdentically() {
        for (boolean wrapped : new boolean[] {true, false}) {
            MultiLayerNetwork net = TestNets.irisMlp(wrapped ? new Adam(0.01) : new AdamWSR(0.01), 1);
            Bf16Training.attach(net);
            fit(net, 5);
            MultiLayerNetwork copy = net.clone();
            INDArray before = copy.params().dup();
            Bf16NotAttachedException e = assertThrows(Bf16NotAttachedException.class, () -> copy.fit(IRIS));
            assertTrue(e.getMessage().contains("Bf16Training.attach(net)"), e.getMessage());
            assertEquals(before, copy.params(), "a refused fit changes nothing");
            Bf16Training.attach(copy);
            fit(net, 5);
            fit(copy, 5);
            assertEquals(net.params(), copy.params(), "clone + attach continues exactly like the original");
        }
    }

    @Test
    void modelSerializerRoundTripRestoresAnAttachableNetworkThatContinuesBitIdentically() throws Exception {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).compactState(true).build(), 1);
        Bf16Training.attach(net);
        fit(net, 5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, bytes, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true);
        assertThrows(Bf16NotAttachedException.class, () -> restored.fit(IRIS));
        Bf16Training.attach(restored);
        fit(net, 5);
        fit(restored, 5);
        assertEquals(net.params(), restored.params());
    }

    @Test
    void computationGraphSurvivesCloneAndSerialisation() throws Exception {
        ComputationGraph net = TestNets.irisGraph(new Adam(0.01), 2);
        Bf16Training.attach(net);
        net.fit(IRIS);
        ComputationGraph copy = net.clone();
        // DL4J's ComputationGraph.clone() (unlike MultiLayerNetwork's) resets the iteration count; restore it so the
        // copy continues from the same state (Adam's bias correction and the rounding keys depend on it).
        copy.getConfiguration().setIterationCount(net.getIterationCount());
        assertThrows(Bf16NotAttachedException.class, () -> copy.fit(IRIS));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, bytes, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), true);
        assertThrows(Bf16NotAttachedException.class, () -> restored.fit(IRIS));
        Bf16Training.attach(copy);
        Bf16Training.attach(restored);
        for (int i = 0; i < 3; i++) {
            net.fit(IRIS);
            copy.fit(IRIS);
            restored.fit(IRIS);
        }
        assertEquals(net.params(), copy.params());
        assertEquals(net.params(), restored.params());
    }

    @Test
    void jsonRoundTripOfTheConfigurationCarriesTheRequirement() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.01), 1);
        Bf16Training.attach(net);
        String json = net.getLayerWiseConfigurations().toJson();
        assertTrue(json.contains("\"@class\" : \"" + Bf16Rounded.class.getName() + "\""), json);
        MultiLayerNetwork rebuilt = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(json));
        rebuilt.init();
        assertThrows(Bf16NotAttachedException.class, () -> rebuilt.fit(IRIS));
        Bf16Training.attach(rebuilt);
        fit(rebuilt, 3);
    }

    /** A network that never met attach but is configured with AdamWSR is refused before anything changes. */
    @Test
    void neverAttachedNetworkIsRefusedAtTheFirstFit() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        INDArray before = net.params().dup();
        Bf16NotAttachedException e = assertThrows(Bf16NotAttachedException.class, () -> net.fit(IRIS));
        assertTrue(e.getMessage().contains("Bf16Training.attach(net)"));
        assertEquals(before, net.params());
    }

    @Test
    void updaterRebuiltByDl4jLosesTheAttachmentLoudly() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Training.attach(net);
        fit(net, 2);
        net.clear(); // DL4J drops its solver; the next fit builds a new optimizer and updater
        assertThrows(Bf16NotAttachedException.class, () -> net.fit(IRIS));
        Bf16Training.attach(net);
        fit(net, 2);
    }

    /**
     * Frozen parameters never change; NoOp parameters (here a trainable layer with a NoOp updater) get exactly DL4J's
     * own step (x - gradient, which is what NoOp means in DL4J), are never rounded, and stay off the grid.
     */
    @Test
    void frozenAndNoOpParametersAreLeftToDl4j() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new AdamWSR(0.01))
                .dataType(DataType.FLOAT).list()
                .layer(new FrozenLayer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build()))
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).updater(new NoOp()).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray frozen = net.getLayer(0).params().dup();
        INDArray noOp = net.getLayer(1).params().dup();
        assertTrue(Bf16Grid.countOffGrid(noOp) > 0);
        Bf16Training.attach(net);
        assertEquals(frozen, net.getLayer(0).params(), "attach does not round frozen weights");
        assertEquals(noOp, net.getLayer(1).params(), "attach does not round NoOp weights");
        INDArray[] beforeStep = new INDArray[1];
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void onGradientCalculation(Model model) {
                beforeStep[0] = ((MultiLayerNetwork) model).getLayer(1).params().dup();
            }

            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                MultiLayerNetwork m = (MultiLayerNetwork) model;
                INDArray update = m.getLayer(1).getGradientsViewArray();
                assertEquals(beforeStep[0].sub(update), m.getLayer(1).params(), "DL4J's own x - update");
            }
        });
        for (int i = 0; i < 10; i++) {
            net.fit(IRIS);
        }
        assertEquals(frozen, net.getLayer(0).params(), "frozen weights never change");
        assertTrue(!noOp.equals(net.getLayer(1).params()), "NoOp parameters still get DL4J's update");
        TestNets.assertOnGrid(net.getLayer(2).params(), "trainable AdamWSR layer");
    }
}
