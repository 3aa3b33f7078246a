package org.dl4jsr.examples.spark;

import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.checkpoint.Bf16Checkpoint;
import org.dl4jsr.examples.IrisData;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * BF16 + stochastic rounding on Spark: an ordinary DL4J network trained on Iris by {@code SparkDl4jMultiLayer} with the
 * plugin's parameter-averaging master, on {@code local[*]} (one worker per core, inside this JVM) or on a cluster
 * ({@code spark-submit} of the examples' Spark assembly; {@link RDDTrainingApproach#Direct} works on both, see docs/spark.md).
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@spark-iris} (optionally
 * {@code -Dargs="--epochs 60 --master local[2]"}), or {@code spark-submit --class org.dl4jsr.examples.spark.SparkIris
 * --master spark://HOST:7077 examples/target/dl4j-sr-examples-*-spark.jar} (built with {@code -Pspark-assembly}).
 */
public final class SparkIris {
    private SparkIris() {
    }

    @Command(name = "spark-iris", mixinStandardHelpOptions = true,
            description = "Iris trained on Spark with the plugin's parameter-averaging master.")
    static final class Options {
        @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*])")
        String masterUrl;
        @Option(names = "--epochs", paramLabel = "N", converter = Cli.Positive.class, description = "epochs (default 40)")
        int epochs = 40;
        @Option(names = "--save", paramLabel = "FILE",
                description = "save the trained network with its optimizer state (Bf16Checkpoint; load it with"
                        + " Bf16Checkpoint.loadMultiLayerNetwork)")
        java.nio.file.Path save;
    }

    public static void main(String[] args) throws IOException {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        String masterUrl = o.masterUrl; // spark-submit's --master, else local[*]
        int epochs = o.epochs;
        // Settings given to spark-submit (--master, --conf) win over the defaults of this example.
        SparkConf conf = new SparkConf().setAppName("dl4j-sr Spark Iris")
                .setIfMissing("spark.master", "local[*]")
                .setIfMissing("spark.ui.enabled", "false").setIfMissing("spark.ui.showConsoleProgress", "false");
        if (masterUrl != null) {
            conf.setMaster(masterUrl);
        }
        masterUrl = conf.get("spark.master");
        JavaSparkContext sc = new JavaSparkContext(conf);
        try {
            MultiLayerConfiguration netConf = new NeuralNetConfiguration.Builder()
                    .seed(42).weightInit(WeightInit.XAVIER)
                    .updater(new AdamWSR(0.02)) // BF16 weights and moments, stochastic rounding
                    .list()
                    .layer(new DenseLayer.Builder().nIn(4).nOut(32).activation(Activation.TANH).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                            .activation(Activation.SOFTMAX).build())
                    .build();
            MultiLayerNetwork net = new MultiLayerNetwork(netConf);
            net.init();

            // The only Spark-side change from DL4J: the training master's class. Workers attach automatically.
            TrainingMaster<?, ?> master = new Bf16ParameterAveragingTrainingMaster.Builder(5)
                    .batchSizePerWorker(5)
                    .averagingFrequency(3)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .rngSeed(7)
                    .build();
            SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);

            DataSet iris = IrisData.load();
            iris.shuffle(123);
            List<DataSet> minibatches = iris.batchBy(5);
            JavaRDD<DataSet> data = sc.parallelize(minibatches);
            long start = System.nanoTime();
            for (int e = 0; e < epochs; e++) {
                sparkNet.fit(data);
            }
            double seconds = (System.nanoTime() - start) / 1e9;

            Evaluation eval = new Evaluation(3);
            eval.eval(iris.getLabels(), net.output(iris.getFeatures()));
            long offGrid = Bf16Grid.countOffGrid(net);
            System.out.printf("Spark %s, %d workers: accuracy %.4f after %d epochs (%.1f s); %d of %d weights off the"
                    + " BF16 grid%n", masterUrl, sc.defaultParallelism(), eval.accuracy(), epochs, seconds, offGrid,
                    net.numParams());
            // The exact result: equal hashes mean bit-identical weights, optimizer state and iteration count, e.g.
            // a run that lost an executor against a fault-free one (same --epochs and worker count).
            String hash = stateHash(net);
            double score = net.score(iris);
            System.out.printf("final score %.6f, parameters+state hash %s (iteration %d)%n", score, hash,
                    net.getIterationCount());
            System.out.println("RESULT spark_iris master=" + masterUrl + " workers=" + sc.defaultParallelism()
                    + " epochs=" + epochs + " accuracy=" + eval.accuracy() + " off_grid=" + offGrid
                    + " score=" + score + " state_sha256=" + hash + " seconds=" + String.format("%.1f", seconds));
            if (o.save != null) {
                Bf16Checkpoint.save(net, o.save);
                System.out.println("saved to " + o.save.toAbsolutePath());
            }
        } finally {
            sc.stop();
        }
    }

    /** SHA-256 of the exact bits of the parameters, the updater state and the iteration count (hex, 16 digits). */
    static String stateHash(MultiLayerNetwork net) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            digest(sha, net.params());
            INDArray state = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
            if (state != null) {
                digest(sha, state);
            }
            sha.update(ByteBuffer.allocate(Long.BYTES).putLong(net.getIterationCount()).array());
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void digest(MessageDigest sha, INDArray array) {
        float[] values = array.castTo(DataType.FLOAT).toFloatVector();
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES);
        for (float v : values) {
            bytes.putInt(Float.floatToRawIntBits(v));
        }
        sha.update(bytes.array());
    }
}
