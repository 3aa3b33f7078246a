package org.dl4jsr;

import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionResult;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.training.Bf16Activations;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Layers whose backprop ND4J cannot run in BF16: ActivationLayer (an activation as a layer of its own) is made
 * trainable by the converter, a layer that hard-codes such an activation (Yolo2OutputLayer's sigmoid) is refused at
 * conversion, and a BFLOAT16 network built by hand is refused at attach with every such layer named.
 */
class Bf16LayerSupportTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);
    private static final DataSet IRIS_BF16 = Iris.load(DataType.BFLOAT16);

    /** These tests are about the M2.1 CPU backend's missing kernels; a backend that has them needs no refusal. */
    @BeforeAll
    static void backendLacksBf16Backprop() {
        assumeFalse(Bf16Activations.backpropagatesInBf16(Activation.RELU.getActivationFunction()), "relu_bp runs in BF16");
        assumeFalse(Bf16Activations.backpropagatesInBf16(Activation.SIGMOID.getActivationFunction()),
                "sigmoid_bp runs in BF16");
    }

    private static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().seed(5).updater(new Adam(0.01)).dataType(DataType.FLOAT);
    }

    /** Dense (identity) -> ActivationLayer(ReLU) -> Dense(LeakyReLU) -> softmax output. */
    private static MultiLayerConfiguration activationLayerConf() {
        return base().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.IDENTITY).name("dense").build())
                .layer(new ActivationLayer.Builder().activation(Activation.RELU).name("relu").build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.LEAKYRELU).name("dense2").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).name("out").build())
                .build();
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void activationLayerIsComputedInFp32InABfloat16NetworkAndTrains() {
        MultiLayerNetwork fp32 = init(activationLayerConf());
        fp32.fit(IRIS);
        ConversionResult<MultiLayerNetwork> r = Bf16Converter.toBfloat16(fp32);
        MultiLayerNetwork bf16 = r.getNetwork();
        ActivationLayer relu = (ActivationLayer) bf16.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(new Fp32Activation(Activation.RELU.getActivationFunction()), relu.getActivationFn());
        assertTrue(r.getReport().getChanged().stream().anyMatch(s -> s.startsWith("relu") && s.contains("FP32")),
                String.join("\n", r.getReport().getChanged()));
        for (int i = 0; i < 5; i++) {
            bf16.fit(IRIS_BF16); // failed with "Op [relu_bp] execution failed" before the ActivationLayer was wrapped
        }
        assertTrue(Double.isFinite(bf16.score()), "score " + bf16.score());
        assertEquals(6, bf16.getIterationCount());

        MultiLayerNetwork back = Bf16Converter.toFp32(bf16).getNetwork();
        ActivationLayer unwrapped = (ActivationLayer) back.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(Activation.RELU.getActivationFunction(), unwrapped.getActivationFn());
        assertEquals(bf16.params().castTo(DataType.FLOAT), back.params(), "exact way back");
        assertEquals(Activation.LEAKYRELU.getActivationFunction(),
                ((DenseLayer) back.getLayerWiseConfigurations().getConf(2).getLayer()).getActivationFn());
    }

    private static MultiLayerConfiguration yoloConf() {
        INDArray priors = Nd4j.createFromArray(new double[][] {{1, 1}, {2, 2}});
        return base().list()
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(2 * (5 + 2)).activation(Activation.IDENTITY).build())
                .layer(new Yolo2OutputLayer.Builder().boundingBoxPriors(priors).name("yolo").build())
                .setInputType(InputType.convolutional(4, 4, 3)).build();
    }

    @Test
    void yolo2OutputLayerIsRefusedForBfloat16NetworksNamingTheLayer() {
        MultiLayerNetwork fp32 = init(yoloConf());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Converter.toBfloat16(fp32));
        for (String part : new String[] {"'yolo'", "Yolo2OutputLayer", "sigmoid", "toBf16Grid"}) {
            assertTrue(e.getMessage().contains(part), part + " in: " + e.getMessage());
        }
        // The FLOAT network on the BF16 grid trains (its compute is FP32).
        MultiLayerNetwork grid = Bf16Converter.toBf16Grid(fp32).getNetwork();
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 2, 4 + 2, 4, 4);
        for (int i = 0; i < 2; i++) {
            labels.putScalar(new int[] {i, 0, 1, 1}, 1.2); // box (1.2, 1.4) - (2.5, 2.6) in grid units, class i
            labels.putScalar(new int[] {i, 1, 1, 1}, 1.4);
            labels.putScalar(new int[] {i, 2, 1, 1}, 2.5);
            labels.putScalar(new int[] {i, 3, 1, 1}, 2.6);
            labels.putScalar(new int[] {i, 4 + i, 1, 1}, 1);
        }
        Nd4j.getRandom().setSeed(3);
        DataSet data = new DataSet(Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4), labels);
        for (int i = 0; i < 3; i++) {
            grid.fit(data);
        }
        assertTrue(Double.isFinite(grid.score()));
        assertEquals(0, Bf16Grid.countOffGrid(grid.params()));
    }

    @Test
    void attachRefusesABfloat16NetworkNamingEveryLayerWithoutBf16Backprop() {
        MultiLayerConfiguration conf = base().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).name("tanh-dense").build())
                .layer(new ActivationLayer.Builder().activation(Activation.RELU).name("relu-layer").build())
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).activation(Activation.GELU).name("gelu-dense").build())
                .layer(new FrozenLayerWithBackprop(new DenseLayer.Builder().nIn(8).nOut(8)
                        .activation(Activation.ELU).build()))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).name("out").build())
                .build();
        conf.setDataType(DataType.BFLOAT16);
        MultiLayerNetwork net = init(conf);
        String before = net.getLayerWiseConfigurations().toJson();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Training.attach(net));
        for (String part : new String[] {"'tanh-dense' (DenseLayer): tanh", "'relu-layer' (ActivationLayer): relu",
            "'layer3' (DenseLayer): elu", "Bf16Converter.toBfloat16", "Fp32Activation"}) {
            assertTrue(e.getMessage().contains(part), part + " in: " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("gelu-dense"), "GELU back-propagates in BF16: " + e.getMessage());
        assertFalse(e.getMessage().contains("'out'"), "softmax back-propagates in BF16: " + e.getMessage());
        assertEquals(before, net.getLayerWiseConfigurations().toJson(), "the refused network is left as it was");
        assertTrue(Bf16Attachment.installedOn(net) == null, "not attached");
    }

    /** LSTM gates (sigmoid) inside a wrapper are found too; the same network as FLOAT attaches fine. */
    @Test
    void attachFindsGateActivationsInsideWrappersAndAcceptsTheFloatNetwork() {
        MultiLayerConfiguration conf = base().list()
                .layer(new LastTimeStep(new LSTM.Builder().nIn(3).nOut(4).activation(Activation.SOFTSIGN)
                        .name("lstm").build()))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerConfiguration bf16Conf = conf.clone();
        bf16Conf.setDataType(DataType.BFLOAT16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bf16Training.attach(init(bf16Conf)));
        assertTrue(e.getMessage().contains("'lstm' (LSTM): sigmoid"), e.getMessage());
        Bf16Training.attach(init(conf));
    }

    /** A Yolo2OutputLayer in a hand-built BFLOAT16 network: no conversion helps, so the message says FLOAT. */
    @Test
    void attachRefusesAHandBuiltBfloat16YoloNetworkPointingToTheFloatMode() {
        MultiLayerConfiguration conf = yoloConf();
        conf.setDataType(DataType.BFLOAT16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Training.attach(init(conf)));
        for (String part : new String[] {"'yolo' (Yolo2OutputLayer): sigmoid in the layer's own code",
            "Bf16Converter.toBf16Grid"}) {
            assertTrue(e.getMessage().contains(part), part + " in: " + e.getMessage());
        }
    }
}
