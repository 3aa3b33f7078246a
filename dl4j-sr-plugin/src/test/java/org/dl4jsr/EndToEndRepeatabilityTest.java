package org.dl4jsr;

import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionOptions;
import org.dl4jsr.rounding.Rounding;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * End-to-end repeatability: every training path the plugin has (the cases of {@link GoldenBitsTest}), trained on Iris
 * through DL4J's real forward and backward pass, gives bit-identical parameters and updater state when run twice in
 * this JVM. These bits depend on the CPU (the FP32 gradients come from the GEMM kernel OpenBLAS picks for it), so they
 * are compared run against run on this machine, never against a hash recorded elsewhere; the CPU-independent golden
 * hashes of the same paths, on Java-made gradients, are in {@link GoldenBitsTest}.
 */
class EndToEndRepeatabilityTest {
    private static final List<DataSet> BATCHES = irisBatches();

    @TempDir
    static Path dir;

    private static List<DataSet> irisBatches() {
        DataSet iris = Iris.load(DataType.FLOAT);
        iris.shuffle(7);
        return iris.batchBy(30);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("adamwsr-sr", (Supplier<Model>) () -> mln(new AdamWSR(0.02), false)),
                Arguments.of("adamwsr-nearest", (Supplier<Model>) () -> mln(AdamWSR.builder().learningRate(0.02)
                        .weightRounding(Rounding.NEAREST).stateRounding(Rounding.NEAREST).build(), false)),
                Arguments.of("adamwsr-state-sr-wd", (Supplier<Model>) () -> mln(AdamWSR.builder().learningRate(0.02)
                        .weightDecay(0.05).stateRounding(Rounding.STOCHASTIC).build(), false)),
                Arguments.of("adamwsr-fp32", (Supplier<Model>) () -> mln(AdamWSR.builder().learningRate(0.02)
                        .weightRounding(Rounding.NONE).stateRounding(Rounding.NONE).build(), false)),
                Arguments.of("adamwsr-compact", (Supplier<Model>) () -> mln(AdamWSR.builder().learningRate(0.02)
                        .weightDecay(0.01).compactState(true).build(), false)),
                Arguments.of("adamwsr-master", (Supplier<Model>) () -> mln(AdamWSR.builder().learningRate(0.02)
                        .masterWeights(true).build(), false)),
                Arguments.of("adamwsr-post-updater-wd", (Supplier<Model>) EndToEndRepeatabilityTest::postUpdaterDecay),
                Arguments.of("wrapped-nesterovs", (Supplier<Model>) () -> mln(new Nesterovs(0.05, 0.9), false)),
                Arguments.of("wrapped-adam-seed9", (Supplier<Model>) () -> {
                    MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.02), 3);
                    Bf16Training.attach(net, Bf16Options.builder().seed(9).build());
                    return fit(net);
                }),
                Arguments.of("graph-adamwsr", (Supplier<Model>) () -> {
                    ComputationGraph net = TestNets.irisGraph(new AdamWSR(0.02), 3);
                    Bf16Training.attach(net);
                    return fit(net);
                }),
                Arguments.of("bfloat16-network", (Supplier<Model>) () -> mln(new AdamWSR(0.02), true)),
                Arguments.of("converted-to-grid", (Supplier<Model>) () -> fit(
                        Bf16Converter.toBf16Grid(dl4jAdamTrained()).getNetwork())),
                Arguments.of("converted-to-bfloat16", (Supplier<Model>) () -> Bf16Converter.toBfloat16(
                        dl4jAdamTrained(), ConversionOptions.builder().initialRounding(Rounding.STOCHASTIC)
                                .attach(Bf16Options.builder().seed(5).build())
                                .build()).getNetwork()),
                Arguments.of("converted-back-to-fp32", (Supplier<Model>) () -> Bf16Converter.toFp32(
                        mln(AdamWSR.builder().learningRate(0.02).compactState(true).build(), false)).getNetwork()),
                Arguments.of("checkpoint-payload", (Supplier<Model>) () -> null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void twoRunsGiveTheSameBits(String name, Supplier<Model> run) throws IOException {
        String first = bitsOf(run);
        String second = bitsOf(run);
        assertEquals(first, second, name + ": two runs of the same training on this machine gave different bits");
    }

    private static String bitsOf(Supplier<Model> run) throws IOException {
        Model trained = run.get();
        return trained == null ? checkpointPayloadHash() : hash(trained);
    }

    private static MultiLayerNetwork mln(org.nd4j.linalg.learning.config.IUpdater updater, boolean bfloat16) {
        MultiLayerNetwork net;
        if (bfloat16) {
            MultiLayerConfiguration conf = TestNets.irisMlpConf(updater, 3, Activation.GELU);
            conf.setDataType(DataType.BFLOAT16);
            net = new MultiLayerNetwork(conf);
            net.init();
        } else {
            net = TestNets.irisMlp(updater, 3);
        }
        Bf16Training.attach(net);
        return fit(net);
    }

    /** DL4J's WeightDecay regularisation runs after the updater, so AdamWSR takes its unfused path. */
    private static Model postUpdaterDecay() {
        MultiLayerConfiguration conf = TestNets.base(new AdamWSR(0.02), 3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH)
                        .regularization(List.of(new WeightDecay(0.01, true))).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net);
        return fit(net);
    }

    private static MultiLayerNetwork dl4jAdamTrained() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.02), 3);
        return fit(net);
    }

    private static <T extends Model> T fit(T net) {
        for (DataSet b : BATCHES) {
            DataSet batch = net.params().dataType() == DataType.BFLOAT16
                    ? new DataSet(b.getFeatures().castTo(DataType.BFLOAT16), b.getLabels().castTo(DataType.BFLOAT16))
                    : b;
            if (net instanceof MultiLayerNetwork) {
                ((MultiLayerNetwork) net).fit(batch);
            } else {
                ((ComputationGraph) net).fit(batch);
            }
        }
        return net;
    }

    private static String checkpointPayloadHash() throws IOException {
        Model net = mln(AdamWSR.builder().learningRate(0.02).compactState(true).build(), false);
        Path file = dir.resolve("golden.zip");
        Bf16Checkpoint.save(net, file);
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().endsWith(".bin")) {
                    md.update(e.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    md.update(zip.readAllBytes());
                }
            }
        }
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    /** SHA-256 (first 8 bytes) of the data type and raw bits of params and updater state, and the counters. */
    static String hash(Model model) {
        MessageDigest md = sha256();
        INDArray params = model.params();
        INDArray state = model instanceof MultiLayerNetwork
                ? ((MultiLayerNetwork) model).getUpdater().getStateViewArray()
                : ((ComputationGraph) model).getUpdater().getStateViewArray();
        int iterations = model instanceof MultiLayerNetwork ? ((MultiLayerNetwork) model).getIterationCount()
                : ((ComputationGraph) model).getIterationCount();
        for (INDArray a : new INDArray[] {params, state}) {
            if (a == null) {
                md.update((byte) 0);
                continue;
            }
            md.update(a.dataType().name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update(a.dup().data().asBytes());
        }
        md.update(Integer.toString(iterations).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
