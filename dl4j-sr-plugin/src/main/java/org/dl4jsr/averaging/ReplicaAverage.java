package org.dl4jsr.averaging;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.List;
import org.dl4jsr.kernel.ParallelRunner;
import org.dl4jsr.kernel.TileOps;
import org.dl4jsr.rounding.Bf16;

/**
 * The average of in-process replicas' FP32 bit patterns of one array, in two passes over host memory: a read-only
 * check that every GRID value is on the grid, then one pass that, tile by tile (a tile lies in one segment), copies
 * each replica's tile into plain arrays (one bulk copy per replica), adds its values to the tile's FP32 sums in replica
 * order, divides, rounds, and writes the tile into every output. The same values, order and rounding bits as the wire
 * route ({@link WireArray#encode}, {@link WireArray#addValuesTo}, {@link WireArray#average},
 * {@link WireArray#decodeBits}), without wire arrays and without a sums array the size of the model: a tile's sums stay
 * in the core's cache.
 *
 * <p>Each stage is a simple loop over the tile's arrays that HotSpot vectorises (sums, division, random bits,
 * rounding); the segment kinds are handled once per piece of segment ({@link WireLayout#forEachPart}). Tiles are cut
 * from the pieces of the runner's chunks, and each element's result depends only on its own index, whichever thread
 * computes it and however many there are.
 */
final class ReplicaAverage {
    /** Elements per tile, the kernels' tile size (their rounding loop reads its indices from a table of that size). */
    static final int TILE = org.dl4jsr.kernel.Tile.SIZE;

    private static final ThreadLocal<Tile> TILES = ThreadLocal.withInitial(Tile::new);

    private ReplicaAverage() {
    }

    /**
     * One thread's scratch for one tile of one segment kind: a replica's elements, their values as floats (m and v
     * apart for PACKED), the FP32 sums, and the result elements. Every loop runs over these arrays from index 0,
     * which HotSpot vectorises (it does not vectorise a loop over an array at a variable offset). FP32 bits become
     * floats and back through a small direct buffer (two bulk copies in L1), because HotSpot 17 does not vectorise
     * {@code Float.intBitsToFloat} or {@code Float.floatToRawIntBits} in loops.
     */
    private static final class Tile {
        final int[] elements = new int[TILE];
        final int[] bits = new int[TILE];
        final int[] lowBits = new int[TILE];
        final float[] values = new float[TILE];
        final float[] sums = new float[TILE];
        final float[] lowSums = new float[TILE];
        final int[] result = new int[TILE];
        private final IntBuffer scratchInts;
        private final FloatBuffer scratchFloats;

        Tile() {
            ByteBuffer scratch = ByteBuffer.allocateDirect(TILE * 4).order(ByteOrder.nativeOrder());
            scratchInts = scratch.asIntBuffer();
            scratchFloats = scratch.asFloatBuffer();
        }

        /** sums[k] += intBitsToFloat(src[k]) for k < n. */
        void add(int[] src, float[] sums, int n) {
            scratchInts.put(0, src, 0, n);
            scratchFloats.get(0, values, 0, n);
            for (int k = 0; k < n; k++) {
                sums[k] += values[k];
            }
        }

        /** dst[k] = floatToRawIntBits(sums[k] / divisor) for k < n. */
        void average(float[] sums, float divisor, int[] dst, int n) {
            for (int k = 0; k < n; k++) {
                values[k] = sums[k] / divisor;
            }
            scratchFloats.put(0, values, 0, n);
            scratchInts.get(0, dst, 0, n);
        }
    }

    /**
     * Refuses the first off-grid GRID value found in any replica, with {@link WireArray#requireOnGrid}'s message
     * (the wire route's); reads only, so that nothing is written when a value is refused.
     */
    static void requireOnGrid(List<IntBuffer> replicas, WireLayout layout, String what, ParallelRunner runner) {
        for (IntBuffer bits : replicas) {
            WireArray.checkLength(bits.remaining(), layout, what);
        }
        runner.run(layout.length(), (from, to, kernelTile) -> {
            int[] elements = TILES.get().elements;
            layout.forEachPart(from, to, new SegmentVisitor() {
                @Override
                public void grid(Part p) {
                    for (IntBuffer replica : replicas) {
                        for (int start = p.start(); start < p.end(); start += TILE) {
                            int n = Math.min(TILE, p.end() - start);
                            replica.get(start, elements, 0, n);
                            int lowHalves = 0;
                            for (int k = 0; k < n; k++) {
                                lowHalves |= elements[k];
                            }
                            for (int k = 0; (lowHalves & 0xFFFF) != 0 && k < n; k++) {
                                WireArray.requireOnGrid(elements[k], start + k, what);
                            }
                        }
                    }
                }

                @Override
                public void packed(Part p) { // a slot holds two BF16 halves: always on the grid
                }

                @Override
                public void fp32(Part p) {
                }
            });
        });
    }

    /**
     * Writes into every output the average of the replicas ({@code replicas} in summation order, checked with
     * {@link #requireOnGrid}), BF16 values rounded with the random bits of {@code drawKey} and their value index.
     * Outputs may be replicas: a tile is read from every replica before it is written.
     */
    static void average(List<IntBuffer> replicas, WireLayout layout, long drawKey, List<IntBuffer> outputs,
                        ParallelRunner runner) {
        float divisor = replicas.size();
        runner.run(layout.length(), (from, to, kernelTile) -> {
            Tile t = TILES.get();
            layout.forEachPart(from, to, new SegmentVisitor() {
                @Override
                public void grid(Part p) {
                    for (int start = p.start(), v = p.value(); start < p.end(); start += TILE, v += TILE) {
                        int n = Math.min(TILE, p.end() - start);
                        sum(replicas, start, n, t);
                        t.average(t.sums, divisor, t.result, n);
                        TileOps.roundStochastic(t.result, n, drawKey, v, 1);
                        write(outputs, start, n, t);
                    }
                }

                @Override
                public void packed(Part p) { // m is value v + 2k, v value v + 2k + 1
                    for (int start = p.start(), v = p.value(); start < p.end(); start += TILE, v += 2 * TILE) {
                        int n = Math.min(TILE, p.end() - start);
                        sumPacked(replicas, start, n, t);
                        t.average(t.sums, divisor, t.bits, n);
                        t.average(t.lowSums, divisor, t.lowBits, n);
                        TileOps.roundStochastic(t.bits, n, drawKey, v, 2);
                        TileOps.roundStochastic(t.lowBits, n, drawKey, v + 1, 2);
                        for (int k = 0; k < n; k++) {
                            t.result[k] = Bf16.packPair(t.bits[k], t.lowBits[k]);
                        }
                        write(outputs, start, n, t);
                    }
                }

                @Override
                public void fp32(Part p) { // kept in FP32, as DL4J's own averaging does
                    for (int start = p.start(); start < p.end(); start += TILE) {
                        int n = Math.min(TILE, p.end() - start);
                        sum(replicas, start, n, t);
                        t.average(t.sums, divisor, t.result, n);
                        write(outputs, start, n, t);
                    }
                }
            });
        });
    }

    /**
     * t.sums[k]: the sum of element start + k of the replicas, in replica order, from -0.0 (the identity of FP32
     * addition that keeps a -0.0 summand).
     */
    private static void sum(List<IntBuffer> replicas, int start, int n, Tile t) {
        Arrays.fill(t.sums, 0, n, -0.0f);
        for (IntBuffer replica : replicas) {
            replica.get(start, t.elements, 0, n);
            t.add(t.elements, t.sums, n);
        }
    }

    /** The same for PACKED slots: t.sums[k] sums the m (high halves), t.lowSums[k] the v (low halves). */
    private static void sumPacked(List<IntBuffer> replicas, int start, int n, Tile t) {
        Arrays.fill(t.sums, 0, n, -0.0f);
        Arrays.fill(t.lowSums, 0, n, -0.0f);
        for (IntBuffer replica : replicas) {
            replica.get(start, t.elements, 0, n);
            for (int k = 0; k < n; k++) {
                t.bits[k] = Bf16.highOfPair(t.elements[k]);
                t.lowBits[k] = Bf16.lowOfPair(t.elements[k]);
            }
            t.add(t.bits, t.sums, n);
            t.add(t.lowBits, t.lowSums, n);
        }
    }

    private static void write(List<IntBuffer> outputs, int start, int n, Tile t) {
        for (IntBuffer out : outputs) {
            out.put(start, t.result, 0, n);
        }
    }
}
