package org.dl4jsr.training;

import java.util.List;

/**
 * Where one updater block sits in its attached network: parameter offsets [start, start + length), the ranges of it
 * the plugin writes (all of it unless it holds frozen parameters, see {@code network.FrozenParameters}), the seed of
 * its rounding bits, and where it gets the current {@link OptimizerStep} (the {@link StepSource}: the engine).
 */
public final class BlockBinding {
    private final StepSource steps;
    private final int index;
    private final long start;
    private final long length;
    private final long seed;
    private final boolean startsStep;
    private final boolean postUpdaterRegularization;
    private final long[][] written;

    BlockBinding(StepSource steps, int index, long start, long length, List<long[]> written, long seed,
                 boolean startsStep, boolean postUpdaterRegularization) {
        this.written = written.toArray(new long[0][]);
        this.steps = steps;
        this.index = index;
        this.start = start;
        this.length = length;
        this.seed = seed;
        this.startsStep = startsStep;
        this.postUpdaterRegularization = postUpdaterRegularization;
    }

    /**
     * The optimizer step this block's update belongs to: a new one for the block DL4J updates first in every step,
     * the current one for the others. Null when the network's optimizer no longer uses the plugin.
     */
    OptimizerStep step() {
        return steps.stepFor(this);
    }

    int index() {
        return index;
    }

    public long start() {
        return start;
    }

    public long length() {
        return length;
    }

    /**
     * The [start, end) ranges of the network's flat parameters this block's updater may change: the whole block,
     * except the parameters of frozen layers DL4J placed in it, which are never rounded or updated.
     */
    long[][] writtenRanges() {
        return written;
    }

    /** True when the block holds no frozen parameter (its updater may treat it as one range). */
    boolean isWholeBlockWritten() {
        return written.length == 1 && written[0][0] == start && written[0][1] == start + length;
    }

    /** Seed of this block's rounding bits (the attach seed unless the updater configuration sets its own). */
    public long seed() {
        return seed;
    }

    /** True for the block DL4J updates first in every step: its call starts the step. */
    boolean startsStep() {
        return startsStep;
    }

    /** True when DL4J adds something (e.g. WeightDecay regularisation) to this block's update after the updater. */
    boolean hasPostUpdaterRegularization() {
        return postUpdaterRegularization;
    }
}
