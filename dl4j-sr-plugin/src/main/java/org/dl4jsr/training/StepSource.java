package org.dl4jsr.training;

/**
 * Where a bound block gets the optimizer step its update belongs to. {@link TrainingEngine} is the one
 * implementation: it owns the step in progress, starts a new one for the block DL4J updates first, and hands the
 * current one to the others.
 */
interface StepSource {

    /** The step {@code block}'s update belongs to, or null when the network's optimizer no longer uses the plugin. */
    OptimizerStep stepFor(BlockBinding block);
}
