package org.dl4jsr.convert;

import org.dl4jsr.Bf16Options;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.Fp32Activation;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionOptions;
import org.dl4jsr.convert.ConversionResult;
import org.dl4jsr.rounding.Rounding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.rounding.Bf16;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Bf16Converter: FP32 <-> BF16-grid FLOAT <-> BFLOAT16, parameters, optimizer state and counters carried over. */
class ConverterTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static MultiLayerNetwork trainedWithDl4jAdam(int steps) {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.01), 21);
        for (int i = 0; i < steps; i++) {
            net.fit(IRIS);
        }
        return net;
    }

    private static INDArray state(MultiLayerNetwork net) {
        INDArray s = net.getUpdater().getStateViewArray();
        return s.reshape(s.length());
    }

    private static double accuracy(MultiLayerNetwork net, DataSet data) {
        Evaluation e = new Evaluation(3);
        e.eval(data.getLabels(), net.output(data.getFeatures()).castTo(DataType.FLOAT));
        return e.accuracy();
    }

    @Test
    void dl4jAdamRunContinuesWithAdamWSROnTheGridAndBackExactly() {
        MultiLayerNetwork fp32 = trainedWithDl4jAdam(30);
        INDArray adamState = state(fp32).dup();
        ConversionResult<MultiLayerNetwork> r = Bf16Converter.toBf16Grid(fp32,
                ConversionOptions.builder().stateRounding(Rounding.NEAREST).build());
        MultiLayerNetwork bf16 = r.getNetwork();
        assertEquals(30, bf16.getIterationCount(), "iteration count kept");
        assertInstanceOf(AdamWSR.class, ((BaseLayer) bf16.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater());
        assertTrue(r.getReport().getChanged().stream().anyMatch(s -> s.contains("Adam") && s.contains("AdamWSR")),
                r.getReport().toString());
        TestNets.assertOnGrid(bf16.params(), "converted weights");
        // Weights and moments are the nearest BF16 values of the FP32 run's.
        float[] w = fp32.params().toFloatVector();
        float[] wb = bf16.params().toFloatVector();
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(Bf16.roundNearestEven(w[i])), Float.floatToRawIntBits(wb[i]));
        }
        float[] s = adamState.toFloatVector();
        float[] sb = state(bf16).toFloatVector();
        for (int i = 0; i < s.length; i++) {
            assertEquals(Float.floatToRawIntBits(Bf16.roundNearestEven(s[i])), Float.floatToRawIntBits(sb[i]), "state " + i);
        }
        assertFalse(fp32.params().equals(wb), "the source network is not modified");

        for (int i = 0; i < 100; i++) {
            bf16.fit(IRIS);
        }
        TestNets.assertOnGrid(bf16.params(), "after training");
        assertTrue(accuracy(bf16, IRIS) >= 0.95);

        ConversionResult<MultiLayerNetwork> back = Bf16Converter.toFp32(bf16);
        MultiLayerNetwork plain = back.getNetwork();
        assertNull(back.getAttachment());
        assertEquals(bf16.params(), plain.params(), "BF16 grid -> FP32 is exact");
        assertEquals(state(bf16), state(plain), "moments carried over exactly");
        assertEquals(130, plain.getIterationCount());
        String json = plain.getLayerWiseConfigurations().toJson();
        assertFalse(json.contains("org.dl4jsr"), "a plain DL4J configuration");
        plain.fit(IRIS); // trains with DL4J alone, no attach needed
    }

    @Test
    void stochasticConversionIsSeededAndUnbiased() {
        MultiLayerNetwork fp32 = trainedWithDl4jAdam(10);
        fp32.getLayerWiseConfigurations().setEpochCount(3);
        ConversionOptions sr = ConversionOptions.builder().initialRounding(Rounding.STOCHASTIC)
                .attach(Bf16Options.builder().seed(77).build()).build();
        MultiLayerNetwork a = Bf16Converter.toBf16Grid(fp32, sr).getNetwork();
        MultiLayerNetwork b = Bf16Converter.toBf16Grid(fp32, sr).getNetwork();
        MultiLayerNetwork c = Bf16Converter.toBf16Grid(fp32, ConversionOptions.builder()
                .initialRounding(Rounding.STOCHASTIC).attach(Bf16Options.builder().seed(78).build()).build())
                .getNetwork();
        assertEquals(a.params(), b.params(), "same seed, same bits");
        assertFalse(a.params().equals(c.params()), "another seed rounds differently");
        assertEquals(3, a.getEpochCount(), "epoch count kept");
        // Each weight is one of its two BF16 neighbours.
        float[] w = fp32.params().toFloatVector();
        float[] r = a.params().toFloatVector();
        for (int i = 0; i < w.length; i++) {
            int lower = Float.floatToRawIntBits(w[i]) & 0xFFFF0000;
            int got = Float.floatToRawIntBits(r[i]);
            assertTrue(got == lower || got == lower + 0x10000, "weight " + i);
        }
    }

    @Test
    void fp32ResultTrainsLikeAdamWSRInFp32ModeIncludingWeightDecay() {
        AdamWSR fp32Mode = AdamWSR.builder().learningRate(0.01).weightDecay(0.05).weightRounding(Rounding.NONE)
                .stateRounding(Rounding.NONE).build();
        MultiLayerNetwork a = TestNets.irisMlp(fp32Mode, 5);
        Bf16Training.attach(a);
        for (int i = 0; i < 5; i++) {
            a.fit(IRIS);
        }
        MultiLayerNetwork b = Bf16Converter.toFp32(a).getNetwork();
        List<?> regs = ((BaseLayer) b.getLayerWiseConfigurations().getConf(0).getLayer()).getRegularization();
        assertEquals(1, regs.size());
        assertInstanceOf(WeightDecay.class, regs.get(0));
        for (int i = 0; i < 10; i++) {
            a.fit(IRIS);
            b.fit(IRIS);
        }
        double diff = a.params().sub(b.params()).amaxNumber().doubleValue() / a.params().amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "relative difference " + diff);
    }

    @Test
    void mixedPrecisionMasterBecomesTheFp32Weights() {
        MultiLayerNetwork mp = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).masterWeights(true)
                .weightRounding(Rounding.NEAREST).stateRounding(Rounding.NONE).build(), 6);
        Bf16Training.attach(mp);
        for (int i = 0; i < 10; i++) {
            mp.fit(IRIS);
        }
        long n = mp.numParams();
        INDArray master = state(mp).get(NDArrayIndex.interval(2 * n, 3 * n)).dup();
        MultiLayerNetwork plain = Bf16Converter.toFp32(mp).getNetwork();
        assertEquals(master, plain.params().reshape(n));
        assertEquals(state(mp).get(NDArrayIndex.interval(0, 2 * n)), state(plain));
    }

    @Test
    void compactStateAndBfloat16NetworkRoundTrip() {
        MultiLayerNetwork fp32 = trainedWithDl4jAdam(20);
        MultiLayerNetwork compact = Bf16Converter.toBf16Grid(fp32, ConversionOptions.builder().compactState(true)
                .build()).getNetwork();
        assertEquals(fp32.numParams(), state(compact).length(), "compact: one 32-bit slot per parameter");
        MultiLayerNetwork bf16 = Bf16Converter.toBfloat16(compact).getNetwork();
        assertEquals(DataType.BFLOAT16, bf16.params().dataType());
        assertEquals(DataType.BFLOAT16, state(bf16).dataType());
        assertEquals(compact.params(), bf16.params().castTo(DataType.FLOAT), "grid weights are exact in BF16");
        MultiLayerNetwork unpacked = Bf16Converter.toFp32(compact).getNetwork();
        MultiLayerNetwork fromBf16 = Bf16Converter.toFp32(bf16).getNetwork();
        assertEquals(state(unpacked), state(fromBf16), "moments survive compact -> BF16 -> FP32 exactly");
        for (float v : state(unpacked).toFloatVector()) {
            assertTrue(Bf16.isOnGrid(v));
        }
        DataSet bf16Iris = Iris.load(DataType.BFLOAT16);
        for (int i = 0; i < 50; i++) {
            bf16.fit(bf16Iris);
        }
        assertTrue(Double.isFinite(bf16.score()));
        assertTrue(accuracy(bf16, bf16Iris) >= 0.9);
        assertEquals(70, bf16.getIterationCount());
    }

    /** tanh cannot back-propagate in BF16 on ND4J's CPU backend: the converter computes it in FP32. */
    @Test
    void activationsWithoutBf16BackpropAreComputedInFp32AndUnwrappedOnTheWayBack() {
        MultiLayerNetwork fp32 = trainedWithDl4jAdam(5);
        ConversionResult<MultiLayerNetwork> r = Bf16Converter.toBfloat16(fp32);
        BaseLayer hidden = (BaseLayer) r.getNetwork().getLayerWiseConfigurations().getConf(0).getLayer();
        assertInstanceOf(Fp32Activation.class, hidden.getActivationFn());
        assertTrue(r.getReport().getChanged().stream().anyMatch(s -> s.contains("computed in FP32")));
        BaseLayer out = (BaseLayer) r.getNetwork().getLayerWiseConfigurations().getConf(2).getLayer();
        assertFalse(out.getActivationFn() instanceof Fp32Activation, "softmax works in BF16 and is left alone");
        String json = r.getNetwork().getLayerWiseConfigurations().toJson();
        assertEquals(r.getNetwork().getLayerWiseConfigurations(), MultiLayerConfiguration.fromJson(json));
        BaseLayer back = (BaseLayer) Bf16Converter.toFp32(r.getNetwork()).getNetwork().getLayerWiseConfigurations()
                .getConf(0).getLayer();
        assertEquals(Activation.TANH.getActivationFunction(), back.getActivationFn());
    }

    @Test
    void frozenLayersAndBatchNormStatisticsAreLeftAloneAndReported() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Nesterovs(0.05, 0.9))
                .dataType(DataType.FLOAT).list()
                .layer(new FrozenLayer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build()))
                .layer(new BatchNormalization.Builder().nIn(8).nOut(8).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.fit(IRIS);
        ConversionResult<MultiLayerNetwork> r = Bf16Converter.toBf16Grid(net);
        String left = String.join("\n", r.getReport().getLeftAlone());
        assertTrue(left.contains("frozen layer"), left);
        assertTrue(left.contains("batch-norm statistics"), left);
        assertEquals(net.getLayer(0).params(), r.getNetwork().getLayer(0).params(), "frozen weights untouched");
        for (int i = 0; i < 5; i++) {
            r.getNetwork().fit(IRIS);
        }
        assertEquals(net.getLayer(0).params(), r.getNetwork().getLayer(0).params());
    }

    @Test
    void embeddingsOver256IndicesAreRefusedForBfloat16Networks() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().updater(new Adam()).dataType(DataType.FLOAT)
                .list()
                .layer(new EmbeddingSequenceLayer.Builder().nIn(1000).nOut(8).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Converter.toBfloat16(net));
        assertTrue(e.getMessage().contains("toBf16Grid"), e.getMessage());
        Bf16Converter.toBf16Grid(net); // fine on a FLOAT network
    }

    @Test
    void computationGraphConvertsBothWays() {
        ComputationGraph cg = TestNets.irisGraph(new Adam(0.01), 8);
        for (int i = 0; i < 10; i++) {
            cg.fit(IRIS);
        }
        ComputationGraph bf16 = Bf16Converter.toBfloat16(cg).getNetwork();
        DataSet bf16Iris = Iris.load(DataType.BFLOAT16);
        for (int i = 0; i < 10; i++) {
            bf16.fit(bf16Iris);
        }
        assertEquals(20, bf16.getIterationCount());
        ComputationGraph back = Bf16Converter.toFp32(bf16).getNetwork();
        assertEquals(bf16.params().castTo(DataType.FLOAT), back.params());
    }
}
