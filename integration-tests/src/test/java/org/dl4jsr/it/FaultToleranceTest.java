package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dl4jsr.testing.Bits;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker task that fails once mid-round is retried by Spark, and the run ends with exactly the parameters and
 * updater state of a fault-free run: the retry rebuilds its network from the round's broadcast, and the driver
 * averages one result per partition (nothing averaged twice, nothing lost).
 */
@SparkJre
class FaultToleranceTest {
    private static JavaSparkContext sc;
    private static FailOnceHook.Failures failures;

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 4, "faults"); // up to 4 attempts per task
        failures = new FailOnceHook.Failures();
        sc.sc().addSparkListener(failures);
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    @Test
    void retriedWorkerGivesTheFaultFreeResult() throws Exception {
        int epochs = 3;
        MultiLayerNetwork clean = IrisTraining.spark(sc, epochs, (round, net) -> { });
        // round 4 covers iterations 9, 10, 11: worker 0 fails after fitting its first minibatch of that round
        MultiLayerNetwork faulty = IrisTraining.spark(sc, epochs, (round, net) -> { }, new FailOnceHook(0, 10));
        sc.sc().listenerBus().waitUntilEmpty(60_000);
        assertEquals(1, failures.count(), "injected failures seen by Spark");
        assertArrayEquals(Bits.of(clean.params()), Bits.of(faulty.params()), "weights");
        assertArrayEquals(Bits.of(clean.getUpdater().getStateViewArray()),
                Bits.of(faulty.getUpdater().getStateViewArray()), "updater state");
        assertEquals(clean.getIterationCount(), faulty.getIterationCount(), "iterations");
    }
}
