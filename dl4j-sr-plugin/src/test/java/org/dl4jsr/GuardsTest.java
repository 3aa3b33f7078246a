package org.dl4jsr;

import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.NonFiniteGradientException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Bad input gets a clear error that says what to do; nothing is changed or lost. */
class GuardsTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static <T extends Throwable> T assertMessage(Class<T> type, Runnable r, String... fragments) {
        T e = assertThrows(type, r::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should mention '" + f + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void doubleAndHalfNetworksAreRefusedAtAttach() {
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.HALF}) {
            MultiLayerConfiguration conf = TestNets.irisMlpConf(new Adam(0.01), 1, Activation.TANH);
            conf.setDataType(type);
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init();
            assertMessage(IllegalArgumentException.class, () -> Bf16Training.attach(net), type.toString(), "FLOAT",
                    "convertDataType");
        }
    }

    @Test
    void constraintsAndNonSgdOptimisersAreRefusedAtAttach() {
        MultiLayerConfiguration withConstraint = new NeuralNetConfiguration.Builder().updater(new Adam())
                .dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(4).constrainWeights(new MaxNormConstraint(1.0, 1)).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork a = new MultiLayerNetwork(withConstraint);
        a.init();
        assertMessage(IllegalArgumentException.class, () -> Bf16Training.attach(a), "constraints", "grid");

        MultiLayerConfiguration lbfgs = new NeuralNetConfiguration.Builder().updater(new Adam())
                .optimizationAlgo(OptimizationAlgorithm.LBFGS).dataType(DataType.FLOAT).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork b = new MultiLayerNetwork(lbfgs);
        b.init();
        assertMessage(IllegalArgumentException.class, () -> Bf16Training.attach(b), "STOCHASTIC_GRADIENT_DESCENT");
    }

    @Test
    void invalidOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Bf16Options.builder().threads(0).build());
        assertThrows(IllegalArgumentException.class, () -> Bf16Options.builder().initialRounding(Rounding.NONE).build());
        assertThrows(IllegalArgumentException.class, () -> Bf16Options.builder().weightRounding(Rounding.NONE).build());
    }

    /** Compact state needs 32-bit slots: a BFLOAT16 network is refused when it builds its updater. */
    @Test
    void compactStateOnABfloat16NetworkIsRefused() {
        MultiLayerConfiguration conf = TestNets.irisMlpConf(AdamWSR.builder().compactState(true).build(), 1,
                Activation.GELU);
        conf.setDataType(DataType.BFLOAT16);
        ((org.deeplearning4j.nn.conf.layers.BaseLayer) conf.getConf(2).getLayer()).setIUpdater(new Adam(0.01));
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        String before = conf.toJson();
        assertMessage(IllegalArgumentException.class, () -> Bf16Training.attach(net), "Compact state", "FLOAT");
        assertEquals(before, net.getLayerWiseConfigurations().toJson(), "a failed attach leaves the configuration as it was");
    }

    /**
     * DL4J's convertDataType would cast the packed moments as if they were floats; the rebuilt BFLOAT16 network is
     * refused with the same clear error instead of silently training on garbage moments.
     */
    @Test
    void convertDataTypeOfCompactStateIsRefused() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().compactState(true).build(), 1);
        Bf16Training.attach(net);
        net.fit(IRIS);
        assertMessage(IllegalArgumentException.class, () -> net.convertDataType(DataType.BFLOAT16), "Compact state");
    }

    private static DataSet withNaN() {
        DataSet bad = IRIS.copy();
        bad.getFeatures().putScalar(3, 1, Float.NaN);
        return bad;
    }

    @Test
    void nonFiniteGradientSkipsTheStepByDefault() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).build(), 1);
        Bf16Attachment a = Bf16Training.attach(net);
        net.fit(IRIS);
        INDArray params = net.params().dup();
        INDArray state = net.getUpdater().getStateViewArray().dup();
        int iteration = net.getIterationCount();
        net.fit(withNaN());
        assertEquals(1, a.getSkippedSteps());
        assertEquals(params, net.params(), "weights unchanged");
        assertEquals(state, net.getUpdater().getStateViewArray(), "updater state unchanged");
        assertEquals(iteration + 1, net.getIterationCount(), "the iteration still counts");
        net.fit(IRIS);
        assertNotEquals(params, net.params(), "training goes on");
        TestNets.assertOnGrid(net.params(), "after a skipped step");
    }

    @Test
    void nonFiniteGradientCanThrowInstead() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.01), 1);
        Bf16Training.attach(net, Bf16Options.builder().nonFiniteGradients(NonFiniteGradients.THROW).build());
        net.fit(IRIS);
        INDArray params = net.params().dup();
        INDArray state = net.getUpdater().getStateViewArray().dup();
        assertMessage(NonFiniteGradientException.class, () -> net.fit(withNaN()), "NaN or infinity", "unchanged");
        assertEquals(params, net.params());
        assertEquals(state, net.getUpdater().getStateViewArray(), "the wrapped Adam's state is untouched too");
        net.fit(IRIS);
        assertNotEquals(params, net.params());
    }

    @Test
    void hostKernelsCanBeForcedOnCpuAndAreReported() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(), 1);
        Bf16Attachment a = Bf16Training.attach(net, Bf16Options.builder().kernels(KernelPath.HOST)
                .threads(3).build());
        assertEquals("host(3 threads)", a.getKernelsName());
        assertEquals("portable(nd4j ops)", Bf16Training.attach(net, Bf16Options.builder()
                .kernels(KernelPath.PORTABLE).build()).getKernelsName());
    }
}
