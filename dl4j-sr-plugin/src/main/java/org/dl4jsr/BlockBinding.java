package org.dl4jsr;

import org.dl4jsr.kernel.Kernels;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Where one updater block sits in its attached network: parameter offsets [start, start + length). */
final class BlockBinding {
    private final Bf16Attachment attachment;
    private final long start;
    private final long length;
    private final boolean startsPass;
    private final boolean postUpdaterRegularization;

    BlockBinding(Bf16Attachment attachment, long start, long length, boolean startsPass,
                 boolean postUpdaterRegularization) {
        this.attachment = attachment;
        this.start = start;
        this.length = length;
        this.startsPass = startsPass;
        this.postUpdaterRegularization = postUpdaterRegularization;
    }

    Bf16Attachment attachment() {
        return attachment;
    }

    long start() {
        return start;
    }

    long length() {
        return length;
    }

    /** True for the block DL4J updates first in every step: its call starts the step's pass. */
    boolean startsPass() {
        return startsPass;
    }

    /** True when DL4J adds something (e.g. WeightDecay regularisation) to this block's update after the updater. */
    boolean hasPostUpdaterRegularization() {
        return postUpdaterRegularization;
    }

    Kernels kernels() {
        return attachment.kernels();
    }

    INDArray params() {
        return attachment.params();
    }

    INDArray gradients() {
        return attachment.gradients();
    }
}
