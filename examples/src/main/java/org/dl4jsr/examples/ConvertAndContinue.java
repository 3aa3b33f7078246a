package org.dl4jsr.examples;

import picocli.CommandLine.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionResult;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * An existing FP32 DL4J model continues training in BF16, then goes back to a plain DL4J model file.
 *
 * <ol>
 * <li>Train an ordinary DL4J network (Adam, FP32) and save it with DL4J's ModelSerializer.</li>
 * <li>Convert it: weights and Adam's moments rounded onto the BF16 grid, Adam replaced by AdamWSR with the same
 * hyper-parameters, iteration count kept; the result is attached and continues training.</li>
 * <li>Save a BF16 checkpoint (about half the size), resume from it, and finally export a plain FP32 DL4J model.</li>
 * </ol>
 * Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@convert}
 */
public final class ConvertAndContinue {
    private ConvertAndContinue() {
    }

    private static double accuracy(MultiLayerNetwork net, DataSet data) {
        Evaluation e = new Evaluation(3);
        e.eval(data.getLabels(), net.output(data.getFeatures()));
        return e.accuracy();
    }

    /** No flags besides {@code --help}. */
    @Command(name = "convert", mixinStandardHelpOptions = true,
            description = "An FP32 DL4J model file converted to BF16 training, checkpointed, and converted back.")
    static final class Options {
    }

    public static void main(String[] args) throws Exception {
        if (!Cli.parseOrExit(new Options(), args)) {
            return;
        }
        DataSet iris = IrisData.load();
        Path dir = Files.createTempDirectory("dl4j-sr-convert");

        MultiLayerNetwork fp32 = QuickstartIris.network(new Adam(0.01));
        for (int i = 0; i < 30; i++) {
            fp32.fit(iris);
        }
        Path dl4jFile = dir.resolve("fp32-model.zip");
        ModelSerializer.writeModel(fp32, dl4jFile.toFile(), true);
        System.out.printf("FP32 DL4J model after 30 steps: accuracy %.4f, file %d bytes%n", accuracy(fp32, iris),
                Files.size(dl4jFile));

        // An existing model file loads straight into BF16 training (converted and attached)...
        MultiLayerNetwork fromFile = Bf16Checkpoint.loadMultiLayerNetwork(dl4jFile);
        // ...or convert a network in memory and read the report of what changed and what was left alone.
        ConversionResult<MultiLayerNetwork> converted = Bf16Converter.toBf16Grid(fp32);
        System.out.print(converted.getReport());
        MultiLayerNetwork bf16 = converted.getNetwork();
        for (int i = 0; i < 100; i++) {
            bf16.fit(iris);
            fromFile.fit(iris);
        }
        System.out.printf("Continued 100 steps in BF16 + SR: accuracy %.4f (iteration %d)%n", accuracy(bf16, iris),
                bf16.getIterationCount());

        Path checkpoint = dir.resolve("bf16.ckpt");
        Bf16Checkpoint.save(bf16, checkpoint);
        MultiLayerNetwork resumed = Bf16Checkpoint.loadMultiLayerNetwork(checkpoint);
        long checkpointBytes = Files.size(checkpoint);
        long dl4jBytes = Files.size(dl4jFile);
        System.out.printf("BF16 checkpoint %d bytes; resumed with identical weights: %s%n", checkpointBytes,
                resumed.params().equals(bf16.params()));

        MultiLayerNetwork plain = Bf16Converter.toFp32(resumed).getNetwork();
        Path exported = dir.resolve("exported-fp32.zip");
        ModelSerializer.writeModel(plain, exported.toFile(), true);
        System.out.printf("Exported plain DL4J model (no plugin needed to load): %s, accuracy %.4f%n", exported,
                accuracy(ModelSerializer.restoreMultiLayerNetwork(exported.toFile()), iris));
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
        System.out.println("RESULT convert_and_continue fp32_accuracy=" + accuracy(fp32, iris) + " bf16_accuracy="
                + accuracy(bf16, iris) + " dl4j_file_bytes=" + dl4jBytes + " bf16_checkpoint_bytes="
                + checkpointBytes);
    }
}
