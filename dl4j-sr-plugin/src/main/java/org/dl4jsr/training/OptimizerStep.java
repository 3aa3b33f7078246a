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
    private final TrainingEngine.Blocks blocks;
    private final Kernels kernels;
    private final INDArray params;
    private final INDArray gradients;
    private final int iteration;
    private final boolean hasUpdaterPass;
    private final boolean fusable;
    private final boolean[] writtenByUpdater;
    private final String skipReason;
    private int applications;
    private boolean ownUpdateApplied;

    OptimizerStep(TrainingEngine.Blocks blocks, Kernels kernels, INDArray params, INDArray gradients, int iteration,
                  boolean hasUpdaterPass, boolean fusable, String skipReason, int firstApplication) {
        this.blocks = blocks;
        this.kernels = kernels;
        this.params = params;
        this.gradients = gradients;
        this.iteration = iteration;
        this.hasUpdaterPass = hasUpdaterPass;
        this.fusable = fusable;
        this.skipReason = skipReason;
        this.writtenByUpdater = new boolean[blocks.size()];
        this.applications = firstApplication;
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
        return kernels;
    }

    /** The network's flat parameter array. */
    public INDArray params() {
        return params;
    }

    /** The network's flat gradient array. */
    public INDArray gradients() {
        return gradients;
    }

    /** True when {@code gradient} is the slice of the network's gradient array that starts at {@code start}. */
    public boolean isFlatGradientView(INDArray gradient, long start) {
        return root(gradient.data()) == root(gradients.data()) && gradient.offset() == gradients.offset() + start;
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
        return fusable && !b.hasPostUpdaterRegularization() && b.isWholeBlockWritten();
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
        for (int k = 0; k < blocks.size(); k++) {
            SrGradientUpdater<?> updater = blocks.updater(k);
            if (updater == null) {
                // NoOp parameters (frozen layers, batch-norm statistics): DL4J's own step, untouched by the plugin.
                slice(params, blocks.start(k), blocks.end(k)).subi(slice(update, blocks.start(k), blocks.end(k)));
            } else if (!(ownUpdate && writtenByUpdater[k])) {
                updater.applyToWeights(this, params, update, CounterRng.key(updater.binding().seed(), iteration, stream));
            }
        }
    }

    private static INDArray slice(INDArray flat, long start, long end) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(start, end));
    }
}
