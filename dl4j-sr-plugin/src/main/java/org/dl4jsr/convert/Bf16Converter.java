package org.dl4jsr.convert;

import org.dl4jsr.training.Bf16LayerSupport;
import org.dl4jsr.training.Bf16Activations;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Rounded;
import org.dl4jsr.Fp32Activation;
import org.dl4jsr.network.LayerTree;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.AdamWSRUpdater;
import org.dl4jsr.training.WrappedGradientUpdater;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.layers.AbstractLSTM;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.RoundingStreams;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.NoOpUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * How a network enters and leaves BF16 training. Each conversion builds a new network (the source is not modified)
 * with the parameters, the optimizer state and the iteration and epoch counts carried over:
 * <ul>
 * <li>{@link #toBf16Grid}: a FLOAT network with every trainable weight on the BF16 grid (the CPU default), DL4J's
 * {@code Adam} replaced by {@link AdamWSR} (its FP32 moments rounded into AdamWSR's storage), other updaters wrapped
 * in {@link Bf16Rounded}; attached and ready to {@code fit}.</li>
 * <li>{@link #toBfloat16}: the same as a true BFLOAT16 network; activations ND4J cannot back-propagate in BF16 are
 * computed in FP32 ({@link Fp32Activation}).</li>
 * <li>{@link #toFp32}: a plain DL4J FLOAT network (exact: BF16 values widen exactly; an FP32 master copy becomes the
 * weights), AdamWSR back to DL4J's Adam plus decoupled {@code WeightDecay}; loadable by DL4J without the plugin.</li>
 * </ul>
 * Frozen layers, NoOp updaters and batch-norm statistics are left alone; {@link ConversionReport} lists them.
 *
 * <p>One conversion has three parts that must agree on the same block layout: the configuration rewrite, the
 * parameters and the optimizer state, in that order below.
 */
public final class Bf16Converter {
    /** Integers above 256 are not all representable in BF16 (8-bit significand). */
    private static final long MAX_BF16_INDEX = 256;

    private enum Target { BF16_GRID, BFLOAT16, FP32 }

    private Bf16Converter() {
    }

    public static <T extends Model> ConversionResult<T> toBf16Grid(T network) {
        return toBf16Grid(network, ConversionOptions.defaults());
    }

    public static <T extends Model> ConversionResult<T> toBf16Grid(T network, ConversionOptions options) {
        return convert(network, Target.BF16_GRID, options);
    }

    public static <T extends Model> ConversionResult<T> toBfloat16(T network) {
        return toBfloat16(network, ConversionOptions.defaults());
    }

    public static <T extends Model> ConversionResult<T> toBfloat16(T network, ConversionOptions options) {
        return convert(network, Target.BFLOAT16, options);
    }

    public static <T extends Model> ConversionResult<T> toFp32(T network) {
        return convert(network, Target.FP32, ConversionOptions.defaults());
    }

    @SuppressWarnings("unchecked")
    private static <T extends Model> ConversionResult<T> convert(T source, Target target, ConversionOptions o) {
        Network from = Network.of(source);
        from.initialise();
        ConversionReport report = new ConversionReport();
        Network to = from.copyConfiguration();
        to.setCounts(from.iterationCount(), from.epochCount());
        to.setDataType(target == Target.BFLOAT16 ? DataType.BFLOAT16 : DataType.FLOAT);
        for (Layer layer : to.layerConfigs()) {
            Set<Layer> trainable = Collections.newSetFromMap(new IdentityHashMap<>());
            LayerTree.forEachTrainableLeaf(layer, trainable::add);
            // frozen-with-backprop layers too: DL4J builds its updater blocks from their updaters
            LayerTree.forEachUpdaterLeaf(layer, leaf -> rewriteLeaf(leaf, target, o, report, !trainable.contains(leaf)));
            Bf16LayerSupport.forEachBackpropLeaf(layer, leaf -> convertActivations(leaf, target, report));
        }
        Kernels kernels = o.getAttach().getKernels().select(o.getAttach().getThreads());
        INDArray params = convertParams(from.params(), target, o, kernels, to.iterationCount());
        to.init(params, true);
        to.initialise();
        transferState(from, to, target, o, kernels, to.iterationCount());
        reportLeftAlone(to.updater(), report);
        Bf16Attachment attachment = target == Target.FP32 ? null : Bf16Training.attachModel(to.model(),
                o.getAttach().toBuilder().initialRounding(o.getInitialRounding()).build());
        return new ConversionResult<>((T) to.model(), report, attachment);
    }

    // ---- configuration ----

    private static void rewriteLeaf(Layer leaf, Target target, ConversionOptions o, ConversionReport report,
                                    boolean frozen) {
        String name = leaf.getLayerName();
        String why = frozen ? " (FrozenLayerWithBackprop: rewritten only so that DL4J's updater blocks, and with them the"
                + " optimizer state, stay as they were; its parameters are left alone)" : "";
        if (LayerTree.hasUpdaters(leaf)) {
            IUpdater weights = LayerTree.weightUpdater(leaf);
            IUpdater bias = LayerTree.biasUpdater(leaf);
            IUpdater newWeights = mapUpdater(weights, target, o);
            IUpdater newBias = mapUpdater(bias, target, o);
            if (target == Target.FP32) {
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
        if (target == Target.BFLOAT16 && (leaf instanceof EmbeddingLayer || leaf instanceof EmbeddingSequenceLayer)
                && ((FeedForwardLayer) leaf).getNIn() > MAX_BF16_INDEX) {
            throw new IllegalArgumentException("Layer '" + name + "' embeds " + ((FeedForwardLayer) leaf).getNIn()
                    + " indices, but a BFLOAT16 network receives its input as BF16, which holds integers exactly only up to "
                    + MAX_BF16_INDEX + ". Use Bf16Converter.toBf16Grid (a FLOAT network on the BF16 grid) for this model.");
        }
    }

    private static IUpdater mapUpdater(IUpdater u, Target target, ConversionOptions o) {
        if (u == null) {
            return null;
        }
        if (target == Target.FP32) {
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
            if (target == Target.BFLOAT16 && a.isCompensated()) {
                throw new IllegalArgumentException("AdamWSR with weightRounding KAHAN keeps its compensation packed two"
                        + " per 32-bit slot of a FLOAT network's updater state; a BFLOAT16 network has no such slots."
                        + " Convert to Target.BF16_GRID (a FLOAT network with weights on the BF16 grid) instead");
            }
            if (target == Target.BFLOAT16 && (a.isCompactState() || a.isMasterWeights()
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
                    .stateRounding(target == Target.BFLOAT16 && o.getStateRounding() == Rounding.NONE
                            ? Rounding.STOCHASTIC : o.getStateRounding())
                    .compactState(o.isCompactState() && target == Target.BF16_GRID).build();
        }
        return new Bf16Rounded(u, Rounding.STOCHASTIC, o.getSeed());
    }

    /** AdamWSR's decoupled weight decay becomes DL4J's WeightDecay regularisation (same update: lr * wd * x). */
    private static void keepDecoupledDecay(Layer leaf, IUpdater weights, IUpdater bias, ConversionReport report) {
        if (weights instanceof AdamWSR && ((AdamWSR) weights).getWeightDecay() > 0) {
            double wd = ((AdamWSR) weights).getWeightDecay();
            setRegularization(leaf, false, withWeightDecay(regularization(leaf, false), wd));
            report.changed(leaf.getLayerName(), "AdamWSR weight decay " + wd + " -> WeightDecay regularisation");
        }
        if (bias instanceof AdamWSR && ((AdamWSR) bias).getWeightDecay() > 0) {
            setRegularization(leaf, true, withWeightDecay(regularization(leaf, true), ((AdamWSR) bias).getWeightDecay()));
        }
    }

    private static List<Regularization> withWeightDecay(List<Regularization> current, double wd) {
        List<Regularization> list = current == null ? new ArrayList<>() : new ArrayList<>(current);
        list.add(new WeightDecay(wd, true));
        return list;
    }

    private static boolean hasWeightDecayRegularization(Layer leaf) {
        for (boolean bias : new boolean[] {false, true}) {
            List<Regularization> regs = regularization(leaf, bias);
            if (regs != null && regs.stream().anyMatch(r -> r instanceof WeightDecay)) {
                return true;
            }
        }
        return false;
    }

    private static List<Regularization> regularization(Layer leaf, boolean bias) {
        if (leaf instanceof BaseLayer) {
            return bias ? ((BaseLayer) leaf).getRegularizationBias() : ((BaseLayer) leaf).getRegularization();
        }
        if (leaf instanceof AbstractSameDiffLayer) {
            AbstractSameDiffLayer l = (AbstractSameDiffLayer) leaf;
            return bias ? l.getRegularizationBias() : l.getRegularization();
        }
        return null;
    }

    private static void setRegularization(Layer leaf, boolean bias, List<Regularization> regs) {
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

    /**
     * Activations of every layer that back-propagates (trainable or not: an ActivationLayer has no parameters, a
     * FrozenLayerWithBackprop still back-propagates): computed in FP32 in a BFLOAT16 network where ND4J has no BF16
     * backprop for them, unwrapped otherwise.
     */
    private static void convertActivations(Layer leaf, Target target, ConversionReport report) {
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
        if (target == Target.BFLOAT16) {
            Bf16LayerSupport.refuseHardCodedActivation(leaf);
        }
    }

    private static IActivation convertActivation(String layer, String what, IActivation act, Target target,
                                                 ConversionReport report) {
        if (act == null) {
            return null;
        }
        if (target != Target.BFLOAT16) {
            return act instanceof Fp32Activation ? ((Fp32Activation) act).getActivation() : act;
        }
        if (act instanceof Fp32Activation || Bf16Activations.backpropagatesInBf16(act)) {
            return act;
        }
        report.changed(layer, what + " " + act + " computed in FP32 (ND4J has no BF16 backprop for it)");
        return new Fp32Activation(act);
    }

    // ---- parameters and optimizer state ----

    private static INDArray convertParams(INDArray params, Target target, ConversionOptions o, Kernels kernels,
                                          int iteration) {
        long n = params.length();
        INDArray fp32 = params.reshape(n).castTo(DataType.FLOAT);
        if (target != Target.BFLOAT16) {
            return fp32.reshape(1, n); // BF16_GRID: attach puts the trainable weights on the grid
        }
        INDArray bf16 = Nd4j.create(DataType.BFLOAT16, n);
        kernels.round(fp32, 0, bf16, 0, n, o.getInitialRounding(), CounterRng.key(o.getSeed(), iteration, RoundingStreams.CONVERT_PARAMS), 0);
        return bf16.reshape(1, n);
    }

    /** Carries each updater block's state over, block by block (both networks have the same block layout). */
    private static void transferState(Network from, Network to, Target target, ConversionOptions o,
                                      Kernels kernels, int iteration) {
        BaseMultiLayerUpdater<?> source = from.updaterIfExists();
        BaseMultiLayerUpdater<?> dest = to.updater();
        if (source == null) {
            return; // never trained: the new updater starts fresh like the old one would have
        }
        Map<Long, UpdaterBlock> sourceBlocks = new HashMap<>();
        for (Object b : source.getUpdaterBlocks()) {
            sourceBlocks.put((long) ((UpdaterBlock) b).getParamOffsetStart(), (UpdaterBlock) b);
        }
        for (Object b : dest.getUpdaterBlocks()) {
            UpdaterBlock nb = (UpdaterBlock) b;
            UpdaterBlock ob = sourceBlocks.get((long) nb.getParamOffsetStart());
            if (ob == null || ob.getParamOffsetEnd() != nb.getParamOffsetEnd()) {
                throw new IllegalStateException("Updater blocks of the converted network differ from the source's at"
                        + " parameter offset " + nb.getParamOffsetStart() + "; cannot carry the optimizer state over");
            }
            transferBlock(from, to, ob, nb, o, kernels, iteration);
        }
    }

    private static void transferBlock(Network from, Network to, UpdaterBlock ob, UpdaterBlock nb,
                                      ConversionOptions o, Kernels kernels, int iteration) {
        GradientUpdater<?> oldUpdater = unwrap(ob.getGradientUpdater());
        GradientUpdater<?> newUpdater = nb.getGradientUpdater();
        long start = nb.getParamOffsetStart();
        long end = nb.getParamOffsetEnd();
        if (newUpdater instanceof NoOpUpdater) {
            return;
        }
        // Neither network need be attached: tell AdamWSR updaters their block's size (a KAHAN layout needs it).
        for (GradientUpdater<?> u : new GradientUpdater<?>[] {oldUpdater, newUpdater}) {
            if (u instanceof AdamWSRUpdater) {
                ((AdamWSRUpdater) u).useBlockLength(end - start);
            }
        }
        if (newUpdater instanceof AdamWSRUpdater) {
            AdamWSRUpdater sr = (AdamWSRUpdater) newUpdater;
            if (sr.hasCompensation() && oldUpdater instanceof AdamWSRUpdater
                    && ((AdamWSRUpdater) oldUpdater).hasCompensation()) {
                sr.setCompensation(((AdamWSRUpdater) oldUpdater).compensation()); // same weights, same compensation
            }
            INDArray[] mv = adamMoments(oldUpdater, ob.getUpdaterView());
            sr.setMoments(mv[0], mv[1], kernels, CounterRng.key(o.getSeed(), iteration, RoundingStreams.CONVERT_FIRST_MOMENT),
                    CounterRng.key(o.getSeed(), iteration, RoundingStreams.CONVERT_SECOND_MOMENT), start);
            if (sr.hasMaster()) {
                sr.setMaster(oldUpdater instanceof AdamWSRUpdater && ((AdamWSRUpdater) oldUpdater).hasMaster()
                        ? ((AdamWSRUpdater) oldUpdater).masterCopy() : slice(from.params(), start, end).castTo(DataType.FLOAT));
            }
            return;
        }
        if (newUpdater instanceof AdamUpdater && oldUpdater instanceof AdamWSRUpdater) {
            AdamWSRUpdater sr = (AdamWSRUpdater) oldUpdater;
            INDArray[] mv = sr.moments();
            INDArray view = nb.getUpdaterView().reshape(nb.getUpdaterView().length());
            long n = end - start;
            view.get(NDArrayIndex.interval(0, n)).assign(mv[0]);
            view.get(NDArrayIndex.interval(n, 2 * n)).assign(mv[1]);
            if (sr.hasMaster()) {
                slice(to.params(), start, end).assign(sr.masterCopy()); // the FP32 master is the true weight
            }
            if (sr.hasCompensation()) {
                INDArray w = slice(to.params(), start, end);
                w.assign(w.add(sr.compensation().reshape(w.shape()))); // w + c in FP32: what the weight holds
            }
            return;
        }
        if (nb.getUpdaterView() != null) {
            nb.getUpdaterView().assign(ob.getUpdaterView()); // the same DL4J updater on both sides
        }
    }

    private static GradientUpdater<?> unwrap(GradientUpdater<?> u) {
        return u instanceof WrappedGradientUpdater ? ((WrappedGradientUpdater) u).inner() : u;
    }

    /** FP32 m and v of DL4J's Adam or AdamWSR. */
    private static INDArray[] adamMoments(GradientUpdater<?> u, INDArray view) {
        if (u instanceof AdamWSRUpdater) {
            return ((AdamWSRUpdater) u).moments();
        }
        if (u instanceof AdamUpdater) {
            INDArray flat = view.reshape(view.length());
            long n = flat.length() / 2;
            return new INDArray[] {flat.get(NDArrayIndex.interval(0, n)).castTo(DataType.FLOAT),
                flat.get(NDArrayIndex.interval(n, 2 * n)).castTo(DataType.FLOAT)};
        }
        throw new IllegalStateException("Cannot read Adam moments from " + u.getClass().getSimpleName());
    }

    private static INDArray slice(INDArray flat, long start, long end) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(start, end));
    }

    private static void reportLeftAlone(BaseMultiLayerUpdater<?> updater, ConversionReport report) {
        for (Object b : updater.getUpdaterBlocks()) {
            UpdaterBlock ub = (UpdaterBlock) b;
            if (!(ub.getGradientUpdater() instanceof NoOpUpdater)) {
                for (String frozen : FrozenParameters.frozenNames(ub)) {
                    report.leftAlone(frozen, "frozen layer (FrozenLayerWithBackprop: DL4J gives it its inner layer's"
                            + " updater; the plugin never rounds or updates it)");
                }
                continue;
            }
            for (Object p : ub.getLayersAndVariablesInBlock()) {
                UpdaterBlock.ParamState ps = (UpdaterBlock.ParamState) p;
                Trainable layer = ps.getLayer();
                String why = layer instanceof org.deeplearning4j.nn.layers.FrozenLayer
                        || layer instanceof org.deeplearning4j.nn.layers.FrozenLayerWithBackprop ? "frozen layer"
                        : layer.getConfig() instanceof BatchNormalization ? "batch-norm statistics (DL4J updates them)"
                        : "NoOp updater";
                report.leftAlone(layer.getConfig().getLayerName() + "/" + ps.getParamName(), why);
            }
        }
    }
}
