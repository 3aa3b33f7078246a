package org.dl4jsr;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.dl4jsr.kernel.HostKernels;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.kernel.ParallelRunner;
import org.dl4jsr.kernel.PortableKernels;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.NoOpUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A network attached for BF16 training: its updater blocks bound to the plugin and its optimizer's step function
 * replaced, so that every parameter update of every DL4J updater is applied as {@code x = round(x - update)}.
 *
 * <p>Each training step is one "pass": DL4J runs the updater over the blocks in order, then calls the step function.
 * The first bound block starts the pass (the whole gradient is checked for NaN/Inf there, before anything changes);
 * the step function finishes it. Returned by {@link Bf16Training#attach}.
 */
public final class Bf16Attachment {
    private static final Logger log = LoggerFactory.getLogger(Bf16Attachment.class);
    /** Stream of the rounding bits used when weights are first put onto the grid. */
    private static final long ATTACH_STREAM = -1;
    private static final Field STEP_FUNCTION = stepFunctionField();

    private final NetworkAccess net;
    private final Bf16Options options;
    private final Kernels kernels;
    private final SrStepFunction stepFunction = new SrStepFunction(this);
    private final List<Block> blocks = new ArrayList<>();

    // State of the current pass.
    private long pass;
    private boolean passSkipped;
    private boolean passStepped = true;
    private boolean passFusable;
    private int stepIteration = Integer.MIN_VALUE;
    private int applyIndex;
    private long skippedSteps;
    /** Set by {@link StagnationMeter}: never fuse, so every update is written to the gradient array first. */
    private boolean updatesVisible;

    /** One updater block: parameters [start, end) and the plugin's updater for them (null for NoOp blocks). */
    private static final class Block {
        final long start;
        final long end;
        final SrGradientUpdater<?> updater;

        Block(long start, long end, SrGradientUpdater<?> updater) {
            this.start = start;
            this.end = end;
            this.updater = updater;
        }
    }

    private Bf16Attachment(NetworkAccess net, Bf16Options options, Kernels kernels) {
        this.net = net;
        this.options = options;
        this.kernels = kernels;
    }

    static Bf16Attachment attach(NetworkAccess net, Bf16Options options) {
        net.initialise();
        DataType type = net.dataType();
        if (type != DataType.FLOAT && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("BF16 training needs a FLOAT network (the CPU default: weights kept on the"
                    + " BF16 grid, FP32 compute) or a BFLOAT16 network (conf.setDataType(DataType.BFLOAT16) before init()),"
                    + " but this network is " + type + ". Build it with .dataType(DataType.FLOAT) or convert it with"
                    + " net.convertDataType(DataType.FLOAT) first.");
        }
        if (net.optimizationAlgorithm() != OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT) {
            throw new IllegalArgumentException("BF16 training supports OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT"
                    + " (the default), not " + net.optimizationAlgorithm());
        }
        List<Layer> layers = layerConfigs(net);
        Bf16LayerSupport.requireBackpropIn(type, layers);
        for (Layer layer : layers) {
            if (layer.getConstraints() != null && !layer.getConstraints().isEmpty()) {
                throw new IllegalArgumentException("Layer '" + layer.getLayerName() + "' has constraints "
                        + layer.getConstraints() + ": they rescale weights after each update and would move them off the"
                        + " BF16 grid. Remove the constraints to train in BF16.");
            }
        }
        List<Runnable> undo = new ArrayList<>();
        for (Layer layer : layers) {
            UpdaterWrapping.wrap(layer, options.getWeightRounding(), options.getSeed(), undo);
        }
        if (!undo.isEmpty()) {
            rebuildUpdater(net);
        }
        Bf16Attachment a = new Bf16Attachment(net, options, chooseKernels(options));
        try {
            a.bindBlocks(net.updater(), type);
            long key = CounterRng.key(options.getSeed(), net.iterationCount(), ATTACH_STREAM);
            for (Block b : a.blocks) {
                if (b.updater != null) {
                    b.updater.prepareWeights(options.getInitialRounding(), key);
                }
            }
            a.install();
        } catch (RuntimeException e) {
            // Leave the network as it was: its original updaters (and DL4J's updater built from them) come back.
            undo.forEach(Runnable::run);
            if (!undo.isEmpty()) {
                rebuildUpdater(net);
            }
            throw e;
        }
        log.info("BF16 training attached: {} updater blocks, kernels {}, {}", a.blocks.size(), a.kernels.name(), options);
        return a;
    }

    /** The network's layer configurations, each once (a configuration object can be shared). */
    private static List<Layer> layerConfigs(NetworkAccess net) {
        Set<Layer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Layer> out = new ArrayList<>();
        for (Layer l : net.layerConfigs()) {
            if (seen.add(l)) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * Rebuilds DL4J's updater from the (rewritten) configuration, keeping the current updater state. If DL4J has not
     * created an updater yet, nothing is needed: it will be built from the rewritten configuration.
     */
    private static void rebuildUpdater(NetworkAccess net) {
        BaseMultiLayerUpdater existing = net.updaterIfExists();
        if (existing == null) {
            return;
        }
        INDArray previousState = existing.getStateViewArray();
        BaseMultiLayerUpdater fresh = net.newUpdater();
        if (previousState != null) {
            fresh.setStateViewArray(previousState);
        }
        net.setUpdater(fresh);
    }

    private void bindBlocks(BaseMultiLayerUpdater updater, DataType type) {
        boolean first = true;
        for (Object o : updater.getUpdaterBlocks()) {
            UpdaterBlock ub = (UpdaterBlock) o;
            String name = blockName(ub);
            long start = ub.getParamOffsetStart();
            long end = ub.getParamOffsetEnd();
            Object gu = ub.getGradientUpdater();
            if (gu instanceof NoOpUpdater) {
                blocks.add(new Block(start, end, null));
                continue;
            }
            if (!(gu instanceof SrGradientUpdater)) {
                throw new IllegalArgumentException("Parameters " + name + " use " + gu.getClass().getSimpleName()
                        + ", which the plugin could not wrap (layer type not supported by Bf16Training.attach). Configure"
                        + " that layer with AdamWSR or Bf16Updater.wrap(...) explicitly.");
            }
            SrGradientUpdater<?> sr = (SrGradientUpdater<?>) gu;
            sr.validateFor(type, name);
            boolean startsPass = first && !ub.isPretrainUpdaterBlock();
            first &= !startsPass;
            sr.bind(new BlockBinding(this, start, end - start, startsPass, hasPostUpdaterRegularization(ub)));
            blocks.add(new Block(start, end, sr));
        }
    }

    private static String blockName(UpdaterBlock ub) {
        List<String> names = new ArrayList<>();
        for (Object o : ub.getLayersAndVariablesInBlock()) {
            UpdaterBlock.ParamState p = (UpdaterBlock.ParamState) o;
            names.add(p.getLayer().getConfig().getLayerName() + "/" + p.getParamName());
        }
        return names.toString();
    }

    private static boolean hasPostUpdaterRegularization(UpdaterBlock ub) {
        for (Object o : ub.getLayersAndVariablesInBlock()) {
            UpdaterBlock.ParamState p = (UpdaterBlock.ParamState) o;
            List<Regularization> regs = p.getLayer().getConfig().getRegularizationByParam(p.getParamName());
            if (regs != null) {
                for (Regularization r : regs) {
                    if (r.applyStep() == Regularization.ApplyStep.POST_UPDATER) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static Kernels chooseKernels(Bf16Options options) {
        boolean cpu = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");
        switch (options.getKernels()) {
            case HOST:
                if (!cpu) {
                    throw new IllegalArgumentException("KernelPath.HOST needs ND4J's CPU backend; this backend is "
                            + Nd4j.getBackend().getClass().getSimpleName() + ". Use AUTO or PORTABLE.");
                }
                return new HostKernels(ParallelRunner.shared(options.getThreads()));
            case PORTABLE:
                return new PortableKernels();
            default:
                return cpu ? new HostKernels(ParallelRunner.shared(options.getThreads())) : new PortableKernels();
        }
    }

    private void install() {
        ConvexOptimizer optimizer = net.optimizerOrNull();
        if (!(optimizer instanceof StochasticGradientDescent)) {
            throw new IllegalStateException("Expected DL4J's StochasticGradientDescent optimizer, got " + optimizer);
        }
        try {
            STEP_FUNCTION.set(optimizer, stepFunction);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("Cannot install the BF16 step function", e);
        }
    }

    private static Field stepFunctionField() {
        try {
            Field f = BaseOptimizer.class.getDeclaredField("stepFunction");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError("DL4J's BaseOptimizer has no stepFunction field: unsupported version");
        }
    }

    /** True while this attachment's step function is the one the network's optimizer uses. */
    boolean isInstalled() {
        ConvexOptimizer optimizer = net.optimizerOrNull();
        try {
            return optimizer instanceof BaseOptimizer && STEP_FUNCTION.get(optimizer) == stepFunction;
        } catch (IllegalAccessException e) {
            return false;
        }
    }

    /** Called by every bound updater before it updates; returns false when this step is being skipped. */
    boolean beginUpdate(BlockBinding b) {
        if (b.startsPass()) {
            startPass();
        }
        return !passSkipped;
    }

    private void startPass() {
        pass++;
        passStepped = false;
        passSkipped = false;
        ConvexOptimizer optimizer = net.optimizerOrNull();
        passFusable = !(optimizer instanceof BaseOptimizer) || ((BaseOptimizer) optimizer).getGradientsAccumulator() == null;
        INDArray gradients = net.gradients();
        if (kernels.allFinite(gradients, 0, gradients.length())) {
            return;
        }
        String what = "Gradient of iteration " + net.iterationCount() + " contains NaN or infinity";
        if (options.getNonFiniteGradients() == NonFiniteGradients.THROW) {
            passStepped = true;
            throw new NonFiniteGradientException(what + "; weights and updater state are unchanged.");
        }
        passSkipped = true;
        skippedSteps++;
        log.warn("{}: step skipped, weights and updater state unchanged ({} skipped so far). Persistent NaN/Inf usually"
                + " means a learning rate that is too high or bad input data.", what, skippedSteps);
    }

    /** True when the block's updater may write the weights itself in this pass (no one needs the update array). */
    boolean canFuse(BlockBinding b) {
        return passFusable && !updatesVisible && !b.hasPostUpdaterRegularization();
    }

    /**
     * From now on every update is written over the gradient array before the step function applies it (the unfused
     * path: same arithmetic, same rounding, same random bits, so results are bit-identical), so that listeners can
     * read it after the step.
     */
    void makeUpdatesVisible() {
        updatesVisible = true;
    }

    /** The attachment whose step function the model's optimizer currently uses, or null. */
    static Bf16Attachment installedOn(Model model) {
        ConvexOptimizer optimizer = NetworkAccess.of(model).optimizerOrNull();
        if (!(optimizer instanceof BaseOptimizer)) {
            return null;
        }
        try {
            Object f = STEP_FUNCTION.get(optimizer);
            return f instanceof SrStepFunction ? ((SrStepFunction) f).attachment() : null;
        } catch (IllegalAccessException e) {
            return null;
        }
    }

    long pass() {
        return pass;
    }

    /** The step function's work: applies {@code update} to {@code params} block by block. */
    void step(INDArray params, INDArray update) {
        int iteration = net.iterationCount();
        if (iteration != stepIteration) {
            stepIteration = iteration;
            applyIndex = 0;
        }
        boolean firstStepOfPass = !passStepped;
        passStepped = true;
        if (firstStepOfPass && passSkipped) {
            return;
        }
        for (Block b : blocks) {
            if (b.updater == null) {
                // NoOp parameters (frozen layers, batch-norm statistics): DL4J's own step, untouched by the plugin.
                slice(params, b).subi(slice(update, b));
            } else {
                b.updater.applyToWeights(params, update, iteration, applyIndex, firstStepOfPass);
            }
        }
        applyIndex++;
    }

    private static INDArray slice(INDArray flat, Block b) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(b.start, b.end));
    }

    /** True when {@code gradient} is the slice of the network's gradient array that starts at {@code start}. */
    boolean isFlatGradientView(INDArray gradient, long start) {
        INDArray flat = net.gradients();
        return root(gradient.data()) == root(flat.data()) && gradient.offset() == flat.offset() + start;
    }

    private static DataBuffer root(DataBuffer b) {
        return b.originalDataBuffer() != null ? b.originalDataBuffer() : b;
    }

    Kernels kernels() {
        return kernels;
    }

    INDArray params() {
        return net.params();
    }

    INDArray gradients() {
        return net.gradients();
    }

    /** The attached network. */
    public Model getModel() {
        return net.model();
    }

    public Bf16Options getOptions() {
        return options;
    }

    /** Steps skipped because the gradient held NaN or infinity ({@link NonFiniteGradients#SKIP_STEP}). */
    public long getSkippedSteps() {
        return skippedSteps;
    }

    /** Which kernels run the element-wise passes, e.g. "host(2 threads)". */
    public String getKernelsName() {
        return kernels.name();
    }
}
