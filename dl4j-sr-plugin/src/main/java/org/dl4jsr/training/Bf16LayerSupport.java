package org.dl4jsr.training;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.AbstractLSTM;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer;
import org.dl4jsr.network.LayerTree;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which layers of a BFLOAT16 network can back-propagate on the current ND4J backend. An activation is a problem when
 * ND4J has no BF16 backprop kernel for it ({@link Bf16Activations} asks the backend): on a BaseLayer, as an LSTM's
 * gate activation, or as an {@link ActivationLayer} of its own. The converter computes those in FP32
 * ({@code Fp32Activation}); a layer that hard-codes such an activation in its own code (Yolo2OutputLayer's sigmoid)
 * cannot be fixed that way and is refused. The layers that back-propagate are walked by
 * {@code LayerTree.forEachBackpropLeaf}.
 */
public final class Bf16LayerSupport {
    private Bf16LayerSupport() {
    }

    /** The activation a layer applies itself in code (not configurable, so not wrappable), or null. */
    public static IActivation hardCodedActivation(Layer leaf) {
        return leaf instanceof Yolo2OutputLayer ? new ActivationSigmoid() : null;
    }

    /**
     * Refuses a layer whose hard-coded activation has no BF16 backprop on this backend (conversion to a BFLOAT16
     * network could not make it trainable).
     */
    public static void refuseHardCodedActivation(Layer leaf) {
        IActivation act = hardCodedActivation(leaf);
        if (act != null && !Bf16Activations.backpropagatesInBf16(act)) {
            throw new IllegalArgumentException("Layer '" + leaf.getLayerName() + "' (" + leaf.getClass().getSimpleName()
                    + ") applies " + act + " in its own code, and ND4J's " + backend() + " has no BF16 backprop for it,"
                    + " so a BFLOAT16 network with this layer cannot train. Use Bf16Converter.toBf16Grid (a FLOAT network"
                    + " with its weights on the BF16 grid; the CPU default) for this model.");
        }
    }

    /**
     * For {@code Bf16Training.attach}: a BFLOAT16 network is refused when a layer's backprop cannot run in BF16 here,
     * naming every such layer, instead of failing inside fit with "Op [..._bp] execution failed". FLOAT networks
     * always pass (their compute is FP32).
     */
    public static void requireBackpropIn(DataType type, List<Layer> layers) {
        if (type != DataType.BFLOAT16) {
            return;
        }
        List<String> wrappable = new ArrayList<>();
        List<String> hardCoded = new ArrayList<>();
        for (Layer layer : layers) {
            LayerTree.forEachBackpropLeaf(layer, leaf -> {
                // The outer layer's name: the one the user gave (a wrapper's inner layer may carry another).
                String name = "'" + layer.getLayerName() + "' (" + leaf.getClass().getSimpleName() + ")";
                for (IActivation act : activations(leaf)) {
                    if (!Bf16Activations.backpropagatesInBf16(act)) { // an Fp32Activation wrapper passes: it computes in FP32
                        wrappable.add(name + ": " + act);
                    }
                }
                IActivation own = hardCodedActivation(leaf);
                if (own != null && !Bf16Activations.backpropagatesInBf16(own)) {
                    hardCoded.add(name + ": " + own + " in the layer's own code");
                }
            });
        }
        if (wrappable.isEmpty() && hardCoded.isEmpty()) {
            return;
        }
        StringBuilder m = new StringBuilder("This BFLOAT16 network has layers whose backprop ND4J's " + backend()
                + " cannot run in BF16 (fit would fail with \"Op [..._bp] execution failed\"):");
        if (!wrappable.isEmpty()) {
            m.append("\n  activations ").append(String.join(", ", wrappable)).append(".\n  Build the network as FLOAT and"
                    + " convert it with Bf16Converter.toBfloat16(net), which computes these activations in FP32"
                    + " (Fp32Activation), or wrap them in Fp32Activation yourself.");
        }
        if (!hardCoded.isEmpty()) {
            m.append("\n  hard-coded ").append(String.join(", ", hardCoded)).append(".\n  No conversion makes these"
                    + " trainable in a BFLOAT16 network: train a FLOAT network attached with Bf16Training.attach (or"
                    + " converted with Bf16Converter.toBf16Grid), which keeps its weights on the BF16 grid.");
        }
        throw new IllegalArgumentException(m.toString());
    }

    /** The configurable activations a leaf layer back-propagates through. */
    public static List<IActivation> activations(Layer leaf) {
        List<IActivation> out = new ArrayList<>();
        if (leaf instanceof BaseLayer && ((BaseLayer) leaf).getActivationFn() != null) {
            out.add(((BaseLayer) leaf).getActivationFn());
        }
        if (leaf instanceof AbstractLSTM && ((AbstractLSTM) leaf).getGateActivationFn() != null) {
            out.add(((AbstractLSTM) leaf).getGateActivationFn());
        }
        if (leaf instanceof ActivationLayer && ((ActivationLayer) leaf).getActivationFn() != null) {
            out.add(((ActivationLayer) leaf).getActivationFn());
        }
        return out;
    }

    private static String backend() {
        return Nd4j.getBackend().getClass().getSimpleName();
    }
}
