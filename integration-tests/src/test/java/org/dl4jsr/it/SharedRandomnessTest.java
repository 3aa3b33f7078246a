package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Bits;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.StepFunction;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The paper's point about data-parallel SR training, shown on DL4J's gradient-sharing path: two replicas apply the same
 * sequence of shared updates (threshold-encoded as DL4J's EncodedGradientsAccumulator encodes them, decoded by each
 * replica and applied through the network's step function, as {@code EncodedGradientsAccumulator.applyUpdate} does).
 * With shared randomness (same seed: the counter-based bits depend only on seed, iteration, update and element) the
 * replicas stay bit-identical; when each draws its own bits (a seed per worker) they drift apart.
 */
class SharedRandomnessTest {
    private static final int ITERATIONS = 50;
    private static final int WORKERS = 3;

    @Test
    void sharedRandomnessKeepsReplicasBitIdentical() {
        MultiLayerNetwork[] replicas = replicas(7, 7);
        applySharedUpdates(replicas);
        assertArrayEquals(Bits.of(replicas[0].params()), Bits.of(replicas[1].params()));
        assertEquals(0, Bf16Grid.countOffGrid(replicas[0].params()));
    }

    @Test
    void perWorkerRandomBitsMakeReplicasDrift() {
        MultiLayerNetwork[] replicas = replicas(7, 8);
        int[] before = Bits.of(replicas[0].params());
        applySharedUpdates(replicas);
        int[] a = Bits.of(replicas[0].params());
        int[] b = Bits.of(replicas[1].params());
        int differ = 0;
        int moved = 0;
        for (int i = 0; i < a.length; i++) {
            differ += a[i] != b[i] ? 1 : 0;
            moved += a[i] != before[i] ? 1 : 0;
        }
        System.out.printf("RESULT replica_drift iterations=%d params=%d moved=%d differ_with_per_worker_seed=%d%n",
                ITERATIONS, a.length, moved, differ);
        assertEquals(0, Bf16Grid.countOffGrid(replicas[1].params()));
        assertTrue(differ > a.length / 4, differ + " of " + a.length + " weights differ");
    }

    /** Two replicas of one initial network whose SR seeds are seedA and seedB. */
    private static MultiLayerNetwork[] replicas(long seedA, long seedB) {
        MultiLayerNetwork a = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).seed(seedA).build(), 42, 32);
        MultiLayerNetwork b = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).seed(seedB).build(), 42, 32);
        b.setParams(a.params().dup());
        Bf16Training.attach(a);
        Bf16Training.attach(b);
        assertArrayEquals(Bits.of(a.params()), Bits.of(b.params()), "identical start");
        return new MultiLayerNetwork[] {a, b};
    }

    /**
     * Each iteration every worker's update (random, lr-sized) is threshold-encoded once; every replica decodes every
     * message into its own buffer and applies it through its step function, in the same order.
     */
    private static void applySharedUpdates(MultiLayerNetwork[] replicas) {
        Nd4j.getRandom().setSeed(99);
        long n = replicas[0].numParams();
        for (int it = 0; it < ITERATIONS; it++) {
            List<INDArray> messages = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                INDArray update = Nd4j.rand(DataType.FLOAT, 1, n).subi(0.5).muli(4e-3);
                messages.add(Nd4j.getExecutioner().thresholdEncode(update, 1e-3));
            }
            for (MultiLayerNetwork r : replicas) {
                r.setIterationCount(it);
                StepFunction step = r.getOptimizer().getStepFunction();
                for (INDArray encoded : messages) {
                    if (encoded == null) {
                        continue; // nothing above the threshold
                    }
                    INDArray decoded = Nd4j.zeros(DataType.FLOAT, 1, n);
                    Nd4j.getExecutioner().thresholdDecode(encoded, decoded);
                    step.step(r.params(), decoded);
                }
            }
        }
    }
}
