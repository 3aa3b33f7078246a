package org.dl4jsr.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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
                bits[(int) i] = layout.kind(s) == WireLayout.Kind.GRID ? b & 0xFFFF0000 : b;
            }
        }
        return bits;
    }

    private static int[] viaWire(List<int[]> replicas, WireLayout layout, int round) {
        Bf16Averaging avg = Bf16Averaging.params(layout);
        for (int[] r : replicas) {
            avg.add(WireArray.encode(r, layout, "Parameter"));
        }
        return avg.result(SEED, round).decodeBits(layout);
    }

    @Test
    void inProcessAverageIsTheWireAverageBitForBit() {
        WireLayout layout = layout();
        SplittableRandom random = new SplittableRandom(11);
        for (int count = 1; count <= 4; count++) {
            List<int[]> replicas = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                replicas.add(replica(layout, random));
            }
            for (int round = 0; round < 3; round++) {
                assertArrayEquals(viaWire(replicas, layout, round), Bf16Averaging.averageBits(replicas, layout, SEED,
                        round, Bf16Averaging.PARAMS_STREAM, "Parameter"), count + " replicas, round " + round);
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
                List.of(bits), layout, SEED, 0, Bf16Averaging.PARAMS_STREAM, "Parameter"));
        assertEquals(wire.getMessage(), inProcess.getMessage());
    }
}
