package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dl4jsr.testing.Bits;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Grid;
import org.junit.jupiter.api.Test;

/**
 * Two executor JVMs ({@code local-cluster[2,1,1024]}, started and stopped by the test; Spark's add-opens flags are
 * passed on by Spark, the Aeron/ND4J flags by spark.executor.extraJavaOptions from the pom), one worker task failing
 * once: the run is bit-identical to a fault-free {@code local[2]} run, and every weight and moment is on the BF16 grid
 * after every round. Same seed, same data order: same bits, whatever the JVM layout and the retries.
 */
@SparkJre
class LocalClusterTest {
    private static final int EPOCHS = 4;

    @Test
    void separateExecutorJvmsWithARetryMatchLocalModeBitForBit() throws Exception {
        MultiLayerNetwork cluster;
        int failures;
        JavaSparkContext sc = SparkSessions.localCluster(2, "local-cluster");
        try {
            FailOnceHook.Failures seen = new FailOnceHook.Failures();
            sc.sc().addSparkListener(seen);
            cluster = IrisTraining.spark(sc, EPOCHS, (round, net) -> {
                assertEquals(0, Bf16Grid.countOffGrid(net.params()), "weights off the BF16 grid after round " + round);
                assertEquals(0, Bf16Grid.countOffGrid(net.getUpdater().getStateViewArray()),
                        "moments off the BF16 grid after round " + round);
            }, new FailOnceHook(1, 14));
            sc.sc().listenerBus().waitUntilEmpty(60_000);
            failures = seen.count();
        } finally {
            SparkSessions.stop(sc);
        }
        MultiLayerNetwork local;
        sc = SparkSessions.local(2, 1, "local-reference");
        try {
            local = IrisTraining.spark(sc, EPOCHS, (round, net) -> { });
        } finally {
            SparkSessions.stop(sc);
        }
        assertEquals(1, failures, "injected failures seen by Spark");
        System.out.printf("RESULT local_cluster epochs=%d accuracy=%.4f bit_identical_to_local=%b%n", EPOCHS,
                IrisTraining.accuracy(cluster), java.util.Arrays.equals(Bits.of(cluster.params()),
                        Bits.of(local.params())));
        assertArrayEquals(Bits.of(local.params()), Bits.of(cluster.params()), "weights");
        assertArrayEquals(Bits.of(local.getUpdater().getStateViewArray()),
                Bits.of(cluster.getUpdater().getStateViewArray()), "updater state");
    }
}
