package org.dl4jsr.checkpoint;

import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.checkpoint.Bf16CheckpointException;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.rounding.Rounding;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Checkpoints: bit-exact resume, atomic writes, clear errors for bad files, plain DL4J files, file sizes. */
class CheckpointTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    @TempDir
    Path dir;

    private static void fit(Model net, int steps) {
        for (int i = 0; i < steps; i++) {
            if (net instanceof MultiLayerNetwork) {
                ((MultiLayerNetwork) net).fit(IRIS);
            } else {
                ((ComputationGraph) net).fit(IRIS);
            }
        }
    }

    private static Model load(Path file, boolean graph) throws IOException {
        return graph ? Bf16Checkpoint.loadComputationGraph(file) : Bf16Checkpoint.loadMultiLayerNetwork(file);
    }

    static Stream<Arguments> networks() {
        Supplier<IUpdater> compact = () -> AdamWSR.builder().learningRate(0.01).compactState(true).weightDecay(1e-3).build();
        Supplier<IUpdater> master = () -> AdamWSR.builder().learningRate(0.01).masterWeights(true)
                .weightRounding(Rounding.NEAREST).build();
        Supplier<IUpdater> kahan = () -> AdamWSR.builder().learningRate(0.01).weightRounding(Rounding.KAHAN)
                .compactState(true).weightDecay(1e-3).build();
        return Stream.of(
                Arguments.of("MLN AdamWSR", (Supplier<Model>) () -> TestNets.irisMlp(new AdamWSR(0.01), 1), false),
                Arguments.of("MLN compact", (Supplier<Model>) () -> TestNets.irisMlp(compact.get(), 1), false),
                Arguments.of("MLN FP32 master", (Supplier<Model>) () -> TestNets.irisMlp(master.get(), 1), false),
                Arguments.of("MLN Kahan compact", (Supplier<Model>) () -> TestNets.irisMlp(kahan.get(), 1), false),
                Arguments.of("CG Kahan", (Supplier<Model>) () -> TestNets.irisGraph(kahan.get(), 2), true),
                Arguments.of("MLN wrapped DL4J Adam", (Supplier<Model>) () -> TestNets.irisMlp(new Adam(0.01), 1), false),
                Arguments.of("CG AdamWSR", (Supplier<Model>) () -> TestNets.irisGraph(new AdamWSR(0.01), 2), true));
    }

    /** N steps, save, load, M steps == N + M uninterrupted steps, bit for bit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void resumeIsBitExact(String name, Supplier<Model> factory, boolean graph) throws IOException {
        Model uninterrupted = factory.get();
        attach(uninterrupted);
        fit(uninterrupted, 20);

        Model first = factory.get();
        attach(first);
        fit(first, 10);
        Path file = dir.resolve("run.ckpt");
        Bf16Checkpoint.save(first, file);
        Model resumed = load(file, graph);
        assertEquals(first.params(), resumed.params(), name + ": same bits after load");
        fit(resumed, 10);
        assertEquals(uninterrupted.params(), resumed.params(), name + ": resume is bit-exact");
        TestNets.assertOnGrid(resumed.params(), name);
    }

    private static void attach(Model net) {
        if (net instanceof MultiLayerNetwork) {
            Bf16Training.attach((MultiLayerNetwork) net);
        } else {
            Bf16Training.attach((ComputationGraph) net);
        }
    }

    private static MultiLayerNetwork wideNetwork(IUpdater updater) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).updater(updater)
                .dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(256).nOut(1024).activation(Activation.GELU).build())
                .layer(new DenseLayer.Builder().nIn(1024).nOut(512).activation(Activation.GELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(512).nOut(16)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static void fitRandom(MultiLayerNetwork net) {
        Nd4j.getRandom().setSeed(5);
        for (int i = 0; i < 3; i++) {
            net.fit(Nd4j.rand(DataType.FLOAT, 32, 256), Nd4j.rand(DataType.FLOAT, 32, 16));
        }
    }

    /** Sum of the uncompressed entry sizes: what the arrays cost before deflate. */
    private static long payload(Path zip) throws IOException {
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zip.toFile())) {
            return java.util.Collections.list(z.entries()).stream().mapToLong(java.util.zip.ZipEntry::getSize).sum();
        }
    }

    /**
     * Against DL4J's ModelSerializer file (with updater) of the same architecture trained with DL4J's Adam in FP32,
     * and of this very BF16-grid network written as FP32 (whose zero low halves deflate well).
     */
    @Test
    void checkpointIsAboutHalfOfDl4jsModelFile() throws IOException {
        MultiLayerNetwork net = wideNetwork(new AdamWSR(1e-3));
        Bf16Training.attach(net);
        fitRandom(net);
        MultiLayerNetwork fp32 = wideNetwork(new Adam(1e-3));
        fitRandom(fp32);
        Path ours = dir.resolve("bf16.ckpt");
        Path dl4jFp32 = dir.resolve("dl4j-fp32.zip");
        Path dl4jGrid = dir.resolve("dl4j-same-weights.zip");
        Bf16Checkpoint.save(net, ours);
        ModelSerializer.writeModel(fp32, dl4jFp32.toFile(), true);
        ModelSerializer.writeModel(Bf16Converter.toFp32(net).getNetwork(), dl4jGrid.toFile(), true);
        long oursBytes = Files.size(ours);
        System.out.println("RESULT checkpoint_size params=" + net.numParams() + " bf16_checkpoint_bytes=" + oursBytes
                + " dl4j_fp32_model_bytes=" + Files.size(dl4jFp32) + " dl4j_same_weights_bytes=" + Files.size(dl4jGrid)
                + " payload_ratio=" + (double) payload(ours) / payload(dl4jFp32)
                + " file_ratio_vs_fp32=" + (double) oursBytes / Files.size(dl4jFp32)
                + " file_ratio_vs_same_weights=" + (double) oursBytes / Files.size(dl4jGrid));
        assertTrue(payload(ours) <= 0.51 * payload(dl4jFp32), "2 of 4 bytes per weight and per moment");
        assertTrue(oursBytes <= 0.5 * Files.size(dl4jFp32), oursBytes + " vs " + Files.size(dl4jFp32));
        assertTrue(oursBytes < Files.size(dl4jGrid), "smaller even than DL4J's file of the same BF16-grid weights");
        assertEquals(net.params(), Bf16Checkpoint.loadMultiLayerNetwork(ours).params());
    }

    @Test
    void aSaveThatFailsHalfWayLeavesThePreviousCheckpointIntact() throws IOException {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Training.attach(net);
        fit(net, 3);
        Path file = dir.resolve("run.ckpt");
        Bf16Checkpoint.save(net, file);
        byte[] before = Files.readAllBytes(file);
        INDArray savedParams = net.params().dup();
        fit(net, 3);
        IOException e = assertThrows(IOException.class, () -> Bf16Checkpoint.save(net, file, FailAfter::new));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file), "previous checkpoint untouched");
        assertEquals(savedParams, Bf16Checkpoint.loadMultiLayerNetwork(file).params());
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.collect(Collectors.toList());
            assertEquals(List.of(file), all, "no temporary file left behind");
        }
    }

    /** Throws after 2000 bytes: a crash or a full disk in the middle of a save. */
    private static final class FailAfter extends FilterOutputStream {
        private int written;

        FailAfter(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            if (++written > 2000) {
                throw new IOException("disk full (injected)");
            }
            super.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }
    }

    @Test
    void truncatedCorruptAndUnknownVersionFilesFailClearlyNamingTheFile() throws IOException {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Training.attach(net);
        fit(net, 2);
        Path good = dir.resolve("good.ckpt");
        Bf16Checkpoint.save(net, good);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = dir.resolve("truncated.ckpt");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertFailsNaming(truncated, "truncated or corrupt");

        Path corrupt = dir.resolve("corrupt.ckpt");
        byte[] flipped = bytes.clone();
        for (int i = bytes.length / 2; i < bytes.length / 2 + 64; i++) {
            flipped[i] ^= 0x5A;
        }
        Files.write(corrupt, flipped);
        assertFailsNaming(corrupt, "corrupt");

        Path notZip = dir.resolve("notzip.ckpt");
        Files.writeString(notZip, "hello");
        assertFailsNaming(notZip, "corrupt");

        Path missing = dir.resolve("missing.ckpt");
        assertFailsNaming(missing, "No checkpoint file");

        Path future = dir.resolve("future.ckpt");
        rewriteManifest(good, future, "\"version\" : 1", "\"version\" : 99");
        assertFailsNaming(future, "version 99");
    }

    private static void assertFailsNaming(Path file, String what) {
        Bf16CheckpointException e = assertThrows(Bf16CheckpointException.class,
                () -> Bf16Checkpoint.loadMultiLayerNetwork(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(what), e.getMessage());
    }

    private static void rewriteManifest(Path from, Path to, String find, String replace) throws IOException {
        try (java.util.zip.ZipFile in = new java.util.zip.ZipFile(from.toFile());
             java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (java.util.zip.ZipEntry e : java.util.Collections.list(in.entries())) {
                byte[] data = in.getInputStream(e).readAllBytes();
                if (e.getName().equals(Bf16Checkpoint.MANIFEST)) {
                    String s = new String(data, java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(s.contains(find), s);
                    data = s.replace(find, replace).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                out.write(data);
                out.closeEntry();
            }
        }
    }

    @Test
    void aPlainDl4jModelFileLoadsAndConverts() throws IOException {
        MultiLayerNetwork plain = TestNets.irisMlp(new Adam(0.01), 9);
        fit(plain, 10);
        Path file = dir.resolve("plain-dl4j.zip");
        ModelSerializer.writeModel(plain, file.toFile(), true);
        MultiLayerNetwork loaded = Bf16Checkpoint.loadMultiLayerNetwork(file);
        TestNets.assertOnGrid(loaded.params(), "converted on load");
        assertEquals(10, loaded.getIterationCount());
        fit(loaded, 5); // attached and ready
        TestNets.assertOnGrid(loaded.params(), "after training");
    }
}
