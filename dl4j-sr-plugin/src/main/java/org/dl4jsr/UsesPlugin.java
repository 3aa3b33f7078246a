package org.dl4jsr;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.Layer;

/** Whether a network's configuration uses the plugin's updaters (and so must be attached to train). */
final class UsesPlugin {
    private UsesPlugin() {
    }

    static boolean of(Model model) {
        boolean[] found = {false};
        for (Layer layer : NetworkConfig.live(model).layers()) {
            LayerTree.forEachTrainableLeaf(layer, leaf -> found[0] |= LayerTree.weightUpdater(leaf)
                    instanceof StochasticRoundingConfig || LayerTree.biasUpdater(leaf) instanceof StochasticRoundingConfig);
        }
        return found[0];
    }
}
