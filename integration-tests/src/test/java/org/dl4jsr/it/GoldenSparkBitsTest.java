package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.dl4jsr.testing.Bits;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden bits of a Spark run: two workers on {@code local[2]}, two epochs of Iris with the BF16 master (AdamWSR,
 * averaging every 3 minibatches). Recorded before the package restructuring of the plugin (issue 9): a change to the
 * wire format's values, the averaging order or the averaging's rounding keys fails here. The hash changed once,
 * deliberately: the averaging's rounding streams moved from -2/-3 (which the converter also used) to their own
 * numbers in RoundingStreams.
 */
class GoldenSparkBitsTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 1, "golden");
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    /** The seed of the master's Bf16Options decides every rounding bit: workers' updates and the averaging. */
    @Test
    void theMastersSeedDecidesTheBits() {
        String one = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(1).build(), (r, d) -> { }));
        String again = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(1).build(), (r, d) -> { }));
        String two = Bits.hash(IrisTraining.spark(sc, 1, Bf16Options.builder().seed(2).build(), (r, d) -> { }));
        assertEquals(one, again, "seed 1 repeats");
        assertNotEquals(one, two, "seeds 1 and 2 differ");
    }

    @Test
    void twoWorkerAveragingBitsAreUnchanged() {
        MultiLayerNetwork net = IrisTraining.spark(sc, 2, (round, driver) -> { });
        assertEquals("fbe9574a17fab5d1", Bits.hash(net.params(), net.getUpdater().getStateViewArray()));
    }
}
