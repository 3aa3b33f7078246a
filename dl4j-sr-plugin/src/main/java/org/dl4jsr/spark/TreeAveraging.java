package org.dl4jsr.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.averaging.WireLayout;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFunction;
import scala.Tuple2;

/**
 * Averages the workers' results of one round on the executors, along a {@link SumTree} of depth
 * {@code aggregationDepth}: only the rounded average reaches the driver.
 * <ol>
 * <li>In each training task: the partition's workers become a {@link PartialSum} (position = partition index).</li>
 * <li>For each level of the tree: a shuffle sends position {@code p} to partition {@code p / fanIn} of the next level
 * (its parent); the parent's task adds its children in position order ({@link PartialSum#combine}). Shuffle fetch
 * order, task finish order and retries change nothing: every child carries its position.</li>
 * <li>The single task of the last level divides and rounds ({@link PartialSum#average}, the same rounding bits as
 * {@link Bf16Averaging}); the driver collects that one {@link AveragedResult}.</li>
 * </ol>
 * Executor loss: a lost map output is recomputed by Spark from the lineage (the deterministic training task, the
 * round's broadcast), so the sums are the same bits.
 */
final class TreeAveraging {
    private TreeAveraging() {
    }

    /**
     * The round's average; {@code stateLayout} null unless updater state is averaged. Runs the round's training (the
     * Spark job starts here). No partition: an empty result.
     */
    static AveragedResult average(JavaRDD<Bf16WorkerResult> results, int depth, WireLayout paramLayout,
                                  WireLayout stateLayout, long seed, int round) {
        int partitions = results.getNumPartitions();
        if (partitions == 0) {
            return new AveragedResult(null, null, Collections.emptyList());
        }
        SumTree tree = SumTree.of(partitions, depth);
        JavaRDD<PartialSum> level = results.mapPartitionsWithIndex(new Leaf(paramLayout, stateLayout), true);
        for (int l = 0; l < tree.levels(); l++) {
            level = level.mapToPair(new ByPosition())
                    .partitionBy(new ToParent(tree, l))
                    .mapPartitionsWithIndex(new Combine(tree, l, paramLayout, stateLayout), true);
        }
        List<AveragedResult> top = level.map(new Average(paramLayout, stateLayout, seed, round)).collect();
        if (top.size() != 1) {
            throw new IllegalStateException("The summation tree ended in " + top.size() + " sums (" + tree + ")");
        }
        return top.get(0);
    }

    /** Level 0, in the training task: the partition's workers as one partial sum. */
    private static final class Leaf
            implements Function2<Integer, Iterator<Bf16WorkerResult>, Iterator<PartialSum>> {
        private static final long serialVersionUID = 1L;
        private final WireLayout paramLayout;
        private final WireLayout stateLayout;

        Leaf(WireLayout paramLayout, WireLayout stateLayout) {
            this.paramLayout = paramLayout;
            this.stateLayout = stateLayout;
        }

        @Override
        public Iterator<PartialSum> call(Integer partition, Iterator<Bf16WorkerResult> results) {
            return Collections.singletonList(PartialSum.ofPartition(partition, results, paramLayout, stateLayout))
                    .iterator();
        }
    }

    private static final class ByPosition implements PairFunction<PartialSum, Integer, PartialSum> {
        private static final long serialVersionUID = 1L;

        @Override
        public Tuple2<Integer, PartialSum> call(PartialSum s) {
            return new Tuple2<>(s.position, s);
        }
    }

    /** Sends position {@code p} of a level to partition {@code p / fanIn} of the next: its parent. */
    private static final class ToParent extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final SumTree tree;
        private final int level;

        ToParent(SumTree tree, int level) {
            this.tree = tree;
            this.level = level;
        }

        @Override
        public int numPartitions() {
            return tree.width(level + 1);
        }

        @Override
        public int getPartition(Object position) {
            return tree.parent((Integer) position);
        }
    }

    /** A node of the next level: its children added in position order. */
    private static final class Combine
            implements Function2<Integer, Iterator<Tuple2<Integer, PartialSum>>, Iterator<PartialSum>> {
        private static final long serialVersionUID = 1L;
        private final SumTree tree;
        private final int level;
        private final WireLayout paramLayout;
        private final WireLayout stateLayout;

        Combine(SumTree tree, int level, WireLayout paramLayout, WireLayout stateLayout) {
            this.tree = tree;
            this.level = level;
            this.paramLayout = paramLayout;
            this.stateLayout = stateLayout;
        }

        @Override
        public Iterator<PartialSum> call(Integer position, Iterator<Tuple2<Integer, PartialSum>> children) {
            List<PartialSum> list = new ArrayList<>();
            children.forEachRemaining(c -> list.add(c._2()));
            return Collections.singletonList(PartialSum.combine(tree, level, position, list, paramLayout, stateLayout))
                    .iterator();
        }
    }

    /** The root's average, rounded on the executor that holds the root. */
    private static final class Average implements Function<PartialSum, AveragedResult> {
        private static final long serialVersionUID = 1L;
        private final WireLayout paramLayout;
        private final WireLayout stateLayout;
        private final long seed;
        private final int round;

        Average(WireLayout paramLayout, WireLayout stateLayout, long seed, int round) {
            this.paramLayout = paramLayout;
            this.stateLayout = stateLayout;
            this.seed = seed;
            this.round = round;
        }

        @Override
        public AveragedResult call(PartialSum root) {
            return root.average(paramLayout, stateLayout, seed, round);
        }
    }
}
