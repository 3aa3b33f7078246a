package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Grid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two workers on Iris reach the accuracy of single-machine SR training (within 0.04), and after every averaging round
 * every weight and every moment on the driver is on the BF16 grid.
 */
@SparkJre
class ConvergenceTest {
    static final int EPOCHS = 40;
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkSessions.local(2, 1, "convergence");
    }

    @AfterAll
    static void stop() {
        SparkSessions.stop(sc);
    }

    @Test
    void twoWorkersReachSingleMachineAccuracyOnTheGrid() {
        long t0 = System.nanoTime();
        double single = IrisTraining.accuracy(IrisTraining.singleMachine(EPOCHS));
        long t1 = System.nanoTime();
        MultiLayerNetwork net = IrisTraining.spark(sc, EPOCHS, (round, driver) -> {
            assertEquals(0, Bf16Grid.countOffGrid(driver.params()), "weights off the BF16 grid after round " + round);
            assertEquals(0, Bf16Grid.countOffGrid(driver.getUpdater().getStateViewArray()),
                    "moments off the BF16 grid after round " + round);
        });
        long t2 = System.nanoTime();
        double spark = IrisTraining.accuracy(net);
        System.out.printf("RESULT iris_accuracy epochs=%d single=%.4f spark_2_workers=%.4f single_s=%.1f spark_s=%.1f%n",
                EPOCHS, single, spark, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        assertTrue(single >= 0.95, "single-machine accuracy " + single);
        assertTrue(spark >= single - 0.04, "2 workers: " + spark + ", single machine: " + single);
    }
}
