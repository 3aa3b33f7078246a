package org.dl4jsr.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.dl4jsr.averaging.Bf16Averaging;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;

/**
 * The FP32 sum of the parameters (and updater states) of the workers of a contiguous range of partitions: one node of
 * the {@link SumTree}, built on an executor and shipped to the next level.
 *
 * <p>What a node travels as: a range with one worker keeps that worker's wire form (lossless; 2 bytes per BF16 value,
 * 4 per FP32 value), a range with more carries FP32 sums (4 bytes per value: 12 bytes per parameter with AdamWSR,
 * 16 with compact state). A range without data (imbalanced split) carries nothing.
 *
 * <p>Arithmetic (the only place the Spark master adds): the sum of one worker is its values as FP32; the sum of a
 * node is its children's sums added left to right in position order, the first child's sum being the start value.
 * The per-worker score and listener records travel along, in partition order.
 */
final class PartialSum implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Position at its level of the tree (level 0: the partition index). */
    final int position;
    /** Workers with data in the range. */
    final int replicas;
    /** Exactly one worker: its arrays in wire form (state null unless averaged). */
    private final WireArray paramsWire;
    private final WireArray stateWire;
    /** Two or more workers: FP32 sums in value order (state null unless averaged). */
    private final float[] paramSums;
    private final float[] stateSums;
    /** Score and listener records of each worker, in partition order, without arrays. */
    final List<Bf16WorkerResult> reports;

    private PartialSum(int position, int replicas, WireArray paramsWire, WireArray stateWire, float[] paramSums,
                       float[] stateSums, List<Bf16WorkerResult> reports) {
        this.position = position;
        this.replicas = replicas;
        this.paramsWire = paramsWire;
        this.stateWire = stateWire;
        this.paramSums = paramSums;
        this.stateSums = stateSums;
        this.reports = reports;
    }

    /**
     * The leaf of partition {@code partition}: the sum of its workers' results in iterator order (DL4J's worker gives
     * one per partition; null for a worker without data). {@code stateLayout}: null unless updater state is averaged.
     */
    static PartialSum ofPartition(int partition, Iterator<Bf16WorkerResult> results, WireLayout paramLayout,
                                  WireLayout stateLayout) {
        List<Bf16WorkerResult> withData = new ArrayList<>();
        while (results.hasNext()) {
            Bf16WorkerResult r = results.next();
            if (r == null) {
                continue;
            }
            if (stateLayout != null && r.state == null) {
                throw new IllegalStateException("A worker returned no updater state although saveUpdater is set");
            }
            withData.add(r);
        }
        List<Bf16WorkerResult> reports = new ArrayList<>();
        for (Bf16WorkerResult r : withData) {
            reports.add(r.withoutArrays());
        }
        if (withData.size() <= 1) {
            Bf16WorkerResult only = withData.isEmpty() ? null : withData.get(0);
            return new PartialSum(partition, withData.size(), only == null ? null : only.params,
                    only == null || stateLayout == null ? null : only.state, null, null, reports);
        }
        float[] params = WireArray.newSums(paramLayout);
        float[] state = stateLayout == null ? null : WireArray.newSums(stateLayout);
        for (Bf16WorkerResult r : withData) {
            r.params.addValuesTo(params, paramLayout);
            if (state != null) {
                r.state.addValuesTo(state, stateLayout);
            }
        }
        return new PartialSum(partition, withData.size(), null, null, params, state, reports);
    }

    /**
     * Node {@code position} of level {@code level + 1}: the sum of its children at {@code level}, which must be exactly
     * the positions {@code tree.firstChild(position)} onwards ({@code tree.children(level, position)} of them), in any
     * order: they are added in position order.
     */
    static PartialSum combine(SumTree tree, int level, int position, List<PartialSum> children,
                              WireLayout paramLayout, WireLayout stateLayout) {
        List<PartialSum> ordered = new ArrayList<>(children);
        ordered.sort(Comparator.comparingInt(c -> c.position));
        int first = tree.firstChild(position);
        int expected = tree.children(level, position);
        boolean complete = ordered.size() == expected;
        for (int i = 0; complete && i < expected; i++) {
            complete = ordered.get(i).position == first + i;
        }
        if (!complete) { // Spark delivers every map output exactly once; this would be a bug, never rounded over
            throw new IllegalStateException("Partial sums of level " + level + " for node " + position + " are at "
                    + positions(ordered) + ", expected " + expected + " starting at " + first + " (" + tree + ")");
        }
        float[] params = null;
        float[] state = null;
        int replicas = 0;
        List<Bf16WorkerResult> reports = new ArrayList<>();
        for (PartialSum c : ordered) {
            reports.addAll(c.reports);
            if (c.replicas == 0) {
                continue;
            }
            replicas += c.replicas;
            params = c.addParams(params, paramLayout);
            if (stateLayout != null) {
                state = c.addState(state, stateLayout);
            }
        }
        return new PartialSum(position, replicas, null, null, params, state, reports);
    }

    /** The average of the whole tree (this must be its root), rounded with the key (seed, round). */
    AveragedResult average(WireLayout paramLayout, WireLayout stateLayout, long seed, int round) {
        if (replicas == 0) {
            return new AveragedResult(null, null, reports);
        }
        WireArray params = Bf16Averaging.round(addParams(null, paramLayout), replicas, paramLayout,
                Bf16Averaging.PARAMS_STREAM, seed, round);
        WireArray state = stateLayout == null ? null : Bf16Averaging.round(addState(null, stateLayout), replicas,
                stateLayout, Bf16Averaging.STATE_STREAM, seed, round);
        return new AveragedResult(params, state, reports);
    }

    /** {@code sums + this} in FP32 ({@code sums} null: a new array holding this node's sums). */
    private float[] addParams(float[] sums, WireLayout layout) {
        return add(sums, paramsWire, paramSums, layout);
    }

    private float[] addState(float[] sums, WireLayout layout) {
        return add(sums, stateWire, stateSums, layout);
    }

    private static float[] add(float[] sums, WireArray wire, float[] own, WireLayout layout) {
        if (sums == null) {
            if (own != null) {
                return own.clone();
            }
            float[] start = WireArray.newSums(layout); // -0.0 + x == x for every x: the worker's values as FP32
            wire.addValuesTo(start, layout);
            return start;
        }
        if (wire != null) {
            wire.addValuesTo(sums, layout);
        } else {
            if (own.length != sums.length) {
                throw new IllegalArgumentException("Partial sums of " + own.length + " and " + sums.length + " values");
            }
            for (int i = 0; i < sums.length; i++) {
                sums[i] += own[i];
            }
        }
        return sums;
    }

    /** Bytes of the arrays this node carries (without serialisation framing). */
    long payloadBytes() {
        long bytes = 0;
        bytes += paramsWire == null ? 0 : paramsWire.payloadBytes();
        bytes += stateWire == null ? 0 : stateWire.payloadBytes();
        bytes += paramSums == null ? 0 : 4L * paramSums.length;
        bytes += stateSums == null ? 0 : 4L * stateSums.length;
        return bytes;
    }

    private static List<Integer> positions(List<PartialSum> sums) {
        List<Integer> p = new ArrayList<>();
        for (PartialSum s : sums) {
            p.add(s.position);
        }
        return p;
    }
}
