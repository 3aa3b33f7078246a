package org.dl4jsr.convert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.layers.AbstractLSTM;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Rounded;
import org.dl4jsr.Fp32Activation;
import org.dl4jsr.network.LayerTree;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.Bf16Activations;
import org.dl4jsr.training.Bf16LayerSupport;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * The configuration part of a conversion: every layer's updaters (DL4J's Adam to {@link AdamWSR} and back, other
 * updaters wrapped in or unwrapped from {@link Bf16Rounded}) and its activations ({@link Fp32Activation} where a
 * BFLOAT16 network needs it), rewritten in the new network's configuration before it is initialised. The updater blocks
 * DL4J builds from the rewritten configuration must have the source's layout, so that the optimizer state can be
 * carried over block by block ({@link OptimizerStateCarrier}).
 */
final class ConfigurationRewriter {
    /** Integers above 256 are not all representable in BF16 (8-bit significand). */
    private static final long MAX_BF16_INDEX = 256;

    private ConfigurationRewriter() {
    }

    /** Rewrites every layer configuration of {@code network} (not yet initialised) for {@code target}. */
    static void rewrite(Network network, ConversionTarget target, ConversionOptions o, ConversionReport report) {
        for (Layer layer : network.layerConfigs()) {
            Set<Layer> trainable = Collections.newSetFromMap(new IdentityHashMap<>());
            LayerTree.forEachTrainableLeaf(layer, trainable::add);
            // frozen-with-backprop layers too: DL4J builds its updater blocks from their updaters
            LayerTree.forEachUpdaterLeaf(layer, leaf -> rewriteLeaf(leaf, target, o, report, !trainable.contains(leaf)));
            LayerTree.forEachBackpropLeaf(layer, leaf -> convertActivations(leaf, target, report));
        }
    }

    private static void rewriteLeaf(Layer leaf, ConversionTarget target, ConversionOptions o, ConversionReport report,
                                    boolean frozen) {
        String name = leaf.getLayerName();
        String why = frozen ? " (FrozenLayerWithBackprop: rewritten only so that DL4J's updater blocks, and with them the"
                + " optimizer state, stay as they were; its parameters are left alone)" : "";
        if (LayerTree.hasUpdaters(leaf)) {
            IUpdater weights = LayerTree.weightUpdater(leaf);
            IUpdater bias = LayerTree.biasUpdater(leaf);
            IUpdater newWeights = mapUpdater(weights, target, o);
            IUpdater newBias = mapUpdater(bias, target, o);
            if (target == ConversionTarget.FP32) {
                keepDecoupledDecay(leaf, weights, bias == null ? weights : bias, report);
            } else if (hasWeightDecayRegularization(leaf)) {
                report.changed(name, "WeightDecay regularisation kept (applied after the updater, rounded once with the"
                        + " update); AdamWSR.weightDecay is the fused equivalent");
            }
            LayerTree.setUpdaters(leaf, newWeights, newBias);
            if (newWeights != weights) {
                report.changed(name, "updater " + weights + " -> " + newWeights + why);
            }
            if (newBias != bias) {
                report.changed(name, "bias updater " + bias + " -> " + newBias + why);
            }
        }
        if (target == ConversionTarget.BFLOAT16 && (leaf instanceof EmbeddingLayer
                || leaf instanceof EmbeddingSequenceLayer) && ((FeedForwardLayer) leaf).getNIn() > MAX_BF16_INDEX) {
            throw new IllegalArgumentException("Layer '" + name + "' embeds " + ((FeedForwardLayer) leaf).getNIn()
                    + " indices, but a BFLOAT16 network receives its input as BF16, which holds integers exactly only up to "
                    + MAX_BF16_INDEX + ". Use Bf16Converter.toBf16Grid (a FLOAT network on the BF16 grid) for this model.");
        }
    }

    private static IUpdater mapUpdater(IUpdater u, ConversionTarget target, ConversionOptions o) {
        if (u == null) {
            return null;
        }
        if (target == ConversionTarget.FP32) {
            if (u instanceof AdamWSR) {
                AdamWSR a = (AdamWSR) u;
                return Adam.builder().learningRate(a.getLearningRate()).learningRateSchedule(a.getLearningRateSchedule())
                        .beta1(a.getBeta1()).beta2(a.getBeta2()).epsilon(a.getEpsilon()).build();
            }
            return u instanceof Bf16Rounded ? ((Bf16Rounded) u).getUpdater() : u;
        }
        if (u instanceof NoOp || u instanceof Bf16Rounded) {
            return u;
        }
        if (u instanceof AdamWSR) {
            AdamWSR a = (AdamWSR) u;
            if (target == ConversionTarget.BFLOAT16 && a.isCompensated()) {
                throw new IllegalArgumentException("AdamWSR with weightRounding KAHAN keeps its compensation packed two"
                        + " per 32-bit slot of a FLOAT network's updater state; a BFLOAT16 network has no such slots."
                        + " Convert to Target.BF16_GRID (a FLOAT network with weights on the BF16 grid) instead");
            }
            if (target == ConversionTarget.BFLOAT16 && (a.isCompactState() || a.isMasterWeights()
                    || a.getStateRounding() == Rounding.NONE)) {
                // A BFLOAT16 network stores updater state in BF16: no 32-bit slots for packing, a master or FP32 state.
                return a.toBuilder().compactState(false).masterWeights(false)
                        .stateRounding(a.getStateRounding() == Rounding.NONE ? Rounding.STOCHASTIC : a.getStateRounding())
                        .build();
            }
            return a;
        }
        if (u instanceof Adam) {
            Adam a = (Adam) u;
            return AdamWSR.builder().learningRate(a.getLearningRate()).learningRateSchedule(a.getLearningRateSchedule())
                    .beta1(a.getBeta1()).beta2(a.getBeta2()).epsilon(a.getEpsilon()).seed(o.getSeed())
                    .stateRounding(target == ConversionTarget.BFLOAT16 && o.getStateRounding() == Rounding.NONE
                            ? Rounding.STOCHASTIC : o.getStateRounding())
                    .compactState(o.isCompactState() && target == ConversionTarget.BF16_GRID).build();
        }
        return new Bf16Rounded(u, Rounding.STOCHASTIC, o.getSeed());
    }

    /** AdamWSR's decoupled weight decay becomes DL4J's WeightDecay regularisation (same update: lr * wd * x). */
    private static void keepDecoupledDecay(Layer leaf, IUpdater weights, IUpdater bias, ConversionReport report) {
        if (weights instanceof AdamWSR && ((AdamWSR) weights).getWeightDecay() > 0) {
            double wd = ((AdamWSR) weights).getWeightDecay();
            LayerTree.setRegularization(leaf, false, withWeightDecay(LayerTree.regularization(leaf, false), wd));
            report.changed(leaf.getLayerName(), "AdamWSR weight decay " + wd + " -> WeightDecay regularisation");
        }
        if (bias instanceof AdamWSR && ((AdamWSR) bias).getWeightDecay() > 0) {
            LayerTree.setRegularization(leaf, true, withWeightDecay(LayerTree.regularization(leaf, true),
                    ((AdamWSR) bias).getWeightDecay()));
        }
    }

    private static List<Regularization> withWeightDecay(List<Regularization> current, double wd) {
        List<Regularization> list = current == null ? new ArrayList<>() : new ArrayList<>(current);
        list.add(new WeightDecay(wd, true));
        return list;
    }

    private static boolean hasWeightDecayRegularization(Layer leaf) {
        for (boolean bias : new boolean[] {false, true}) {
            List<Regularization> regs = LayerTree.regularization(leaf, bias);
            if (regs != null && regs.stream().anyMatch(r -> r instanceof WeightDecay)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Activations of every layer that back-propagates (trainable or not: an ActivationLayer has no parameters, a
     * FrozenLayerWithBackprop still back-propagates): computed in FP32 in a BFLOAT16 network where ND4J has no BF16
     * backprop for them, unwrapped otherwise.
     */
    private static void convertActivations(Layer leaf, ConversionTarget target, ConversionReport report) {
        String name = leaf.getLayerName();
        if (leaf instanceof BaseLayer) {
            BaseLayer l = (BaseLayer) leaf;
            l.setActivationFn(convertActivation(name, "activation", l.getActivationFn(), target, report));
        }
        if (leaf instanceof AbstractLSTM) {
            AbstractLSTM l = (AbstractLSTM) leaf;
            l.setGateActivationFn(convertActivation(name, "gate activation", l.getGateActivationFn(), target, report));
        }
        if (leaf instanceof ActivationLayer) {
            ActivationLayer l = (ActivationLayer) leaf;
            l.setActivationFn(convertActivation(name, "activation layer", l.getActivationFn(), target, report));
        }
        if (target == ConversionTarget.BFLOAT16) {
            Bf16LayerSupport.refuseHardCodedActivation(leaf);
        }
    }

    private static IActivation convertActivation(String layer, String what, IActivation act, ConversionTarget target,
                                                 ConversionReport report) {
        if (act == null) {
            return null;
        }
        if (target != ConversionTarget.BFLOAT16) {
            return act instanceof Fp32Activation ? ((Fp32Activation) act).getActivation() : act;
        }
        if (act instanceof Fp32Activation || Bf16Activations.backpropagatesInBf16(act)) {
            return act;
        }
        report.changed(layer, what + " " + act + " computed in FP32 (ND4J has no BF16 backprop for it)");
        return new Fp32Activation(act);
    }
}
