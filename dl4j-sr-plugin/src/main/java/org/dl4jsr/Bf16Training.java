package org.dl4jsr;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.network.Network;
import org.dl4jsr.training.TrainingEngine;

/**
 * The plugin's entry point. After {@code Bf16Training.attach(net)}:
 * <ul>
 * <li>every weight is on the BF16 grid (rounded to nearest at attach unless {@link Bf16Options} says otherwise);</li>
 * <li>every update, whatever the DL4J updater, is applied as {@code x = SR(x - update)} in FP32, so weights stay on
 * the grid; {@link AdamWSR} layers run fused and keep their moments in BF16;</li>
 * <li>NoOp and frozen parameters are left to DL4J, untouched.</li>
 * </ul>
 * Updaters that do not round by themselves are wrapped in {@link Bf16Rounded} in the network's configuration, so
 * clones and restored copies know they need the plugin and refuse to {@code fit} until attached.
 */
public final class Bf16Training {
    private Bf16Training() {
    }

    public static Bf16Attachment attach(MultiLayerNetwork net) {
        return attach(net, Bf16Options.defaults());
    }

    public static Bf16Attachment attach(MultiLayerNetwork net, Bf16Options options) {
        return attachModel(net, options);
    }

    public static Bf16Attachment attach(ComputationGraph net) {
        return attach(net, Bf16Options.defaults());
    }

    public static Bf16Attachment attach(ComputationGraph net, Bf16Options options) {
        return attachModel(net, options);
    }

    /** {@link #attach} for code that holds either network type as a DL4J {@link Model}. */
    public static Bf16Attachment attachModel(Model net, Bf16Options options) {
        if (options == null) {
            throw new IllegalArgumentException("Bf16Options must not be null: use Bf16Training.attach(net) for the"
                    + " defaults, or Bf16Options.builder()...build()");
        }
        Network network = Network.of(net);
        return new Bf16Attachment(TrainingEngine.attach(network, options.settings(),
                options.getKernels().select(options.getThreads()),
                updater -> Bf16Rounded.wrap(updater, options.getWeightRounding())));
    }

}
