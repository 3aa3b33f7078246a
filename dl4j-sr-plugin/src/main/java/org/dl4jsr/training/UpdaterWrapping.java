package org.dl4jsr.training;

import java.util.List;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.dl4jsr.network.LayerTree;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Rewrites the updaters in layer configurations: every updater that does not round its weights itself is replaced
 * by {@code wrapper(updater)} (the API's {@code Bf16Rounded}). NoOp updaters (and FrozenLayer, which DL4J gives NoOp)
 * are left alone; the layer inside a FrozenLayerWithBackprop is wrapped like its neighbours so that DL4J's updater
 * blocks stay as they were (its parameters are left alone by the step, see FrozenParameters). Whether
 * every trainable parameter ended up with a rounding updater is checked afterwards on the updater blocks, which
 * covers layer types the walk does not know.
 */
final class UpdaterWrapping {
    private UpdaterWrapping() {
    }

    /**
     * Wraps the updaters under {@code layer}. For every leaf it changes, adds to {@code undo} an action that puts the
     * original updaters back (used when attach fails, so a failed attach leaves the configuration as it was).
     */
    static void wrap(Layer layer, UnaryOperator<IUpdater> wrapper, List<Runnable> undo) {
        LayerTree.forEachUpdaterLeaf(layer, leaf -> {
            IUpdater weights = LayerTree.weightUpdater(leaf);
            IUpdater bias = LayerTree.biasUpdater(leaf);
            LayerTree.mapUpdaters(leaf, u -> u instanceof NoOp || u instanceof StochasticRoundingConfig ? u
                    : wrapper.apply(u));
            if (LayerTree.weightUpdater(leaf) != weights || LayerTree.biasUpdater(leaf) != bias) {
                undo.add(() -> LayerTree.setUpdaters(leaf, weights, bias));
            }
        });
    }
}
