package org.dl4jsr.examples.spark;

import org.dl4jsr.examples.TeacherProblem;
import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * DL4J's {@link ParameterAveragingTrainingMaster} (FP32 Adam, updater state averaged) against the plugin's
 * {@link Bf16ParameterAveragingTrainingMaster} (AdamWSR: BF16 weights and moments) on the same job: the same MLP, the
 * same synthetic data, the same rounds (each round: every worker fits {@code --frequency} minibatches, then averaging).
 * Measured by Spark for both ({@link SparkTraffic}): bytes of the round's broadcast (driver to each executor), the
 * largest output of one task (a worker's result or shuffle output, or a summing task's), the bytes into the driver per
 * round, and the wall time per round (median after warm-up rounds). Growth with workers: {@link SparkScalingBenchmark}.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@spark-bench} (optionally
 * {@code -Dargs="--hidden 1024 --rounds 10 --workers 2 --compress false"}), or on a cluster {@code spark-submit --class
 * org.dl4jsr.examples.spark.SparkAveragingBenchmark --master spark://HOST:7077 <the examples' Spark assembly> --workers
 * N} (N: the executor cores in total). Headline lines start with RESULT.
 * {@code --compress false} (default) reports the serialised sizes; {@code true} lets Spark lz4-compress broadcasts and shuffles.
 */
public final class SparkAveragingBenchmark {
    private static final int FEATURES = 64;
    private static final int CLASSES = 10;

    private SparkAveragingBenchmark() {
    }

    @Command(name = "spark-bench", mixinStandardHelpOptions = true,
            description = "Bytes and seconds per Spark averaging round, DL4J's master against the BF16 master.")
    static final class Options {
        @Option(names = "--hidden", paramLabel = "N", converter = Cli.Positive.class, description = "hidden width")
        int hidden = 1024;
        @Option(names = "--rounds", paramLabel = "N", converter = Cli.Positive.class, description = "timed rounds")
        int rounds = 10;
        @Option(names = "--warmup", paramLabel = "N", converter = Cli.NonNegative.class, description = "warm-up rounds")
        int warmup = 2;
        @Option(names = "--workers", paramLabel = "N", converter = Cli.Positive.class, description = "Spark workers")
        int workers = 2;
        @Option(names = "--batch", paramLabel = "N", converter = Cli.Positive.class, description = "minibatch size")
        int batch = 32;
        @Option(names = "--frequency", paramLabel = "N", converter = Cli.Positive.class,
                description = "minibatches between averaging rounds")
        int frequency = 2;
        @Option(names = "--compress", paramLabel = "true|false", arity = "1", converter = Cli.StrictBoolean.class,
                description = "Spark's lz4 broadcast compression")
        boolean compress = false;
        @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[workers])")
        String masterUrl;
    }

    public static void main(String[] args) {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        int hidden = o.hidden;
        int rounds = o.rounds;
        int warmup = o.warmup;
        int workers = o.workers;
        int batch = o.batch;
        int frequency = o.frequency;
        boolean compress = o.compress;
        String masterUrl = o.masterUrl; // spark-submit's --master, else local[workers]
        SparkConf conf = new SparkConf().setIfMissing("spark.master", "local[" + workers + "]")
                .setAppName("dl4j-sr Spark benchmark")
                .setIfMissing("spark.ui.enabled", "false").setIfMissing("spark.ui.showConsoleProgress", "false")
                .set("spark.broadcast.compress", String.valueOf(compress))
                .set("spark.shuffle.compress", String.valueOf(compress))
                .set("spark.driver.maxResultSize", "0");
        if (masterUrl != null) {
            conf.setMaster(masterUrl);
        }
        masterUrl = conf.get("spark.master");
        JavaSparkContext sc = new JavaSparkContext(conf);
        try {
            SparkTraffic traffic = SparkTraffic.register(sc);
            List<List<DataSet>> data = data(warmup + rounds, workers * frequency, batch);
            Result stock = run(sc, traffic, "dl4j_stock_fp32_adam", new Adam(1e-3), hidden, data, warmup,
                    new ParameterAveragingTrainingMaster.Builder(workers, batch).batchSizePerWorker(batch)
                            .averagingFrequency(frequency).saveUpdater(true)
                            .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never).build());
            Result ours = run(sc, traffic, "bf16_sr_adamwsr", new AdamWSR(1e-3), hidden, data, warmup,
                    new Bf16ParameterAveragingTrainingMaster.Builder(workers, batch).batchSizePerWorker(batch)
                            .averagingFrequency(frequency)
                            .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never).build());
            System.out.printf(Locale.ROOT, "RESULT spark_averaging ratio_down=%.3f ratio_up=%.3f ratio_seconds=%.3f"
                    + " (BF16 master / DL4J master; %s, %d workers, %d params, %d timed rounds, compress=%b)%n",
                    ours.down / (double) stock.down, ours.up / (double) stock.up, ours.seconds / stock.seconds,
                    masterUrl, workers, stock.params, rounds, compress);
        } finally {
            sc.stop();
        }
    }

    private static final class Result {
        long params;
        long down;
        long up;
        long driverIn;
        double seconds;
    }

    private static Result run(JavaSparkContext sc, SparkTraffic traffic, String name, IUpdater updater, int hidden,
                              List<List<DataSet>> data, int warmup, TrainingMaster<?, ?> master) {
        MultiLayerNetwork net = network(updater, hidden);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        int workers = sc.defaultParallelism();
        double[] seconds = new double[data.size() - warmup];
        for (int r = 0; r < data.size(); r++) {
            if (r == warmup) {
                traffic.settle();
                traffic.reset();
            }
            long t0 = System.nanoTime();
            spark.fit(sc.parallelize(data.get(r), workers)); // one fit = one averaging round
            if (r >= warmup) {
                seconds[r - warmup] = (System.nanoTime() - t0) / 1e9;
            }
        }
        traffic.settle();
        Result res = new Result();
        int rounds = seconds.length;
        res.params = net.numParams();
        res.down = traffic.broadcastBytes() / rounds;
        res.up = traffic.maxTaskOutBytes();
        res.driverIn = traffic.resultBytes() / rounds;
        Arrays.sort(seconds);
        res.seconds = seconds[rounds / 2];
        System.out.printf(Locale.ROOT, "RESULT spark_round master=%s params=%d bytes_down=%d (%.3f B/param)"
                + " bytes_up_per_task=%d (%.3f B/param) driver_in_per_round=%d (%.3f B/param)"
                + " seconds_per_round=%.3f (median of %d) score=%.4f%n",
                name, res.params, res.down, res.down / (double) res.params, res.up, res.up / (double) res.params,
                res.driverIn, res.driverIn / (double) res.params, res.seconds, rounds, spark.getScore());
        return res;
    }

    private static MultiLayerNetwork network(IUpdater updater, int hidden) {
        return TeacherProblem.mlp(updater, FEATURES, hidden, CLASSES, Activation.TANH);
    }

    /** Per round, {@code perRound} minibatches of a fixed random teacher problem (same for both masters). */
    private static List<List<DataSet>> data(int rounds, int perRound, int batch) {
        return TeacherProblem.rounds(12345, FEATURES, CLASSES, rounds, perRound, batch);
    }
}
