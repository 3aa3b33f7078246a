package org.dl4jsr.spark;

import java.io.Serializable;
import java.util.Collection;
import org.dl4jsr.averaging.WireArray;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StorageMetaData;

/**
 * What one worker sends back to the driver at the end of an averaging round: its parameters and updater state in
 * their wire form, its last score, and what its listeners recorded (as DL4J's master collects them).
 */
public final class Bf16WorkerResult implements Serializable {
    private static final long serialVersionUID = 1L;

    final WireArray params;
    /** Null unless the master averages updater state ({@code saveUpdater}). */
    final WireArray state;
    final double score;
    final Collection<StorageMetaData> listenerMetaData;
    final Collection<Persistable> listenerStaticInfo;
    final Collection<Persistable> listenerUpdates;

    Bf16WorkerResult(WireArray params, WireArray state, double score, Collection<StorageMetaData> listenerMetaData,
                     Collection<Persistable> listenerStaticInfo, Collection<Persistable> listenerUpdates) {
        this.params = params;
        this.state = state;
        this.score = score;
        this.listenerMetaData = listenerMetaData;
        this.listenerStaticInfo = listenerStaticInfo;
        this.listenerUpdates = listenerUpdates;
    }

    /** The score and listener records alone (what travels up the summation tree besides the sums). */
    Bf16WorkerResult withoutArrays() {
        return new Bf16WorkerResult(null, null, score, listenerMetaData, listenerStaticInfo, listenerUpdates);
    }
}
