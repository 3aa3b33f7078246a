package org.dl4jsr.averaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The in-process averaging of ParallelWrapper replicas ({@link Bf16Averaging#averageBits}) gives exactly the bits of
 * the wire route the Spark master takes (encode, FP32 sum in replica order, divide, stochastic rounding, decode),
 * whose bits GoldenSparkBitsTest pins: over every segment kind, signed zeros, subnormals, infinities and large
 * values, for 1 to 4 replicas. An off-grid value is refused with the wire route's message.
 */
class InProcessAveragingTest {
    private static final long SEED = 7;

    private static WireLayout layout() {
        return WireLayout.builder(4000).add(0, 1500, WireLayout.Kind.GRID).add(1500, 1200, WireLayout.Kind.PACKED)
                .add(2700, 800, WireLayout.Kind.FP32).add(3500, 500, WireLayout.Kind.GRID).build();
    }

    /** Random FP32 bits of one replica: GRID values on the grid, PACKED and FP32 any finite or special pattern. */
    private static int[] replica(WireLayout layout, SplittableRandom r) {
        int[] bits = new int[(int) layout.length()];
        for (int s = 0; s < layout.segments(); s++) {
            for (long i = layout.start(s); i < layout.start(s) + layout.length(s); i++) {
                int b = switch (r.nextInt(8)) {
                    case 0 -> 0x80000000;                          // -0.0
                    case 1 -> r.nextInt(0x00800000);               // subnormal
                    case 2 -> r.nextBoolean() ? 0x7F800000 : 0xFF800000; // infinities
                    case 3 -> 0x7F000000 | r.nextInt(0x00800000);  // large: sums overflow to infinity
                    default -> Float.floatToRawIntBits((float) r.nextGaussian());
                };
                if (layout.kind(s) == WireLayout.Kind.GRID) {
                    b &= 0xFFFF0000;
                } else if (layout.kind(s) == WireLayout.Kind.PACKED && (b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0) {
                    // no NaN input in a v half: which of two NaN payloads an FP32 sum keeps depends on the operand
                    // order, which the JIT may swap (a + b is commutative but for NaN payloads); real updater state
                    // never holds NaN (a non-finite step is skipped). NaN made by the sums themselves (inf - inf)
                    // stays covered: the CPU's default NaN does not depend on the order.
                    b &= ~0x4000;
                }
                bits[(int) i] = b;
            }
        }
        return bits;
    }

    private static int[] viaWire(List<int[]> replicas, WireLayout layout, int round) {
        return viaWire(replicas, Bf16Averaging.params(layout), layout, round);
    }

    private static int[] viaWire(List<int[]> replicas, Bf16Averaging avg, WireLayout layout, int round) {
        for (int[] r : replicas) {
            avg.add(WireArray.encode(r, layout, "Parameter"));
        }
        return avg.result(SEED, round).decodeBits(layout);
    }

    /** Longer than several chunks of the parallel passes, with segment boundaries inside chunks. */
    private static WireLayout longLayout() {
        return WireLayout.builder(100_000).add(0, 40_000, WireLayout.Kind.GRID)
                .add(40_000, 30_001, WireLayout.Kind.PACKED).add(70_001, 499, WireLayout.Kind.FP32)
                .add(70_500, 29_500, WireLayout.Kind.GRID).build();
    }

    @Test
    void inProcessAverageIsTheWireAverageBitForBit() {
        for (WireLayout layout : List.of(layout(), longLayout())) {
            SplittableRandom random = new SplittableRandom(11);
            for (int count = 1; count <= 4; count++) {
                List<int[]> replicas = new ArrayList<>();
                for (int k = 0; k < count; k++) {
                    replicas.add(replica(layout, random));
                }
                for (int round = 0; round < 2; round++) {
                    int[] wire = viaWire(replicas, layout, round);
                    for (int threads = 1; threads <= 3; threads++) {
                        assertArrayEquals(wire, Bf16Averaging.averageBits(replicas, layout, SEED, round,
                                Bf16Averaging.PARAMS_STREAM, "Parameter", threads),
                                layout + ", " + count + " replicas, round " + round + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void offGridValueIsRefusedAsOnTheWire() {
        WireLayout layout = layout();
        int[] bits = replica(layout, new SplittableRandom(3));
        bits[1234] |= 1;
        IllegalStateException wire = assertThrows(IllegalStateException.class,
                () -> WireArray.encode(bits, layout, "Parameter"));
        IllegalStateException inProcess = assertThrows(IllegalStateException.class, () -> Bf16Averaging.averageBits(
                List.of(bits), layout, SEED, 0, Bf16Averaging.PARAMS_STREAM, "Parameter", 2));
        assertEquals(wire.getMessage(), inProcess.getMessage());
    }

    /**
     * Replicas averaged in place (host memory read and written directly for FLOAT networks, copied as bits for
     * BFLOAT16 ones) receive the wire route's bits: parameters and AdamWSR state (packed in the FLOAT network), every target (the trained
     * replicas and one that did not train), two rounds with one scratch.
     */
    @Test
    void averageInPlaceGivesEveryTargetTheWireAverage() {
        DataSet iris = Iris.load(DataType.FLOAT);
        for (boolean bfloat16 : new boolean[] {false, true}) {
            List<MultiLayerNetwork> nets = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                AdamWSR updater = AdamWSR.builder().learningRate(0.02).compactState(!bfloat16).build();
                MultiLayerNetwork net = bfloat16 ? TestNets.bf16IrisMlp(updater, 5) : TestNets.irisMlp(updater, 5);
                Bf16Training.attach(net);
                DataSet d = TestNets.as(iris.copy(), net.params().dataType());
                d.shuffle(k);
                TestNets.fit(net, d.batchBy(30).get(k), k + 2);
                nets.add(net);
            }
            List<MultiLayerNetwork> trained = nets.subList(0, 2);
            Bf16Averaging.Scratch scratch = new Bf16Averaging.Scratch(2);
            for (int round = 0; round < 2; round++) {
                org.dl4jsr.network.Network first = org.dl4jsr.network.Network.of(nets.get(0));
                WireLayout paramLayout = WireLayouts.params(first);
                WireLayout stateLayout = WireLayouts.state(first);
                List<int[]> params = new ArrayList<>();
                List<int[]> states = new ArrayList<>();
                for (MultiLayerNetwork n : trained) {
                    params.add(ArrayBits.of(n.params()));
                    states.add(ArrayBits.of(n.getUpdater().getStateViewArray()));
                }
                int[] expectedParams = viaWire(params, Bf16Averaging.params(paramLayout), paramLayout, round);
                int[] expectedState = viaWire(states, Bf16Averaging.state(stateLayout), stateLayout, round);
                Bf16Averaging.averageInPlace(trained, nets, SEED, round, true, scratch);
                for (int k = 0; k < nets.size(); k++) {
                    String what = (bfloat16 ? "BFLOAT16" : "FLOAT") + " network " + k + ", round " + round;
                    assertArrayEquals(expectedParams, ArrayBits.of(nets.get(k).params()), what + ": parameters");
                    assertArrayEquals(expectedState, ArrayBits.of(nets.get(k).getUpdater().getStateViewArray()),
                            what + ": updater state");
                }
                for (MultiLayerNetwork n : trained) {
                    TestNets.fit(n, TestNets.as(iris.batchBy(30).get(3 + round), n.params().dataType()), 1);
                }
            }
        }
    }
}
