package org.dl4jsr.training;

/**
 * Thrown at the first {@code fit} of a network whose configuration uses stochastic-rounding updaters but which is not
 * attached (never attached, or a copy/rebuild that lost its attachment). Nothing has been updated when it is thrown.
 */
public final class Bf16NotAttachedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Bf16NotAttachedException(Object updaterConfig) {
        super("This network is configured for BF16 stochastic-rounding training (" + updaterConfig + ") but is not"
                + " attached: call Bf16Training.attach(net) before fit(). A network loses its attachment when DL4J builds"
                + " a new network or optimizer from the configuration: clone(), ModelSerializer.restore..., convertDataType,"
                + " MultiLayerNetwork.clear() (drops DL4J's optimizer and its state), EarlyStoppingTrainer's best model"
                + " (use org.dl4jsr.Bf16ModelSaver), or replicas made by ParallelWrapper or Spark; attach the new network"
                + " too (setLearningRate and setUpdater keep the attachment)"
                + " (Spark: train with org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster; ParallelWrapper: call"
                + " org.dl4jsr.parallel.Bf16ParallelWrapper.attach(wrapper) before fit).");
    }
}
