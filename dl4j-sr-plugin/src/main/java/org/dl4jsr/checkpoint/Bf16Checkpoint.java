package org.dl4jsr.checkpoint;

import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.network.Network;
import org.dl4jsr.NonFiniteGradients;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionOptions;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.UsesPlugin;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Checkpoints of networks trained with the plugin: weights stored as BF16 (about half the size of DL4J's FP32 model
 * file), the optimizer state, the iteration and epoch counts (in the configuration), the rounding seeds (in the
 * updater configurations) and the attach options. Loading gives back an attached network with exactly the same bits,
 * so training resumes bit-exactly.
 *
 * <p>The file is a zip: {@code dl4j-sr-checkpoint.json} (format and version), DL4J's {@code configuration.json}, and
 * the parameters and updater state in {@link CheckpointArrays}' encoding. Writes go to a temporary file that replaces
 * the target only when complete, so a crash mid-save leaves the previous checkpoint intact. A truncated, corrupt or
 * unknown-version file fails with {@link Bf16CheckpointException} naming the file, before any network is built.
 * {@code load...} also accepts a plain DL4J model file written by {@link ModelSerializer}, and converts it with
 * {@link Bf16Converter#toBf16Grid}. A plain DL4J user loads what {@link Bf16Converter#toFp32} produces and
 * {@link ModelSerializer} writes.
 *
 * <p>Writing, reading, validating the manifest and loading plain DL4J files are one file format, kept in one class;
 * each error names the file.
 */
public final class Bf16Checkpoint {
    public static final String FORMAT = "dl4j-sr-checkpoint";
    public static final int VERSION = 1;
    static final String MANIFEST = "dl4j-sr-checkpoint.json";
    static final String CONFIGURATION = "configuration.json";
    static final String PARAMS = "params.bin";
    static final String UPDATER_STATE = "updater-state.bin";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Bf16Checkpoint() {
    }

    /**
     * Saves {@code network} (attached or not) atomically to {@code file}, with the options it is attached with (seed,
     * kernels, non-finite policy...), which loading attaches it with again; the defaults when it is not attached.
     */
    public static void save(Model network, Path file) throws IOException {
        save(network, file, UnaryOperator.identity());
    }

    /** As {@link #save(Model, Path)}; {@code attachment} must be the network's own attachment. */
    public static void save(Model network, Bf16Attachment attachment, Path file) throws IOException {
        if (attachment == null || attachment.getModel() != network) {
            throw new IllegalArgumentException("The attachment passed to Bf16Checkpoint.save is not this network's"
                    + " (use the Bf16Attachment that Bf16Training.attach returned for it, or save(network, file))");
        }
        save(network, file);
    }

    /** Test seam: {@code decorate} wraps the file's output stream (for example to fail half-way). */
    static void save(Model network, Path file, UnaryOperator<OutputStream> decorate) throws IOException {
        Bf16Attachment attachment = Bf16Attachment.installedOn(network);
        write(network, attachment != null ? attachment.getOptions() : Bf16Options.defaults(), file, decorate);
    }

    private static void write(Model network, Bf16Options options, Path file, UnaryOperator<OutputStream> decorate)
            throws IOException {
        Network net = Network.of(network);
        net.initialise();
        INDArray state = net.updaterState();
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", FORMAT);
        manifest.put("version", VERSION);
        manifest.put("modelType", net.isGraph() ? "ComputationGraph" : "MultiLayerNetwork");
        manifest.put("dataType", net.dataType().name());
        manifest.put("parameters", net.params().length());
        manifest.put("updaterStateLength", state == null ? 0 : state.length());
        manifest.put("options", optionsToMap(options));

        Path target = file.toAbsolutePath();
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (OutputStream raw = decorate.apply(Files.newOutputStream(tmp));
                 ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
                putEntry(zip, MANIFEST, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
                putEntry(zip, CONFIGURATION, net.configJson().getBytes(StandardCharsets.UTF_8));
                zip.putNextEntry(new ZipEntry(PARAMS));
                DataOutputStream data = new DataOutputStream(zip);
                CheckpointArrays.write(net.params(), data);
                data.flush();
                zip.closeEntry();
                if (state != null) {
                    zip.putNextEntry(new ZipEntry(UPDATER_STATE));
                    CheckpointArrays.write(state, data);
                    data.flush();
                    zip.closeEntry();
                }
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true); // on disk before it replaces the previous checkpoint
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void putEntry(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }

    public static MultiLayerNetwork loadMultiLayerNetwork(Path file) throws IOException {
        return (MultiLayerNetwork) load(file, null, false);
    }

    /** Loads and attaches with {@code options} instead of the ones saved in the file. */
    public static MultiLayerNetwork loadMultiLayerNetwork(Path file, Bf16Options options) throws IOException {
        return (MultiLayerNetwork) load(file, options, false);
    }

    public static ComputationGraph loadComputationGraph(Path file) throws IOException {
        return (ComputationGraph) load(file, null, true);
    }

    public static ComputationGraph loadComputationGraph(Path file, Bf16Options options) throws IOException {
        return (ComputationGraph) load(file, options, true);
    }

    private static Model load(Path file, Bf16Options override, boolean graph) throws IOException {
        if (isPlainDl4jModel(file)) {
            return convertPlainDl4jModel(file, override, graph);
        }
        Map<String, Object> manifest = null;
        String configuration = null;
        INDArray params = null;
        INDArray state = null;
        try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                DataInputStream in = new DataInputStream(zip);
                switch (e.getName()) {
                    case MANIFEST:
                        manifest = readManifest(zip, file, graph);
                        break;
                    case CONFIGURATION:
                        configuration = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
                        break;
                    case PARAMS:
                        params = CheckpointArrays.read(in, number(require(manifest, file), "parameters"));
                        break;
                    case UPDATER_STATE:
                        state = CheckpointArrays.read(in, number(require(manifest, file), "updaterStateLength"));
                        break;
                    default:
                        break;
                }
                zip.closeEntry(); // verifies the entry's CRC
            }
        } catch (Bf16CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new Bf16CheckpointException("Checkpoint " + file + " is truncated or corrupt (" + e + ")", e);
        }
        if (manifest == null || configuration == null || params == null
                || (state == null && number(manifest, "updaterStateLength") > 0)) {
            throw new Bf16CheckpointException("Checkpoint " + file + " is incomplete: expected entries " + MANIFEST + ", "
                    + CONFIGURATION + ", " + PARAMS + " and " + UPDATER_STATE, null);
        }
        Bf16Options options = override != null ? override : optionsFromMap(asMap(manifest.get("options")));
        return restore(file, graph, configuration, params, state, options);
    }

    private static Model restore(Path file, boolean graph, String configuration, INDArray params, INDArray state,
                                 Bf16Options options) throws Bf16CheckpointException {
        try {
            Network net = Network.fromJson(configuration, graph);
            net.init(params.reshape(1, params.length()), true);
            net.initialise();
            if (state != null) {
                net.updaterState().assign(state.reshape(net.updaterState().shape()));
            }
            if (UsesPlugin.of(net.model())) {
                Bf16Training.attachModel(net.model(), options);
            }
            return net.model();
        } catch (RuntimeException e) {
            throw new Bf16CheckpointException("Checkpoint " + file + " does not restore: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> readManifest(InputStream in, Path file, boolean graph) throws IOException {
        Map<String, Object> m = asMap(JSON.readValue(in.readAllBytes(), Map.class));
        if (!FORMAT.equals(m.get("format"))) {
            throw new Bf16CheckpointException(file + " is not a " + FORMAT + " file", null);
        }
        Object version = m.get("version");
        if (!(version instanceof Number) || ((Number) version).intValue() != VERSION) {
            throw new Bf16CheckpointException("Checkpoint " + file + " has format version " + version + "; this plugin"
                    + " reads version " + VERSION + ". Load it with the plugin version that wrote it.", null);
        }
        String expected = graph ? "ComputationGraph" : "MultiLayerNetwork";
        if (!expected.equals(m.get("modelType"))) {
            throw new Bf16CheckpointException("Checkpoint " + file + " holds a " + m.get("modelType") + "; use load"
                    + m.get("modelType") + " to load it", null);
        }
        return m;
    }

    private static Map<String, Object> require(Map<String, Object> manifest, Path file) throws Bf16CheckpointException {
        if (manifest == null) {
            throw new Bf16CheckpointException("Checkpoint " + file + " has no " + MANIFEST + " before its data", null);
        }
        return manifest;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : new HashMap<>();
    }

    private static long number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number ? ((Number) v).longValue() : -1;
    }

    private static Map<String, Object> optionsToMap(Bf16Options o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", o.getSeed());
        m.put("weightRounding", o.getWeightRounding().name());
        m.put("nonFiniteGradients", o.getNonFiniteGradients().name());
        m.put("kernels", o.getKernels().name());
        return m;
    }

    private static Bf16Options optionsFromMap(Map<String, Object> m) {
        Bf16Options.Builder b = Bf16Options.builder();
        if (m.get("seed") instanceof Number) {
            b.seed(((Number) m.get("seed")).longValue());
        }
        if (m.get("weightRounding") != null) {
            b.weightRounding(Rounding.valueOf(m.get("weightRounding").toString()));
        }
        if (m.get("nonFiniteGradients") != null) {
            b.nonFiniteGradients(NonFiniteGradients.valueOf(m.get("nonFiniteGradients").toString()));
        }
        if (m.get("kernels") != null) {
            b.kernels(KernelPath.valueOf(m.get("kernels").toString()));
        }
        return b.build();
    }

    // ---- plain DL4J model files ----

    private static boolean isPlainDl4jModel(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.getEntry(MANIFEST) == null && zip.getEntry("coefficients.bin") != null
                    && zip.getEntry(CONFIGURATION) != null;
        } catch (IOException e) {
            if (Files.isDirectory(file)) {
                throw new Bf16CheckpointException(file + " is a directory, not a checkpoint file: pass the path of the"
                        + " file Bf16Checkpoint.save wrote", e);
            }
            if (!Files.isRegularFile(file)) {
                throw new Bf16CheckpointException("No checkpoint file " + file, e);
            }
            throw new Bf16CheckpointException("Checkpoint " + file + " is truncated or corrupt (" + e + ")", e);
        }
    }

    private static Model convertPlainDl4jModel(Path file, Bf16Options override, boolean graph) throws IOException {
        Model plain;
        try {
            plain = graph ? ModelSerializer.restoreComputationGraph(file.toFile(), true)
                    : ModelSerializer.restoreMultiLayerNetwork(file.toFile(), true);
        } catch (IOException | RuntimeException e) {
            throw new Bf16CheckpointException("DL4J model " + file + " does not load: " + e.getMessage(), e);
        }
        ConversionOptions options = override == null ? ConversionOptions.defaults()
                : ConversionOptions.builder().attach(override).build();
        return Bf16Converter.toBf16Grid(plain, options).getNetwork();
    }
}
