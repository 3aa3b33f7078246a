package org.dl4jsr.spark;

import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;

/**
 * The worker-side result of {@link Bf16ParameterAveragingWorker}: a {@link ParameterAveragingTrainingResult} (so that
 * DL4J's worker functions can return it) carrying the {@link Bf16WorkerResult} that is shipped to the driver. Its
 * own FP32 parameter and state fields stay null: nothing travels in FP32.
 */
public final class Bf16TrainingResult extends ParameterAveragingTrainingResult {
    private final Bf16WorkerResult wire;

    Bf16TrainingResult(Bf16WorkerResult wire) {
        super(null, null, wire == null ? 0.0 : wire.score, null, null, null);
        this.wire = wire;
    }

    /** The result in wire form, or null for a worker that had no data this round. */
    public Bf16WorkerResult getWire() {
        return wire;
    }
}
