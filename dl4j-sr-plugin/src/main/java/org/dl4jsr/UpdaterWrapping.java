package org.dl4jsr;

import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Rewrites the updaters in layer configurations: every updater that does not round its weights itself becomes a
 * {@link Bf16Updater} around it. Frozen layers and NoOp updaters are left alone. Whether every trainable parameter
 * ended up with a rounding updater is checked afterwards on the updater blocks, which covers layer types the walk
 * does not know.
 */
final class UpdaterWrapping {
    private UpdaterWrapping() {
    }

    /** Wraps the updaters under {@code layer}; returns true if anything changed. */
    static boolean wrap(Layer layer, Rounding weightRounding, long seed) {
        boolean[] changed = {false};
        LayerTree.forEachTrainableLeaf(layer, leaf -> LayerTree.mapUpdaters(leaf, u -> {
            if (u instanceof NoOp || u instanceof StochasticRoundingConfig) {
                return u;
            }
            changed[0] = true;
            return new Bf16Updater(u, weightRounding, seed);
        }));
        return changed[0];
    }
}
