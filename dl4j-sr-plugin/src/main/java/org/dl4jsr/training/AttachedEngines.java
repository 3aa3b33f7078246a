package org.dl4jsr.training;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The training engines of the networks attached in this JVM, held weakly: an engine lives as long as its network
 * (whose optimizer runs the engine's step function), and this registry never keeps a network alive.
 *
 * <p>Why it exists: DL4J rebuilds a network's updater from its configuration (setLearningRate, setUpdater, ...). The new
 * GradientUpdaters know only their configuration and the gradient view DL4J hands them; they find here the engine of
 * the network that gradient belongs to, which binds them again ({@link TrainingEngine#rebindFor}). Nothing is stored in
 * the updater configurations, so a copy of a network (clone, JSON, ModelSerializer) has its own gradient array and
 * starts unattached.
 */
final class AttachedEngines {
    private static final List<WeakReference<TrainingEngine>> ENGINES = new ArrayList<>();

    private AttachedEngines() {
    }

    /** Records {@code engine}, replacing an earlier engine of the same network and forgetting collected ones. */
    static synchronized void register(TrainingEngine engine) {
        ENGINES.removeIf(r -> {
            TrainingEngine e = r.get(); // read once: the collector may clear it between two reads
            return e == null || e.model() == engine.model();
        });
        ENGINES.add(new WeakReference<>(engine));
    }

    /** The engine of the network whose flat gradient array {@code gradient} is a view of, or null. */
    static synchronized TrainingEngine owning(INDArray gradient) {
        DataBuffer g = root(gradient);
        for (WeakReference<TrainingEngine> r : ENGINES) {
            TrainingEngine engine = r.get();
            if (g != null && engine != null && root(engine.gradientsOrNull()) == g) {
                return engine;
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
