package org.dl4jsr.examples.spark;

import org.dl4jsr.examples.TeacherProblem;
import com.sun.management.ThreadMXBean;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * How the cost of an averaging round grows with workers and parameters: DL4J's {@link ParameterAveragingTrainingMaster}
 * (FP32 Adam, updater state averaged, DL4J's treeAggregate) against the plugin's
 * {@link Bf16ParameterAveragingTrainingMaster} (AdamWSR; executors sum in a tree, the driver receives the rounded
 * average), same {@code aggregationDepth}, for 1, 2, 4, 8 workers (one partition each) and several model sizes, on
 * {@code local-cluster} (one JVM per executor, so the driver JVM does driver work only). Per round (medians over the
 * timed rounds):
 * <ul>
 * <li>{@code driver_in}: bytes of all task results the driver received (Spark's resultSize);</li>
 * <li>{@code driver_alloc}: heap bytes allocated by all driver threads while the master's {@code processResults} ran
 * (the round's training job, receiving, summing/averaging, setting the parameters; ThreadMXBean allocated bytes, a
 * count of allocations, not of live memory);</li>
 * <li>{@code driver_large_peak}: peak of the G1 old generation above its level after a GC at the start of the round:
 * large arrays (over half a G1 region) are allocated there directly, so this is the most large on-heap arrays
 * present at once, live or not yet collected;</li>
 * <li>{@code exec_in_max} / {@code exec_out_max}: the largest bytes into / out of one executor (broadcast pieces and
 * shuffle reads in; task results and shuffle writes out); {@code shuffle}: all shuffle bytes written;</li>
 * <li>{@code seconds}: wall time of the round (the machine's cores are shared by all executors: indicative only).</li>
 * </ul>
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests exec:exec@spark-scaling} (optionally
 * {@code -Dargs="--hidden 1024,2048 --workers 1,2,4,8 --rounds 3 --depth 2"}). Broadcasts and shuffles are not
 * compressed (serialised sizes; {@code --compress true} for Spark's lz4). Headline lines start with RESULT.
 */
public final class SparkScalingBenchmark {
    private static final int FEATURES = 64;
    private static final int CLASSES = 10;
    private static final int BATCH = 32;
    private static final int FREQUENCY = 2;

    private SparkScalingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int[] hidden = {1024, 2048};
        int[] workers = {1, 2, 4, 8};
        int rounds = 3;
        int warmup = 1;
        int depth = 2;
        boolean compress = false;
        String executorMemory = "640m";
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--hidden": hidden = ints(v); i++; break;
                case "--workers": workers = ints(v); i++; break;
                case "--rounds": rounds = Integer.parseInt(v); i++; break;
                case "--warmup": warmup = Integer.parseInt(v); i++; break;
                case "--depth": depth = Integer.parseInt(v); i++; break;
                case "--compress": compress = Boolean.parseBoolean(v); i++; break;
                case "--executor-memory": executorMemory = v; i++; break;
                default:
                    throw new IllegalArgumentException("Unknown argument " + args[i] + "; use --hidden a,b --workers"
                            + " 1,2,4,8 --rounds --warmup --depth --compress --executor-memory");
            }
        }
        int executors = Arrays.stream(workers).max().orElse(1);
        String home = System.getenv("SPARK_HOME");
        if (home == null || !new File(home, "jars").isDirectory() && !new File(home, "jars").mkdirs()) {
            throw new IllegalStateException("Set SPARK_HOME to a writable directory (its empty jars/ is created); the"
                    + " exec:exec@spark-scaling execution does this");
        }
        SparkConf conf = new SparkConf().setMaster("local-cluster[" + executors + ",1," + memoryMb(executorMemory)
                        + "]").setAppName("dl4j-sr Spark scaling")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executor.memory", executorMemory)
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", "-Dorg.nd4j.versioncheck=false")
                .set("spark.broadcast.compress", String.valueOf(compress))
                .set("spark.shuffle.compress", String.valueOf(compress))
                .set("spark.locality.wait", "0s")
                .set("spark.driver.maxResultSize", "0");
        JavaSparkContext sc = new JavaSparkContext(conf);
        try {
            awaitExecutors(sc, executors);
            SparkTraffic traffic = SparkTraffic.register(sc);
            System.out.printf(Locale.ROOT, "RESULT spark_scaling_setup master=%s cores=%d depth=%d compress=%b"
                            + " java=%s%n", sc.master(), Runtime.getRuntime().availableProcessors(), depth, compress,
                    System.getProperty("java.version"));
            for (int h : hidden) {
                for (int w : workers) {
                    List<List<DataSet>> data = data(warmup + rounds, w * FREQUENCY);
                    Row stock = run(sc, traffic, false, h, w, depth, data, warmup);
                    Row ours = run(sc, traffic, true, h, w, depth, data, warmup);
                    System.out.printf(Locale.ROOT, "RESULT spark_scaling_ratio params=%d workers=%d"
                                    + " driver_in=%.3f driver_alloc=%.3f exec_out_max=%.3f seconds=%.3f"
                                    + " (BF16 master / DL4J master)%n", stock.params, w,
                            ours.driverIn / stock.driverIn, ours.alloc / stock.alloc,
                            ours.execOut / stock.execOut, ours.seconds / stock.seconds);
                }
            }
        } finally {
            sc.stop();
        }
    }

    /** Medians over the timed rounds. */
    private static final class Row {
        long params;
        double driverIn;
        double alloc;
        double largePeak;
        double execIn;
        double execOut;
        double shuffle;
        double down;
        double seconds;
    }

    private static Row run(JavaSparkContext sc, SparkTraffic traffic, boolean bf16, int hidden, int workers, int depth,
                           List<List<DataSet>> data, int warmup) throws Exception {
        DriverMeter meter = new DriverMeter();
        MultiLayerNetwork net = network(bf16 ? new AdamWSR(1e-3) : new Adam(1e-3), hidden);
        TrainingMaster<?, ?> master = bf16 ? measured(meter, (Bf16ParameterAveragingTrainingMaster.Builder)
                new Bf16ParameterAveragingTrainingMaster.Builder(workers, BATCH).batchSizePerWorker(BATCH)
                        .averagingFrequency(FREQUENCY).aggregationDepth(depth)
                        .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never))
                : measured(meter, new ParameterAveragingTrainingMaster.Builder(workers, BATCH).batchSizePerWorker(BATCH)
                        .averagingFrequency(FREQUENCY).saveUpdater(true).aggregationDepth(depth)
                        .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never));
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        int timed = data.size() - warmup;
        double[][] m = new double[10][timed];
        for (int r = 0; r < data.size(); r++) {
            JavaRDD<DataSet> round = sc.parallelize(data.get(r), workers);
            traffic.settle();
            traffic.reset();
            long t0 = System.nanoTime();
            spark.fit(round); // one fit = one averaging round
            double seconds = (System.nanoTime() - t0) / 1e9;
            traffic.settle();
            if (r < warmup) {
                continue;
            }
            int t = r - warmup;
            long execIn = 0;
            long execOut = 0;
            for (Map.Entry<String, long[]> e : traffic.executorFlows().entrySet()) {
                execIn = Math.max(execIn, e.getValue()[0]);
                execOut = Math.max(execOut, e.getValue()[1]);
            }
            m[0][t] = traffic.resultBytes();
            m[1][t] = meter.allocated;
            m[2][t] = meter.largePeak;
            m[4][t] = execIn;
            m[5][t] = execOut;
            m[6][t] = traffic.shuffleWriteBytes();
            m[7][t] = traffic.broadcastBytes();
            m[8][t] = seconds;
        }
        Row row = new Row();
        row.params = net.numParams();
        row.driverIn = median(m[0]);
        row.alloc = median(m[1]);
        row.largePeak = median(m[2]);
        row.execIn = median(m[4]);
        row.execOut = median(m[5]);
        row.shuffle = median(m[6]);
        row.down = median(m[7]);
        row.seconds = median(m[8]);
        double p = row.params;
        System.out.printf(Locale.ROOT, "RESULT spark_scaling master=%s params=%d workers=%d depth=%d"
                        + " driver_in=%.0f (%.2f B/param) driver_alloc=%.0f (%.2f B/param)"
                        + " driver_large_peak=%.0f (%.2f B/param)"
                        + " exec_in_max=%.0f (%.2f B/param) exec_out_max=%.0f (%.2f B/param) shuffle=%.0f (%.2f B/param)"
                        + " broadcast=%.0f (%.2f B/param) seconds=%.3f (median of %d rounds) score=%.4f%n",
                bf16 ? "bf16_sr_adamwsr" : "dl4j_stock_fp32_adam", row.params, workers, depth,
                row.driverIn, row.driverIn / p, row.alloc, row.alloc / p, row.largePeak, row.largePeak / p, row.execIn, row.execIn / p, row.execOut, row.execOut / p,
                row.shuffle, row.shuffle / p, row.down, row.down / p, row.seconds, timed, spark.getScore());
        return row;
    }

    /** DL4J's master, measured around processResults (the round's Spark job and the averaging). */
    private static TrainingMaster<?, ?> measured(DriverMeter meter, ParameterAveragingTrainingMaster.Builder b) {
        return new ParameterAveragingTrainingMaster(b) {
            @Override
            protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                          JavaRDD<ParameterAveragingTrainingResult> results, int split, int splits) {
                meter.start();
                try {
                    super.processResults(network, graph, results, split, splits);
                } finally {
                    meter.stop();
                }
            }
        };
    }

    private static TrainingMaster<?, ?> measured(DriverMeter meter, Bf16ParameterAveragingTrainingMaster.Builder b) {
        return new Bf16ParameterAveragingTrainingMaster(b) {
            @Override
            protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                          JavaRDD<ParameterAveragingTrainingResult> results, int split, int splits) {
                meter.start();
                try {
                    super.processResults(network, graph, results, split, splits);
                } finally {
                    meter.stop();
                }
            }
        };
    }

    /** The driver JVM's allocations and memory peaks between start and stop (see the class comment). */
    private static final class DriverMeter {
        private final ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final MemoryPoolMXBean oldGen = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getName().contains("Old Gen")).findFirst()
                .orElseThrow(() -> new IllegalStateException("No old-generation memory pool (run with G1)"));
        private long[] ids;
        private long[] before;
        private long oldBase;
        long allocated;
        long largePeak;

        void start() {
            System.gc();
            oldBase = oldGen.getUsage().getUsed();
            oldGen.resetPeakUsage();
            ids = threads.getAllThreadIds();
            before = threads.getThreadAllocatedBytes(ids);
        }

        void stop() {
            long[] nowIds = threads.getAllThreadIds();
            long[] now = threads.getThreadAllocatedBytes(nowIds);
            long sum = 0;
            for (int i = 0; i < nowIds.length; i++) {
                long base = 0;
                for (int j = 0; j < ids.length; j++) {
                    if (ids[j] == nowIds[i]) {
                        base = Math.max(0, before[j]);
                        break;
                    }
                }
                if (now[i] >= 0) {
                    sum += now[i] - base;
                }
            }
            allocated = sum;
            largePeak = Math.max(0, oldGen.getPeakUsage().getUsed() - oldBase);
        }
    }

    private static MultiLayerNetwork network(IUpdater updater, int hidden) {
        return TeacherProblem.mlp(updater, FEATURES, hidden, CLASSES, Activation.TANH);
    }

    /** Per round, {@code perRound} minibatches of a fixed random teacher problem (same for both masters). */
    private static List<List<DataSet>> data(int rounds, int perRound) {
        return TeacherProblem.rounds(12345, FEATURES, CLASSES, rounds, perRound, BATCH);
    }

    private static void awaitExecutors(JavaSparkContext sc, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (sc.sc().statusTracker().getExecutorInfos().length - 1 < count) { // the tracker lists the driver too
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Fewer than " + count + " executors after 300 s");
            }
            Thread.sleep(200);
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }

    private static int memoryMb(String memory) {
        String m = memory.trim().toLowerCase(Locale.ROOT);
        if (m.endsWith("g")) {
            return Integer.parseInt(m.substring(0, m.length() - 1)) * 1024;
        }
        return Integer.parseInt(m.endsWith("m") ? m.substring(0, m.length() - 1) : m);
    }
}
