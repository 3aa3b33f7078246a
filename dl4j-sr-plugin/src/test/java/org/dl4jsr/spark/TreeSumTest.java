package org.dl4jsr.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;
import org.junit.jupiter.api.Test;

/**
 * The Spark master's summation tree without Spark: its shape for (partitions, depth), the order of the FP32 additions
 * on values where the order changes the result, its independence from the order in which children arrive, and its
 * agreement with the plain left-to-right sum of {@link Bf16Averaging} where the tree is a chain (depth 1, one or two
 * workers). The Spark plumbing ({@link TreeAveraging}) runs this arithmetic, one node per task; the integration tests
 * run it on clusters.
 */
class TreeSumTest {
    private static final long SEED = 5;
    private static final int ROUND = 3;

    @Test
    void fanInIsTheSmallestIntegerRootAtLeastTwo() {
        // {partitions, depth, fanIn, levels}
        int[][] cases = {{1, 1, 2, 0}, {1, 5, 2, 0}, {2, 1, 2, 1}, {2, 2, 2, 1}, {3, 2, 2, 2}, {4, 1, 4, 1},
            {4, 2, 2, 2}, {8, 2, 3, 2}, {8, 3, 2, 3}, {9, 2, 3, 2}, {10, 2, 4, 2}, {64, 2, 8, 2}, {64, 3, 4, 3},
            {1000, 3, 10, 3}, {5, 10, 2, 3}};
        for (int[] c : cases) {
            SumTree t = SumTree.of(c[0], c[1]);
            String what = t.toString();
            assertEquals(c[2], t.fanIn(), what);
            assertEquals(c[3], t.levels(), what);
            assertEquals(1, t.width(t.levels()), what);
            assertTrue(t.levels() <= c[1], what);
        }
        SumTree eight = SumTree.of(8, 2); // nodes of partitions {0,1,2} {3,4,5} {6,7}, then the root of 3 nodes
        assertEquals(3, eight.width(1));
        assertEquals(List.of(3, 3, 2), List.of(eight.children(0, 0), eight.children(0, 1), eight.children(0, 2)));
        assertEquals(List.of(0, 3, 6), List.of(eight.firstChild(0), eight.firstChild(1), eight.firstChild(2)));
        assertEquals(3, eight.children(1, 0));
        assertEquals(2, eight.parent(7));
    }

    @Test
    void depthBelowOneIsRefusedWithWhatItMeans() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SumTree.of(4, 0));
        assertTrue(e.getMessage().startsWith("aggregationDepth must be >= 1"), e.getMessage());
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    /**
     * 2^27 + 1 is 2^27 in FP32 (its ulp is 16), so: depth 1, ((2^27 + 1) - 2^27) + 1 = 1, average 1/4; depth 2,
     * (2^27 + 1) + (-2^27 + 1) = 0, average 0. Every input is on the BF16 grid, so they travel as BF16.
     */
    @Test
    void theTreeDecidesTheOrderOfAdditionsAndSoTheResult() {
        float[] workers = {0x1p27f, 1f, -0x1p27f, 1f};
        WireLayout layout = WireLayout.builder(1).add(0, 1, WireLayout.Kind.GRID).build();
        List<int[]> replicas = new ArrayList<>();
        for (float w : workers) {
            replicas.add(new int[] {Float.floatToRawIntBits(w)});
        }
        assertEquals(0.25f, value(treeAverage(replicas, layout, 1, new Random(1))), "depth 1: a chain");
        assertEquals(0.0f, value(treeAverage(replicas, layout, 2, new Random(1))), "depth 2: pairs, then the pair sums");
        assertEquals(0.25f, value(viaBf16Averaging(replicas, layout)), "Bf16Averaging's chain = depth 1");
        // 8 workers, depth 2: fan-in 3, nodes {0,1,2} {3,4,5} {6,7}
        float[] eight = {0x1p27f, 1f, 1f, -0x1p27f, 1f, 1f, 1f, 1f};
        List<int[]> r8 = new ArrayList<>();
        for (float w : eight) {
            r8.add(new int[] {Float.floatToRawIntBits(w)});
        }
        // (2^27 + 1 + 1) = 2^27; (-2^27 + 1 + 1) = -2^27; (1 + 1) = 2; then 2^27 - 2^27 + 2 = 2: average 1/4
        assertEquals(0.25f, value(treeAverage(r8, layout, 2, new Random(2))));
        assertEquals(reference(eight, 2) / 8, value(treeAverage(r8, layout, 2, new Random(2))));
        // chain: (((2^27 + 1) + 1) - 2^27) + 4 = 4: average 1/2
        assertEquals(0.5f, value(treeAverage(r8, layout, 1, new Random(2))));
    }

    /**
     * Random values of every segment kind: the tree's result equals a reference sum written here (plain floats,
     * grouped by the documented rule) rounded with the same bits, for 1..9 workers and depths 1..4, whatever the order
     * in which children reach their parent.
     */
    @Test
    void resultMatchesTheReferenceWhateverTheArrivalOrder() {
        WireLayout layout = WireLayout.builder(60).add(0, 20, WireLayout.Kind.GRID).add(20, 20, WireLayout.Kind.PACKED)
                .add(40, 20, WireLayout.Kind.FP32).build();
        Random random = new Random(9);
        for (int workers = 1; workers <= 9; workers++) {
            List<int[]> replicas = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                replicas.add(replica(layout, random));
            }
            for (int depth = 1; depth <= 4; depth++) {
                int[] once = treeAverage(replicas, layout, depth, new Random(1)).decodeBits(layout);
                int[] shuffled = treeAverage(replicas, layout, depth, new Random(2)).decodeBits(layout);
                assertArrayEquals(once, shuffled, workers + " workers, depth " + depth + ": arrival order");
                assertArrayEquals(referenceAverage(replicas, layout, depth), once, workers + " workers, depth "
                        + depth);
                if (depth == 1 || workers <= 2) {
                    assertArrayEquals(viaBf16Averaging(replicas, layout).decodeBits(layout), once,
                            workers + " workers, depth " + depth + ": a chain is Bf16Averaging's sum");
                }
            }
        }
    }

    @Test
    void scoresAndEmptyPartitionsKeepPartitionOrder() {
        WireLayout layout = WireLayout.builder(2).add(0, 2, WireLayout.Kind.GRID).build();
        SumTree tree = SumTree.of(5, 2); // fan-in 3
        List<PartialSum> leaves = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            Bf16WorkerResult r = p == 1 ? null : new Bf16WorkerResult(WireArray.encode(new int[] {
                Float.floatToRawIntBits(p), Float.floatToRawIntBits(-p)}, layout, "p"), null, 10 + p, null, null, null);
            leaves.add(PartialSum.ofPartition(p, Collections.singletonList(r).iterator(), layout, null));
        }
        PartialSum a = PartialSum.combine(tree, 0, 0, List.of(leaves.get(2), leaves.get(0), leaves.get(1)), layout, null);
        PartialSum b = PartialSum.combine(tree, 0, 1, List.of(leaves.get(4), leaves.get(3)), layout, null);
        PartialSum root = PartialSum.combine(tree, 1, 0, List.of(b, a), layout, null);
        AveragedResult avg = root.average(layout, null, SEED, ROUND);
        assertEquals(4, root.replicas);
        List<Double> scores = new ArrayList<>();
        root.reports.forEach(r -> scores.add(r.score));
        assertEquals(List.of(10.0, 12.0, 13.0, 14.0), scores);
        assertEquals(2.25f, Float.intBitsToFloat(avg.params.decodeBits(layout)[0]));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> PartialSum.combine(tree, 0, 0, List.of(leaves.get(0), leaves.get(2)), layout, null));
        assertTrue(missing.getMessage().contains("expected 3 starting at 0"), missing.getMessage());
    }

    /** The arithmetic of TreeAveraging in one JVM: leaves, then each level's nodes from children in random order. */
    private static WireArray treeAverage(List<int[]> replicas, WireLayout layout, int depth, Random arrival) {
        SumTree tree = SumTree.of(replicas.size(), depth);
        List<PartialSum> level = new ArrayList<>();
        for (int p = 0; p < replicas.size(); p++) {
            Bf16WorkerResult r = new Bf16WorkerResult(WireArray.encode(replicas.get(p), layout, "p"), null, 0, null,
                    null, null);
            level.add(PartialSum.ofPartition(p, Collections.singletonList(r).iterator(), layout, null));
        }
        for (int l = 0; l < tree.levels(); l++) {
            Map<Integer, List<PartialSum>> groups = new TreeMap<>();
            for (PartialSum s : level) {
                groups.computeIfAbsent(tree.parent(s.position), g -> new ArrayList<>()).add(s);
            }
            List<PartialSum> next = new ArrayList<>();
            for (Map.Entry<Integer, List<PartialSum>> g : groups.entrySet()) {
                Collections.shuffle(g.getValue(), arrival);
                next.add(PartialSum.combine(tree, l, g.getKey(), g.getValue(), layout, null));
            }
            level = next;
        }
        assertEquals(1, level.size());
        return level.get(0).average(layout, null, SEED, ROUND).params;
    }

    private static WireArray viaBf16Averaging(List<int[]> replicas, WireLayout layout) {
        Bf16Averaging avg = Bf16Averaging.params(layout);
        for (int[] r : replicas) {
            avg.add(WireArray.encode(r, layout, "p"));
        }
        return avg.result(SEED, ROUND);
    }

    private static float value(WireArray a) {
        return Float.intBitsToFloat(a.decodeBits(WireLayout.builder(1).add(0, 1, WireLayout.Kind.GRID).build())[0]);
    }

    /**
     * The documented order on plain floats: groups of k = smallest integer >= 2 with k^depth >= n adjacent sums,
     * each added left to right, level after level.
     */
    private static float reference(float[] values, int depth) {
        int n = values.length;
        int k = 2;
        while (Math.pow(k, depth) < n) {
            k++;
        }
        float[] sums = values.clone();
        while (sums.length > 1) {
            float[] next = new float[(sums.length + k - 1) / k];
            for (int g = 0; g < next.length; g++) {
                float s = sums[g * k];
                for (int i = g * k + 1; i < Math.min(sums.length, g * k + k); i++) {
                    s += sums[i];
                }
                next[g] = s;
            }
            sums = next;
        }
        return sums[0];
    }

    /** Per value: the reference sum of the replicas' values, divided and rounded with Bf16Averaging's bits. */
    private static int[] referenceAverage(List<int[]> replicas, WireLayout layout, int depth) {
        List<float[]> values = new ArrayList<>();
        for (int[] r : replicas) {
            float[] v = WireArray.newSums(layout);
            WireArray.encode(r, layout, "p").addValuesTo(v, layout);
            values.add(v);
        }
        float[] sums = new float[values.get(0).length];
        for (int i = 0; i < sums.length; i++) {
            float[] column = new float[values.size()];
            for (int w = 0; w < values.size(); w++) {
                column[w] = values.get(w)[i];
            }
            sums[i] = reference(column, depth);
        }
        return Bf16Averaging.round(sums, replicas.size(), layout, Bf16Averaging.PARAMS_STREAM, SEED, ROUND)
                .decodeBits(layout);
    }

    /** GRID values on the grid, PACKED and FP32 values any finite pattern of varied magnitude. */
    private static int[] replica(WireLayout layout, Random r) {
        int[] bits = new int[(int) layout.length()];
        for (int s = 0; s < layout.segments(); s++) {
            for (long i = layout.start(s); i < layout.start(s) + layout.length(s); i++) {
                float v = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 20));
                int b = layout.kind(s) == WireLayout.Kind.PACKED
                        ? Float.floatToRawIntBits(v) & 0xFFFF0000 | (Float.floatToRawIntBits(v * 0.37f) >>> 16)
                        : Float.floatToRawIntBits(v);
                bits[(int) i] = layout.kind(s) == WireLayout.Kind.GRID ? b & 0xFFFF0000 : b;
            }
        }
        return bits;
    }
}
