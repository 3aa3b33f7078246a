package org.dl4jsr.training;

import java.util.List;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.rounding.CounterRng;
import org.dl4jsr.rounding.RoundingStreams;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The state of one optimizer step of an attached network. DL4J runs a step as an updater pass over the blocks (the
 * first block's call creates this object and checks the step before anything changes), then one call of the step
 * function, which applies the update and finishes the step. Gradient sharing may apply further updates in the same
 * iteration through the step function: each application gets its own rounding stream.
 *
 * <p>Updaters get from here everything they need (kernels, arrays, keys, whether they may write the weights
 * themselves) and record here what they did (a fused pass that already wrote its block's weights).
 */
public final class OptimizerStep {
    private final StepTarget target;
    private final int iteration;
    private final boolean hasUpdaterPass;
    private final boolean updatersMayWriteWeights;
    private final boolean[] writtenByUpdater;
    private final String skipReason;
    private int applications;
    private boolean ownUpdateApplied;

    private OptimizerStep(StepTarget target, int iteration, boolean hasUpdaterPass, boolean updatersMayWriteWeights,
                          String skipReason, int applicationsSoFar) {
        this.target = target;
        this.iteration = iteration;
        this.hasUpdaterPass = hasUpdaterPass;
        this.updatersMayWriteWeights = updatersMayWriteWeights;
        this.skipReason = skipReason;
        this.writtenByUpdater = new boolean[target.blocks().size()];
        this.applications = applicationsSoFar;
    }

    /**
     * The step DL4J starts with an updater pass (plain fit): the updaters compute the update, then the step function
     * applies it. {@code updatersMayWriteWeights}: no one else needs the update array (no gradient sharing, no listener
     * reading updates), so an updater may write its block's weights itself (fused). {@code skipReason}: why the step
     * changes nothing, or null. {@code applicationsSoFar}: updates already applied in this iteration (their rounding
     * streams are used up).
     */
    static OptimizerStep afterUpdaterPass(StepTarget target, int iteration, boolean updatersMayWriteWeights,
                                          String skipReason, int applicationsSoFar) {
        return new OptimizerStep(target, iteration, true, updatersMayWriteWeights, skipReason, applicationsSoFar);
    }

    /**
     * A step without an updater pass: an update applied directly through the step function (gradient sharing applies
     * the other workers' updates this way), in full, with a fresh rounding stream.
     */
    static OptimizerStep sharedUpdateOnly(StepTarget target, int iteration) {
        return new OptimizerStep(target, iteration, false, false, null, 0);
    }

    public int iteration() {
        return iteration;
    }

    /** True when this step changes nothing (its reason: {@link #skipReason()}). */
    public boolean skipped() {
        return skipReason != null;
    }

    String skipReason() {
        return skipReason;
    }

    /** Applications of updates so far in this step's iteration. */
    int applications() {
        return applications;
    }

    public Kernels kernels() {
        return target.kernels();
    }

    /** The network's flat parameter array. */
    public INDArray params() {
        return target.params();
    }

    /** The network's flat gradient array. */
    public INDArray gradients() {
        return target.gradients();
    }

    /** True when {@code gradient} is the slice of the network's gradient array that starts at {@code start}. */
    public boolean isFlatGradientView(INDArray gradient, long start) {
        return root(gradient.data()) == root(gradients().data()) && gradient.offset() == gradients().offset() + start;
    }

    private static DataBuffer root(DataBuffer b) {
        return b.originalDataBuffer() != null ? b.originalDataBuffer() : b;
    }

    /**
     * True when the block's updater may write the weights itself in this step: nobody else needs the update array
     * (no gradient sharing, no listener reading updates, no regularisation DL4J adds after the updater, no frozen
     * parameters in the block that the step function must skip).
     */
    public boolean canWriteWeights(BlockBinding b) {
        return updatersMayWriteWeights && !b.hasPostUpdaterRegularization() && b.isWholeBlockWritten();
    }

    /** Records that the block's updater wrote its weights itself: the step function leaves the block alone. */
    public void weightsWritten(BlockBinding b) {
        writtenByUpdater[b.index()] = true;
    }

    /** Key of the rounding bits of the step's own update (application 0) for {@code seed}. */
    public long updateKey(long seed) {
        return CounterRng.key(seed, iteration, RoundingStreams.updateApplication(0));
    }

    /**
     * The step function's work: applies {@code update} to {@code params} block by block, rounded. The first call
     * after the updater pass applies the step's own update (nothing if the step is skipped; blocks whose updater
     * already wrote its weights are left alone); any further call applies a shared update in full.
     */
    void apply(INDArray params, INDArray update) {
        boolean ownUpdate = hasUpdaterPass && !ownUpdateApplied;
        ownUpdateApplied = true;
        if (ownUpdate && skipped()) {
            return;
        }
        long stream = RoundingStreams.updateApplication(applications++);
        List<BoundBlock> blocks = target.blocks();
        for (int k = 0; k < blocks.size(); k++) {
            BoundBlock block = blocks.get(k);
            if (block.isNoOp()) {
                // NoOp parameters (frozen layers, batch-norm statistics): DL4J's own step, untouched by the plugin.
                slice(params, block.start(), block.end()).subi(slice(update, block.start(), block.end()));
            } else if (!(ownUpdate && writtenByUpdater[k])) {
                SrGradientUpdater<?> updater = block.updater();
                updater.applyToWeights(this, params, update, CounterRng.key(updater.binding().seed(), iteration, stream));
            }
        }
    }

    private static INDArray slice(INDArray flat, long start, long end) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(start, end));
    }
}
