package org.dl4jsr.network;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.updater.UpdaterBlock;

/**
 * Where DL4J's updater blocks and "which layers train" disagree. DL4J gives a {@code FrozenLayerWithBackprop} the
 * updater of the layer it wraps (only its gradient is zeroed), so its parameters sit inside an ordinary updater block,
 * next to trainable ones that share the same updater configuration. The plugin keeps DL4J's blocks as they are (the
 * updater state layout, checkpoints and conversions depend on them) and leaves the frozen parameters inside a block
 * alone: never rounded, never updated.
 */
public final class FrozenParameters {
    private FrozenParameters() {
    }

    /** True when {@code owner} (a layer of a MultiLayerNetwork or a vertex of a ComputationGraph) is frozen. */
    public static boolean isFrozen(Trainable owner) {
        Layer layer = owner instanceof GraphVertex && ((GraphVertex) owner).hasLayer()
                ? ((GraphVertex) owner).getLayer() : owner instanceof Layer ? (Layer) owner : null;
        while (layer != null) {
            if (layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop) {
                return true;
            }
            layer = layer instanceof BaseWrapperLayer ? ((BaseWrapperLayer) layer).getUnderlying() : null;
        }
        return false;
    }

    /**
     * The parameters of {@code block} that the plugin updates: [start, end) offsets into the network's flat parameter
     * array, every parameter of the block except those of frozen layers, neighbouring ranges merged. The whole block
     * in the usual case.
     */
    public static List<long[]> trainableRanges(UpdaterBlock block) {
        List<long[]> ranges = new ArrayList<>();
        for (Object o : block.getLayersAndVariablesInBlock()) {
            UpdaterBlock.ParamState p = (UpdaterBlock.ParamState) o;
            if (isFrozen(p.getLayer()) || p.getParamOffsetEnd() == p.getParamOffsetStart()) {
                continue;
            }
            long[] last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
            if (last != null && last[1] == p.getParamOffsetStart()) {
                last[1] = p.getParamOffsetEnd();
            } else {
                ranges.add(new long[] {p.getParamOffsetStart(), p.getParamOffsetEnd()});
            }
        }
        return ranges;
    }

    /** "layer/param" of every frozen parameter in {@code block} (empty in the usual case). */
    public static List<String> frozenNames(UpdaterBlock block) {
        List<String> names = new ArrayList<>();
        for (Object o : block.getLayersAndVariablesInBlock()) {
            UpdaterBlock.ParamState p = (UpdaterBlock.ParamState) o;
            if (isFrozen(p.getLayer())) {
                names.add(p.getLayer().getConfig().getLayerName() + "/" + p.getParamName());
            }
        }
        return names;
    }
}
