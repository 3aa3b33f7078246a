package org.dl4jsr.training;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.dl4jsr.network.LayerTree;
import org.dl4jsr.network.Network;

/** Whether a network's configuration uses the plugin's updaters (and so must be attached to train). */
public final class UsesPlugin {
    private UsesPlugin() {
    }

    public static boolean of(Model model) {
        boolean[] found = {false};
        for (Layer layer : Network.of(model).layerConfigs()) {
            LayerTree.forEachTrainableLeaf(layer, leaf -> found[0] |= LayerTree.weightUpdater(leaf)
                    instanceof StochasticRoundingConfig || LayerTree.biasUpdater(leaf) instanceof StochasticRoundingConfig);
        }
        return found[0];
    }
}
