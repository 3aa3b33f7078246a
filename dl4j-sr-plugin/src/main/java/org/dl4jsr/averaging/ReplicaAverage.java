package org.dl4jsr.averaging;

import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.List;
import org.dl4jsr.kernel.ParallelRunner;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;

/**
 * The average of in-process replicas' FP32 bit patterns of one array, in one pass over the elements: for each tile of
 * elements, the replicas' values are copied into plain arrays (one bulk copy per replica), added to FP32 sums in replica
 * order (every value that should be on the grid checked), divided and rounded into the result. The same values, order
 * and rounding bits as the wire route ({@link WireArray#encode}, {@link WireArray#addValuesTo},
 * {@link WireArray#average}, {@link WireArray#decodeBits}), without wire arrays and without a sums array the size of
 * the model: a tile's sums stay in the core's cache.
 *
 * <p>Tiles are cut from the runner's chunks, so each element's result depends only on its own index, whichever thread
 * computes it and however many there are.
 */
final class ReplicaAverage {
    /** Elements per tile: a tile's copy, sums (two values per PACKED element) and result fit in a 32 KB L1 cache. */
    static final int TILE = 1024;

    private static final ThreadLocal<Tile> TILES = ThreadLocal.withInitial(Tile::new);

    private ReplicaAverage() {
    }

    /** One thread's scratch: a replica's bits of one tile, and the tile's FP32 sums in value order. */
    private static final class Tile {
        final int[] bits = new int[TILE];
        final float[] sums = new float[2 * TILE];
    }

    /**
     * {@code results[i]} for every element i: the average of the replicas' element i ({@code replicas} in summation
     * order), BF16 values rounded with the random bits of {@code drawKey} and their value index. An off-grid GRID value
     * is refused with {@link WireArray#requireOnGrid}'s message; tiles done before it are then in {@code results}
     * already, so {@code results} is scratch, never a replica's array.
     */
    static void average(List<IntBuffer> replicas, WireLayout layout, long drawKey, String what, int[] results,
                        ParallelRunner runner) {
        for (IntBuffer bits : replicas) {
            WireArray.checkLength(bits.remaining(), layout, what);
        }
        float divisor = replicas.size();
        runner.run(layout.length(), (from, to, kernelTile) -> {
            Tile t = TILES.get();
            for (long start = from; start < to; start += TILE) {
                averageTile(replicas, layout, drawKey, divisor, what, (int) start, (int) Math.min(to, start + TILE),
                        t, results);
            }
        });
    }

    private static void averageTile(List<IntBuffer> replicas, WireLayout layout, long drawKey, float divisor,
                                    String what, int start, int end, Tile t, int[] results) {
        int n = end - start;
        // sums[k] holds value firstValue + k; -0.0 is the identity of FP32 addition that keeps a -0.0 summand
        int firstValue = (int) layout.valueIndex(start);
        float[] sums = t.sums;
        int[] bits = t.bits;
        Arrays.fill(sums, 0, 2 * n, -0.0f);
        for (IntBuffer replica : replicas) {
            replica.get(start, bits, 0, n);
            layout.forEachPart(start, end, new SegmentVisitor() {
                @Override
                public void grid(Part p) {
                    for (int i = p.start(), k = i - start, v = p.value() - firstValue; i < p.end(); i++, k++, v++) {
                        int x = bits[k];
                        WireArray.requireOnGrid(x, i, what);
                        sums[v] += Float.intBitsToFloat(x);
                    }
                }

                @Override
                public void packed(Part p) {
                    for (int k = p.start() - start, v = p.value() - firstValue; k < p.end() - start; k++, v += 2) {
                        int x = bits[k];
                        sums[v] += Float.intBitsToFloat(Bf16.highOfPair(x)); // m
                        sums[v + 1] += Float.intBitsToFloat(Bf16.lowOfPair(x)); // v
                    }
                }

                @Override
                public void fp32(Part p) {
                    for (int k = p.start() - start, v = p.value() - firstValue; k < p.end() - start; k++, v++) {
                        sums[v] += Float.intBitsToFloat(bits[k]);
                    }
                }
            });
        }
        layout.forEachPart(start, end, new SegmentVisitor() {
            @Override
            public void grid(Part p) {
                for (int i = p.start(), v = p.value(); i < p.end(); i++, v++) {
                    results[i] = rounded(sums[v - firstValue] / divisor, drawKey, v);
                }
            }

            @Override
            public void packed(Part p) {
                for (int i = p.start(), v = p.value(); i < p.end(); i++, v += 2) {
                    results[i] = Bf16.packPair(rounded(sums[v - firstValue] / divisor, drawKey, v),
                            rounded(sums[v + 1 - firstValue] / divisor, drawKey, v + 1));
                }
            }

            @Override
            public void fp32(Part p) {
                for (int i = p.start(), v = p.value() - firstValue; i < p.end(); i++, v++) {
                    results[i] = Float.floatToRawIntBits(sums[v] / divisor);
                }
            }
        });
    }

    /** The FP32 bits of {@code x} stochastically rounded onto the BF16 grid with the 16 bits of value {@code v}. */
    private static int rounded(float x, long drawKey, int v) {
        return Bf16.roundStochasticBits(Float.floatToRawIntBits(x), CounterRng.bits(drawKey, v) & 0xFFFF)
                & Bf16.HIGH_HALF;
    }
}
