package org.dl4jsr.spark;

import java.io.Serializable;

/**
 * The shape of the deterministic summation tree over the partitions of one averaging round: which partial sums are
 * added together, and in which order, at every level.
 *
 * <p>Level 0 holds one partial sum per partition (position = partition index). Each level groups {@link #fanIn()}
 * adjacent positions: position {@code p} of level {@code l} becomes part of position {@code p / fanIn} of level
 * {@code l + 1}, whose sum is its children's sums added left to right, in position order. The fan-in is the smallest
 * integer {@code k >= 2} with {@code k^depth >= partitions}, so at most {@code depth} levels lead to a single sum.
 * Example, 4 partitions: depth 1 gives {@code ((s0 + s1) + s2) + s3}; depth 2 gives {@code (s0 + s1) + (s2 + s3)}.
 *
 * <p>The order depends only on (partitions, depth): not on which task finishes first, on shuffle fetch order, on
 * retries or on lost executors.
 */
final class SumTree implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int partitions;
    private final int depth;
    private final int fanIn;

    private SumTree(int partitions, int depth, int fanIn) {
        this.partitions = partitions;
        this.depth = depth;
        this.fanIn = fanIn;
    }

    /** The tree over {@code partitions} partial sums (>= 1) of at most {@code depth} (>= 1) levels. */
    static SumTree of(int partitions, int depth) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (depth < 1) {
            throw new IllegalArgumentException(depthMessage(depth));
        }
        // integer arithmetic only (a floating-point root such as pow(8, 1/3.0) can land on 2.0000000000000004)
        int k = 2;
        while (!reaches(k, depth, partitions)) {
            k++;
        }
        return new SumTree(partitions, depth, k);
    }

    /** The refusal of a depth below 1, saying what the value means. */
    static String depthMessage(int depth) {
        return "aggregationDepth must be >= 1 (the number of levels of the tree in which the executors sum the"
                + " workers' results before the driver receives the average; DL4J's default is 2), got " + depth;
    }

    private static boolean reaches(int k, int depth, int n) {
        long power = 1;
        for (int i = 0; i < depth; i++) {
            power *= k;
            if (power >= n) {
                return true;
            }
        }
        return false;
    }

    int partitions() {
        return partitions;
    }

    int depth() {
        return depth;
    }

    /** Partial sums added together into one at each level. */
    int fanIn() {
        return fanIn;
    }

    /** Levels above the partitions (0 for a single partition: its sum is the total). */
    int levels() {
        int levels = 0;
        for (int n = partitions; n > 1; n = ceilDiv(n, fanIn)) {
            levels++;
        }
        return levels;
    }

    /** Partial sums at {@code level} (level 0: one per partition; the last level: 1). */
    int width(int level) {
        int n = partitions;
        for (int l = 0; l < level; l++) {
            n = ceilDiv(n, fanIn);
        }
        return n;
    }

    /** The position at {@code level + 1} that position {@code position} of {@code level} is added into. */
    int parent(int position) {
        return position / fanIn;
    }

    /** The first child (at {@code level}) of {@code position} at {@code level + 1}. */
    int firstChild(int position) {
        return position * fanIn;
    }

    /** Children (at {@code level}) of {@code position} at {@code level + 1}. */
    int children(int level, int position) {
        return Math.min(fanIn, width(level) - firstChild(position));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public String toString() {
        return "SumTree(partitions=" + partitions + ", depth=" + depth + ", fanIn=" + fanIn + ", levels=" + levels()
                + ")";
    }
}
