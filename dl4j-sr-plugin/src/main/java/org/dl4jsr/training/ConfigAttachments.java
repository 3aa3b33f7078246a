package org.dl4jsr.training;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The attachments of the networks whose configuration holds one stochastic-rounding updater configuration object
 * (usually one network). DL4J rebuilds a network's updater from its configuration objects (setLearningRate,
 * setUpdater, ...); the new GradientUpdaters know only their configuration, and find here the attachment of the
 * network they update, which binds them (see {@link TrainingEngine#rebindFor}). Not configuration: never serialised or
 * cloned, so a copy of a network (clone, JSON, ModelSerializer) starts unattached.
 */
public final class ConfigAttachments {
    private final List<TrainingEngine> attachments = new ArrayList<>();

    /** Records {@code a}, replacing an earlier attachment of the same network. */
    synchronized void add(TrainingEngine a) {
        attachments.removeIf(x -> root(x.gradientsOrNull()) == root(a.gradientsOrNull()));
        attachments.add(a);
    }

    /** The attachment of the network whose flat gradient array {@code gradient} is a view of, or null. */
    synchronized TrainingEngine owning(INDArray gradient) {
        DataBuffer g = root(gradient);
        for (TrainingEngine a : attachments) {
            if (g != null && root(a.gradientsOrNull()) == g) {
                return a;
            }
        }
        return null;
    }

    private static DataBuffer root(INDArray a) {
        if (a == null) {
            return null;
        }
        DataBuffer b = a.data();
        return b.originalDataBuffer() != null ? b.originalDataBuffer() : b;
    }
}
