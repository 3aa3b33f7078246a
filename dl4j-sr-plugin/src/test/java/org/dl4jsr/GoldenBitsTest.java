package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionOptions;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.JavaGradients;
import org.dl4jsr.testing.JavaMade;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Golden bits: the exact bits of parameters and updater state after five steps of every training path the plugin has,
 * on inputs that do not come from BLAS. Weights, gradients and optimizer state are made in plain Java from a seed
 * ({@link JavaMade}; {@link JavaGradients} replaces each step's gradients before the updater sees them), while the
 * step itself runs as in real training: DL4J's fit, solver, updater blocks and step function with the plugin attached.
 *
 * <p>The hashes are the same on every x86-64 CPU and every JDK from 17 to 25 (docs/portability.md says why and how it
 * was checked: no hashed bit depends on the GEMM kernel OpenBLAS picks for the CPU). Beside the plugin's own Java
 * arithmetic, a few element-wise ND4J ops are in these paths: DL4J's division of the gradient by the minibatch size,
 * the {@code nesterovs_updater} and {@code adam_updater} ops of the wrapped DL4J updaters, and casts; element-wise ops
 * of the one nd4j-native binary give the same bits on every CPU (no BLAS, no reduction order).
 *
 * <p>A refactor that changes any rounding bit, any update or any state layout fails here. A deliberate change of
 * behaviour updates the expected hash in the same commit and says why. The same paths trained end to end on Iris
 * (real forward and backward pass) are compared run against run on this machine in {@link EndToEndRepeatabilityTest}.
 */
class GoldenBitsTest {
    private static final long PARAMS_SEED = 3;
    private static final long GRADIENT_SEED = 11;
    private static final List<DataSet> BATCHES = JavaMade.batches(5, 5, 30, DataType.FLOAT);
    private static final List<DataSet> BF16_BATCHES = JavaMade.batches(5, 5, 30, DataType.BFLOAT16);

    @TempDir
    static Path dir;

    private static void assertBits(String expected, Model trained, String name) {
        assertEquals(expected, Bits.hash(trained), name + ": exact bits of params and updater state changed");
    }

    @Test
    void adamWsrStochasticRounding() {
        assertBits("87d4bb4c1623de68", mln(new AdamWSR(0.02), false), "adamwsr-sr");
    }

    @Test
    void adamWsrNearest() {
        assertBits("db322d93d1bbac9e", mln(AdamWSR.builder().learningRate(0.02).weightRounding(Rounding.NEAREST)
                .stateRounding(Rounding.NEAREST).build(), false), "adamwsr-nearest");
    }

    @Test
    void adamWsrStochasticStateAndWeightDecay() {
        assertBits("017f0f667f234e1d", mln(AdamWSR.builder().learningRate(0.02).weightDecay(0.05)
                .stateRounding(Rounding.STOCHASTIC).build(), false), "adamwsr-state-sr-wd");
    }

    @Test
    void adamWsrFp32() {
        assertBits("1ef68445302c116b", mln(AdamWSR.builder().learningRate(0.02).weightRounding(Rounding.NONE)
                .stateRounding(Rounding.NONE).build(), false), "adamwsr-fp32");
    }

    @Test
    void adamWsrCompactState() {
        assertBits("59356ae0e9155eea", mln(AdamWSR.builder().learningRate(0.02).weightDecay(0.01).compactState(true).build(),
                false), "adamwsr-compact");
    }

    @Test
    void adamWsrMasterWeights() {
        assertBits("23cbd91c0d81a7d9", mln(AdamWSR.builder().learningRate(0.02).masterWeights(true).build(), false),
                "adamwsr-master");
    }

    /** DL4J's WeightDecay regularisation runs after the updater, so AdamWSR takes its unfused path. */
    @Test
    void adamWsrUnfusedPostUpdaterDecay() {
        MultiLayerConfiguration conf = TestNets.base(new AdamWSR(0.02), 3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH)
                        .regularization(List.of(new WeightDecay(0.01, true))).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        assertBits("0bd4e259ccde2bae", fit(attached(net, Bf16Options.defaults())), "adamwsr-post-updater-wd");
    }

    @Test
    void wrappedNesterovs() {
        assertBits("c098116a97362f9a", mln(new Nesterovs(0.05, 0.9), false), "wrapped-nesterovs");
    }

    @Test
    void wrappedAdamWithOwnSeed() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.02), 3);
        assertBits("084dc1be0025a32f", fit(attached(net, Bf16Options.builder().seed(9).build())), "wrapped-adam-seed9");
    }

    @Test
    void computationGraph() {
        ComputationGraph net = TestNets.irisGraph(new AdamWSR(0.02), 3);
        assertBits("b22d04a7033d69c8", fit(attached(net, Bf16Options.defaults())), "graph-adamwsr");
    }

    @Test
    void bfloat16Network() {
        assertBits("e8da1e3e8aaa8988", mln(new AdamWSR(0.02), true), "bfloat16-network");
    }

    @Test
    void convertedToGridThenTrained() {
        MultiLayerNetwork converted = Bf16Converter.toBf16Grid(dl4jAdamSource()).getNetwork();
        assertBits("e69c1fa46ae028f7", fit(withJavaGradients(converted, Bf16Options.defaults())), "converted-to-grid");
    }

    @Test
    void convertedToBfloat16() {
        assertBits("8093bfd8d863b57c", Bf16Converter.toBfloat16(dl4jAdamSource(), ConversionOptions.builder()
                .initialRounding(Rounding.STOCHASTIC).attach(Bf16Options.builder().seed(5).build()).build())
                .getNetwork(), "converted-to-bfloat16");
    }

    /** The same bits as adamwsr-sr: compact state holds the same BF16 moments, and toFp32 widens them exactly. */
    @Test
    void convertedBackToFp32() {
        MultiLayerNetwork trained = mln(AdamWSR.builder().learningRate(0.02).compactState(true).build(), false);
        assertBits("87d4bb4c1623de68", Bf16Converter.toFp32(trained).getNetwork(), "converted-back-to-fp32");
    }

    @Test
    void checkpointPayload() throws IOException {
        Model net = mln(AdamWSR.builder().learningRate(0.02).compactState(true).build(), false);
        Path file = dir.resolve("golden.zip");
        Bf16Checkpoint.save(net, file);
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().endsWith(".bin")) {
                    md.update(e.getName().getBytes(StandardCharsets.UTF_8));
                    md.update(zip.readAllBytes());
                }
            }
        }
        assertEquals("b5faa5881daf3c38", HexFormat.of().formatHex(md.digest(), 0, 8),
                "checkpoint-payload: exact bytes of the checkpoint's arrays changed");
    }

    /**
     * The premise of this test: no bit of the backward pass reaches the hash. Other labels give DL4J's backward pass
     * other gradients, but {@link JavaGradients} (keyed by the features) replaces them, so the bits are the same.
     */
    @Test
    void javaGradientsReplaceEveryBitOfTheBackwardPass() {
        MultiLayerNetwork net = mln(new AdamWSR(0.02), false);
        MultiLayerNetwork otherLabels = attached(TestNets.irisMlp(new AdamWSR(0.02), 3), Bf16Options.defaults());
        for (DataSet b : BATCHES) {
            otherLabels.fit(new DataSet(b.getFeatures(), b.getLabels().mul(0.5).add(0.25)));
        }
        assertEquals(Bits.hash(net), Bits.hash(otherLabels));
    }

    /** The Iris MLP (4-16-16-3; GELU when BFLOAT16) with {@code updater}, attached and trained five steps. */
    private static MultiLayerNetwork mln(IUpdater updater, boolean bfloat16) {
        MultiLayerNetwork net;
        if (bfloat16) {
            net = TestNets.bf16IrisMlp(updater, 3);
        } else {
            net = TestNets.irisMlp(updater, 3);
        }
        return fit(attached(net, Bf16Options.defaults()));
    }

    /** {@code net} with Java-made weights and gradients, attached. */
    private static <T extends Model> T attached(T net, Bf16Options options) {
        JavaMade.params(net, PARAMS_SEED);
        return withJavaGradients(net, options);
    }

    /** Listeners first: setting them makes DL4J build a new optimizer, which attach then takes over. */
    private static <T extends Model> T withJavaGradients(T net, Bf16Options options) {
        net.setListeners(new JavaGradients(GRADIENT_SEED));
        Bf16Training.attachModel(net, options);
        return net;
    }

    /**
     * A network as DL4J's own Adam leaves it after five steps, made in Java: Java-made weights, Adam moments (m signed,
     * v positive) and iteration count.
     */
    private static MultiLayerNetwork dl4jAdamSource() {
        MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.02), 3);
        JavaMade.params(net, PARAMS_SEED);
        Network n = Network.of(net);
        int b = 0;
        for (UpdaterBlock block : n.updaterBlocks()) {
            INDArray state = block.getUpdaterView();
            int half = (int) (state.length() / 2);
            float[] m = JavaMade.values(JavaMade.key(PARAMS_SEED, 4, b), half, 0.01, false);
            float[] v = JavaMade.values(JavaMade.key(PARAMS_SEED, 5, b), half, 0.01, false);
            float[] mv = new float[2 * half];
            for (int i = 0; i < half; i++) {
                mv[i] = m[i];
                mv[half + i] = v[i] * v[i];
            }
            JavaMade.assign(state, mv);
            b++;
        }
        n.setCounts(5, 0);
        return net;
    }

    private static <T extends Model> T fit(T net) {
        boolean bf16 = net.params().dataType() == DataType.BFLOAT16;
        for (DataSet batch : bf16 ? BF16_BATCHES : BATCHES) {
            if (net instanceof MultiLayerNetwork) {
                ((MultiLayerNetwork) net).fit(batch);
            } else {
                ((ComputationGraph) net).fit(batch);
            }
        }
        return net;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
