package org.dl4jsr;

import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Rewrites the updaters in layer configurations: every updater that does not round its weights itself becomes a
 * {@link Bf16Updater} around it. Frozen layers and NoOp updaters are left alone. Whether every trainable parameter
 * ended up with a rounding updater is checked afterwards on the updater blocks, which covers layer types this class
 * does not know.
 */
final class UpdaterWrapping {
    private UpdaterWrapping() {
    }

    /** Wraps the updaters of {@code layer} (and of layers it wraps); returns true if anything changed. */
    static boolean wrap(Layer layer, UnaryOperator<IUpdater> wrapper) {
        if (layer == null || layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop) {
            return false;
        }
        if (layer instanceof BaseLayer) {
            BaseLayer l = (BaseLayer) layer;
            IUpdater weights = wrapOne(l.getIUpdater(), wrapper);
            IUpdater bias = wrapOne(l.getBiasUpdater(), wrapper);
            boolean changed = weights != l.getIUpdater() || bias != l.getBiasUpdater();
            l.setIUpdater(weights);
            l.setBiasUpdater(bias);
            return changed;
        }
        if (layer instanceof AbstractSameDiffLayer) {
            AbstractSameDiffLayer l = (AbstractSameDiffLayer) layer;
            IUpdater weights = wrapOne(l.getUpdater(), wrapper);
            IUpdater bias = wrapOne(l.getBiasUpdater(), wrapper);
            boolean changed = weights != l.getUpdater() || bias != l.getBiasUpdater();
            l.setUpdater(weights);
            l.setBiasUpdater(bias);
            return changed;
        }
        if (layer instanceof BaseWrapperLayer) {
            return wrap(((BaseWrapperLayer) layer).getUnderlying(), wrapper);
        }
        if (layer instanceof Bidirectional) {
            Bidirectional b = (Bidirectional) layer;
            boolean fwd = wrap(b.getFwd(), wrapper);
            boolean bwd = wrap(b.getBwd(), wrapper);
            return fwd || bwd;
        }
        return false;
    }

    private static IUpdater wrapOne(IUpdater updater, UnaryOperator<IUpdater> wrapper) {
        if (updater == null || updater instanceof NoOp || updater instanceof StochasticRoundingConfig) {
            return updater;
        }
        return wrapper.apply(updater);
    }
}
