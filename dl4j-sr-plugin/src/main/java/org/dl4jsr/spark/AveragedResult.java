package org.dl4jsr.spark;

import java.io.Serializable;
import java.util.List;
import org.dl4jsr.averaging.WireArray;

/**
 * What the driver receives at the end of an averaging round: the averaged parameters and updater state, already
 * rounded onto the BF16 grid (wire form), and each worker's score and listener records in partition order. The one
 * object per round that reaches the driver, whatever the number of workers.
 */
final class AveragedResult implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Null when no worker had data this round. */
    final WireArray params;
    /** Null unless updater state is averaged (or no worker had data). */
    final WireArray state;
    /** Score and listener records of each worker with data, in partition order. */
    final List<Bf16WorkerResult> reports;

    AveragedResult(WireArray params, WireArray state, List<Bf16WorkerResult> reports) {
        this.params = params;
        this.state = state;
        this.reports = reports;
    }
}
