package org.dl4jsr.network;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * Walks layer configurations down to the layers that own parameters (through wrappers such as LastTimeStep,
 * MaskZeroLayer, TimeDistributed and Bidirectional), and reads or rewrites their updaters and regularisation (DL4J
 * declares both separately on BaseLayer and on SameDiff layers). Frozen layers never train;
 * but DL4J builds its updater blocks from the updater a {@code FrozenLayerWithBackprop}'s inner layer carries (a
 * {@code FrozenLayer} gets NoOp), so code that rewrites updaters must rewrite those too ({@link #forEachUpdaterLeaf})
 * or the blocks, and with them the layout of the updater state, change. The plugin leaves their parameters alone
 * ({@link FrozenParameters}).
 */
public final class LayerTree {
    private LayerTree() {
    }

    /** Calls {@code visitor} on every non-frozen leaf layer configuration under {@code layer}. */
    public static void forEachTrainableLeaf(Layer layer, Consumer<Layer> visitor) {
        forEachLeaf(layer, false, visitor);
    }

    /**
     * Calls {@code visitor} on every leaf whose updaters DL4J uses to build its updater blocks: the trainable leaves
     * and the layers inside {@code FrozenLayerWithBackprop} (not {@code FrozenLayer}, whose parameters get NoOp).
     */
    public static void forEachUpdaterLeaf(Layer layer, Consumer<Layer> visitor) {
        forEachLeaf(layer, true, visitor);
    }

    /**
     * Calls {@code visitor} on every leaf that back-propagates: the same leaves as {@link #forEachUpdaterLeaf} (a
     * {@code FrozenLayerWithBackprop} back-propagates through its layer; a {@code FrozenLayer} back-propagates nothing).
     */
    public static void forEachBackpropLeaf(Layer layer, Consumer<Layer> visitor) {
        forEachLeaf(layer, true, visitor);
    }

    /** The walk: through wrappers and both directions of a Bidirectional; never into a FrozenLayer. */
    private static void forEachLeaf(Layer layer, boolean intoFrozenWithBackprop, Consumer<Layer> visitor) {
        if (layer == null || layer instanceof FrozenLayer
                || (layer instanceof FrozenLayerWithBackprop && !intoFrozenWithBackprop)) {
            return;
        }
        if (layer instanceof BaseWrapperLayer) {
            forEachLeaf(((BaseWrapperLayer) layer).getUnderlying(), intoFrozenWithBackprop, visitor);
        } else if (layer instanceof Bidirectional) {
            forEachLeaf(((Bidirectional) layer).getFwd(), intoFrozenWithBackprop, visitor);
            forEachLeaf(((Bidirectional) layer).getBwd(), intoFrozenWithBackprop, visitor);
        } else {
            visitor.accept(layer);
        }
    }

    /** True for the layer types that carry their own updaters (BaseLayer and SameDiff layers). */
    public static boolean hasUpdaters(Layer leaf) {
        return leaf instanceof BaseLayer || leaf instanceof AbstractSameDiffLayer;
    }

    /** The weight updater of a leaf layer (null if unset or the layer has none). */
    public static IUpdater weightUpdater(Layer leaf) {
        if (leaf instanceof BaseLayer) {
            return ((BaseLayer) leaf).getIUpdater();
        }
        return leaf instanceof AbstractSameDiffLayer ? ((AbstractSameDiffLayer) leaf).getUpdater() : null;
    }

    /** The bias updater of a leaf layer; null means "same as the weight updater". */
    public static IUpdater biasUpdater(Layer leaf) {
        if (leaf instanceof BaseLayer) {
            return ((BaseLayer) leaf).getBiasUpdater();
        }
        return leaf instanceof AbstractSameDiffLayer ? ((AbstractSameDiffLayer) leaf).getBiasUpdater() : null;
    }

    public static void setUpdaters(Layer leaf, IUpdater weights, IUpdater bias) {
        if (leaf instanceof BaseLayer) {
            ((BaseLayer) leaf).setIUpdater(weights);
            ((BaseLayer) leaf).setBiasUpdater(bias);
        } else if (leaf instanceof AbstractSameDiffLayer) {
            ((AbstractSameDiffLayer) leaf).setUpdater(weights);
            ((AbstractSameDiffLayer) leaf).setBiasUpdater(bias);
        }
    }

    /** Replaces the weight and bias updaters of a leaf layer with {@code mapping(updater)} (null stays null). */
    public static void mapUpdaters(Layer leaf, UnaryOperator<IUpdater> mapping) {
        IUpdater weights = weightUpdater(leaf);
        IUpdater bias = biasUpdater(leaf);
        setUpdaters(leaf, weights == null ? null : mapping.apply(weights), bias == null ? null : mapping.apply(bias));
    }

    /** The weight ({@code bias} false) or bias regularisation of a leaf layer (null if unset or the layer has none). */
    public static List<Regularization> regularization(Layer leaf, boolean bias) {
        if (leaf instanceof BaseLayer) {
            return bias ? ((BaseLayer) leaf).getRegularizationBias() : ((BaseLayer) leaf).getRegularization();
        }
        if (leaf instanceof AbstractSameDiffLayer) {
            AbstractSameDiffLayer l = (AbstractSameDiffLayer) leaf;
            return bias ? l.getRegularizationBias() : l.getRegularization();
        }
        return null;
    }

    /** Sets the weight ({@code bias} false) or bias regularisation of a leaf layer (no-op if the layer has none). */
    public static void setRegularization(Layer leaf, boolean bias, List<Regularization> regs) {
        if (leaf instanceof BaseLayer) {
            if (bias) {
                ((BaseLayer) leaf).setRegularizationBias(regs);
            } else {
                ((BaseLayer) leaf).setRegularization(regs);
            }
        } else if (leaf instanceof AbstractSameDiffLayer) {
            if (bias) {
                ((AbstractSameDiffLayer) leaf).setRegularizationBias(regs);
            } else {
                ((AbstractSameDiffLayer) leaf).setRegularization(regs);
            }
        }
    }
}
