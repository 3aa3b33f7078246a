package org.dl4jsr.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark master's summation tree as Spark runs it ({@link TreeAveraging} on {@code local[3]}), on constructed worker
 * values: the FP32 additions follow the documented order (groups of {@code fanIn} adjacent partitions, left to right,
 * level after level), checked against a reference written here, on values where the order changes the result
 * (2^27 + 1 == 2^27 in FP32): once with no delays, once with the partitions finishing in reverse order and the last
 * partition's first attempt failing (retried). Same bits both times.
 */
class TreeAveragingSparkTest {
    private static final long SEED = 11;
    private static final int ROUND = 6;
    private static final int VALUES = 64;
    private static final WireLayout LAYOUT = WireLayout.builder(VALUES).add(0, VALUES, WireLayout.Kind.GRID).build();
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        File tmp = new File(System.getProperty("spark.test.tmp", "target/spark-tmp"), "tree-averaging");
        tmp.mkdirs();
        sc = new JavaSparkContext(new SparkConf().setMaster("local[3,2]").setAppName("tree-averaging")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.local.dir", tmp.getAbsolutePath()).set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false"));
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    @Test
    void sparkSumsInTheDocumentedOrderWhateverTheTiming() {
        int[][] cases = {{1, 2}, {2, 2}, {4, 1}, {4, 2}, {5, 2}, {8, 2}, {8, 3}};
        for (int[] c : cases) {
            int workers = c[0];
            int depth = c[1];
            int[] expected = referenceAverage(workers, depth);
            for (int delayMillis : new int[] {0, 40}) {
                AveragedResult r = TreeAveraging.average(workerResults(workers, delayMillis), depth, LAYOUT, null, SEED,
                        ROUND);
                String what = workers + " workers, depth " + depth + ", delay " + delayMillis;
                assertArrayEquals(expected, r.params.decodeBits(LAYOUT), what);
                assertEquals(workers, r.reports.size(), what);
                for (int w = 0; w < workers; w++) {
                    assertEquals(w, r.reports.get(w).score, what + ": reports in partition order");
                }
            }
        }
        // the constructed element: 4 workers {2^27, 1, -2^27, 1}: a chain gives 1/4, pairs 0
        assertEquals(0.25f, Float.intBitsToFloat(referenceAverage(4, 1)[0]));
        assertEquals(0.0f, Float.intBitsToFloat(referenceAverage(4, 2)[0]));
    }

    /** One worker result per partition, computed on the executors; partition p finishes after the higher ones. */
    private static JavaRDD<Bf16WorkerResult> workerResults(int workers, int delayMillis) {
        List<Integer> seeds = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            seeds.add(w);
        }
        return sc.parallelize(seeds, workers).mapPartitionsWithIndex(new Worker(workers, delayMillis), true);
    }

    private static final class Worker implements Function2<Integer, Iterator<Integer>, Iterator<Bf16WorkerResult>> {
        private static final long serialVersionUID = 1L;
        private final int workers;
        private final int delayMillis;

        Worker(int workers, int delayMillis) {
            this.workers = workers;
            this.delayMillis = delayMillis;
        }

        @Override
        public Iterator<Bf16WorkerResult> call(Integer partition, Iterator<Integer> ignored) throws Exception {
            if (delayMillis > 0 && TaskContext.get().attemptNumber() == 0 && partition == workers - 1 && workers > 1) {
                throw new IllegalStateException("injected failure of the last partition's first attempt");
            }
            Thread.sleep((long) delayMillis * (workers - partition));
            int[] bits = new int[VALUES];
            float[] v = values(partition);
            for (int i = 0; i < VALUES; i++) {
                bits[i] = Float.floatToRawIntBits(v[i]);
            }
            return Collections.singletonList(new Bf16WorkerResult(WireArray.encode(bits, LAYOUT, "Parameter"), null,
                    partition, null, null, null)).iterator();
        }
    }

    /** Worker {@code w}'s values, all on the BF16 grid: element 0 is 2^27, 1, -2^27, 1, ... by worker. */
    private static float[] values(int w) {
        float[] v = new float[VALUES];
        v[0] = w % 4 == 0 ? 0x1p27f : w % 4 == 2 ? -0x1p27f : 1f;
        Random r = new Random(1000 + w);
        for (int i = 1; i < VALUES; i++) {
            float x = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(50) - 25));
            v[i] = Float.intBitsToFloat(Float.floatToRawIntBits(x) & 0xFFFF0000);
        }
        return v;
    }

    /** The documented order on plain floats, then Bf16Averaging's division and rounding bits. */
    private static int[] referenceAverage(int workers, int depth) {
        int k = 2;
        while (Math.pow(k, depth) < workers) {
            k++;
        }
        float[] sums = new float[VALUES];
        for (int i = 0; i < VALUES; i++) {
            float[] level = new float[workers];
            for (int w = 0; w < workers; w++) {
                level[w] = values(w)[i];
            }
            while (level.length > 1) {
                float[] next = new float[(level.length + k - 1) / k];
                for (int g = 0; g < next.length; g++) {
                    float s = level[g * k];
                    for (int j = g * k + 1; j < Math.min(level.length, g * k + k); j++) {
                        s += level[j];
                    }
                    next[g] = s;
                }
                level = next;
            }
            sums[i] = level[0];
        }
        return Bf16Averaging.round(sums, workers, LAYOUT, Bf16Averaging.PARAMS_STREAM, SEED, ROUND).decodeBits(LAYOUT);
    }
}
