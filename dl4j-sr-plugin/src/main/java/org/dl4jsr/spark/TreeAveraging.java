package org.dl4jsr.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.averaging.WireLayout;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
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
     * Spark job starts here). No partition: an empty result. The steps are Spark functions (serialisable lambdas)
     * that capture only the tree, the layouts and the round's key.
     */
    static AveragedResult average(JavaRDD<Bf16WorkerResult> results, int depth, WireLayout paramLayout,
                                  WireLayout stateLayout, long seed, int round) {
        int partitions = results.getNumPartitions();
        if (partitions == 0) {
            return new AveragedResult(null, null, Collections.emptyList());
        }
        SumTree tree = SumTree.of(partitions, depth);
        // level 0, in the training task: the partition's workers as one partial sum
        JavaRDD<PartialSum> level = results.mapPartitionsWithIndex((partition, workers) -> Collections.singletonList(
                PartialSum.ofPartition(partition, workers, paramLayout, stateLayout)).iterator(), true);
        for (int l = 0; l < tree.levels(); l++) {
            int below = l;
            // a node of the next level: its children added in position order
            level = level.mapToPair(s -> new Tuple2<>(s.position, s))
                    .partitionBy(new ToParent(tree, below))
                    .mapPartitionsWithIndex((position, children) -> {
                        List<PartialSum> list = new ArrayList<>();
                        children.forEachRemaining(c -> list.add(c._2()));
                        return Collections.singletonList(PartialSum.combine(tree, below, position, list, paramLayout,
                                stateLayout)).iterator();
                    }, true);
        }
        // the root's average, rounded on the executor that holds the root
        List<AveragedResult> top = level.map(root -> root.average(paramLayout, stateLayout, seed, round)).collect();
        if (top.size() != 1) {
            throw new IllegalStateException("The summation tree ended in " + top.size() + " sums (" + tree + ")");
        }
        return top.get(0);
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
}
