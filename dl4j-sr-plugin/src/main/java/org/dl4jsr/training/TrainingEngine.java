package org.dl4jsr.training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.CounterRng;
import org.dl4jsr.rounding.RoundingStreams;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.NoOpUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training engine of one attached network: its updater blocks bound to the plugin's updaters and its optimizer's
 * step function replaced, so that every update of every DL4J updater is applied as {@code x = round(x - update)}.
 * Each optimizer step is one {@link OptimizerStep}, created by the first block's updater call and finished by the
 * step function.
 *
 * <p>Attaching (wrap, bind, round, install, undo on failure) and the per-step entry points (begin, checks, apply)
 * share one block table, which this class owns.
 */
public final class TrainingEngine implements StepSource {
    private static final Logger log = LoggerFactory.getLogger(TrainingEngine.class);

    private final Network net;
    private final AttachSettings settings;
    private final Kernels kernels;
    private final SrStepFunction stepFunction = new SrStepFunction(this);
    /** The updater DL4J runs and its blocks as bound; replaced when DL4J rebuilds its updater ({@link #rebind}). */
    private List<BoundBlock> blocks = List.of();
    private BaseMultiLayerUpdater<?> boundUpdater;
    /** The step in progress, or the last one (further updates of its iteration continue its rounding streams). */
    private OptimizerStep current;
    private long skippedSteps;
    /** Set for listeners that read updates: never fuse, so every update is written to the gradient array first. */
    private boolean updatesVisible;
    /** Set by the plugin's ParallelWrapper trainers: gradient sharing (an accumulator on the optimizer) is expected. */
    private volatile boolean gradientSharingPermitted;

    private TrainingEngine(Network net, AttachSettings settings, Kernels kernels) {
        this.net = net;
        this.settings = settings;
        this.kernels = kernels;
    }

    /**
     * Attaches {@code net}: wraps (with {@code wrapper}) every updater that does not round by itself, binds the
     * updater blocks, puts the weights on the grid and installs the step function. A failed attach leaves the
     * network's configuration and updater as they were.
     */
    public static TrainingEngine attach(Network net, AttachSettings settings, Kernels kernels,
                                    UnaryOperator<IUpdater> wrapper) {
        net.initialise();
        DataType type = net.dataType();
        List<Layer> layers = distinctLayerConfigs(net);
        AttachChecks.checkNetwork(net, layers);
        List<Runnable> undo = new ArrayList<>();
        for (Layer layer : layers) {
            UpdaterWrapping.wrap(layer, wrapper, undo);
        }
        if (!undo.isEmpty()) {
            rebuildUpdater(net);
        }
        TrainingEngine engine = new TrainingEngine(net, settings, kernels);
        try {
            engine.blocks = engine.bindBlocks(net.updater(), type);
            long key = CounterRng.key(settings.seed(), net.iterationCount(), RoundingStreams.ATTACH);
            for (BoundBlock block : engine.blocks) {
                if (!block.isNoOp()) {
                    block.updater().prepareWeights(net.params(), kernels, settings.initialRounding(), key);
                }
            }
            engine.install();
            AttachedEngines.register(engine);
        } catch (RuntimeException e) {
            // Leave the network as it was: its original updaters (and DL4J's updater built from them) come back.
            undo.forEach(Runnable::run);
            if (!undo.isEmpty()) {
                rebuildUpdater(net);
            }
            throw e;
        }
        log.info("BF16 training attached: {} updater blocks, kernels {}, {}", engine.blocks.size(), kernels.name(),
                settings);
        return engine;
    }

    /** The network's layer configurations, each once (a configuration object can be shared). */
    private static List<Layer> distinctLayerConfigs(Network net) {
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
    private static void rebuildUpdater(Network net) {
        BaseMultiLayerUpdater<?> existing = net.updaterIfExists();
        if (existing == null) {
            return;
        }
        INDArray previousState = existing.getStateViewArray();
        BaseMultiLayerUpdater<?> fresh = net.newUpdater(null);
        if (previousState != null) {
            fresh.setStateViewArray(previousState);
        }
        net.setUpdater(fresh);
    }

    /**
     * Binds every block of {@code updater} to this engine and returns the block table.
     */
    private List<BoundBlock> bindBlocks(BaseMultiLayerUpdater<?> updater, DataType type) {
        List<BoundBlock> blocks = new ArrayList<>();
        boolean first = true;
        for (Object o : updater.getUpdaterBlocks()) {
            UpdaterBlock ub = (UpdaterBlock) o;
            String name = Network.blockName(ub);
            long start = ub.getParamOffsetStart();
            long end = ub.getParamOffsetEnd();
            Object gu = ub.getGradientUpdater();
            if (gu instanceof NoOpUpdater) {
                blocks.add(new BoundBlock(name, start, end, null));
                continue;
            }
            if (!(gu instanceof SrGradientUpdater)) {
                List<String> frozen = FrozenParameters.frozenNames(ub);
                throw new IllegalArgumentException("Parameters " + name + " use " + gu.getClass().getSimpleName()
                        + ", which the plugin could not wrap (layer type not supported by Bf16Training.attach"
                        + (frozen.isEmpty() ? "" : "; the block holds the frozen parameters " + frozen + ", which DL4J"
                        + " gives their inner layer's updater and which the plugin leaves unchanged")
                        + "). Configure that layer with AdamWSR or Bf16Rounded.wrap(...) explicitly; if the network's"
                        + " updater was rebuilt (setUpdater with a new configuration), call Bf16Training.attach(net)"
                        + " again.");
            }
            SrGradientUpdater<?> sr = (SrGradientUpdater<?>) gu;
            sr.validateFor(type, name);
            String problem = HyperParameters.staticProblem(sr.hyperParameters());
            if (problem != null) {
                throw new IllegalArgumentException("Parameters " + name + " use " + sr.hyperParameters() + ": " + problem
                        + ". Every hyper-parameter must be finite and a learning rate must not be negative; fix the"
                        + " updater's configuration. Nothing was changed.");
            }
            boolean startsStep = first && !ub.isPretrainUpdaterBlock();
            first &= !startsStep;
            Long ownSeed = sr.getConfig().getExplicitSeed();
            long seed = ownSeed != null ? ownSeed : settings.seed();
            sr.bind(new BlockBinding(this, blocks.size(), start, end - start, FrozenParameters.trainableRanges(ub), seed,
                    startsStep, hasPostUpdaterRegularization(ub)));
            blocks.add(new BoundBlock(name, start, end, sr));
        }
        boundUpdater = updater;
        return List.copyOf(blocks);
    }

    /**
     * Called by an SR updater that is not bound: DL4J built a new updater from the configuration (setLearningRate,
     * setUpdater, ...). If the network {@code gradient} belongs to is attached and its optimizer still runs this
     * attachment's step function, the new updater's blocks are bound (the same as attaching again, without
     * re-rounding the weights: they are on the grid already, and FP32 master weights keep their rounding) and
     * {@code updater}'s binding is returned; otherwise null (not attached, or DL4J dropped the optimizer: clear()).
     */
    static BlockBinding rebindFor(SrGradientUpdater<?> updater, INDArray gradient) {
        TrainingEngine engine = AttachedEngines.owning(gradient);
        if (engine == null || !engine.isInstalled()) {
            return null;
        }
        engine.rebind();
        return updater.binding();
    }

    private synchronized void rebind() {
        BaseMultiLayerUpdater<?> updater = net.updater();
        if (updater == boundUpdater) {
            return;
        }
        blocks = bindBlocks(updater, net.dataType());
        current = null;
        log.info("DL4J rebuilt the updater of an attached network (setLearningRate, setUpdater, ...): {} updater blocks"
                + " bound again", blocks.size());
    }

    /** The network's flat gradient array (null before it exists). */
    INDArray gradientsOrNull() {
        return net.gradients();
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

    private void install() {
        StepFunctionSlot.install(net.optimizerOrNull(), stepFunction);
    }

    /** True while this engine's step function is the one the network's optimizer uses. */
    boolean isInstalled() {
        return StepFunctionSlot.current(net.optimizerOrNull()) == stepFunction;
    }

    /** The engine whose step function the model's optimizer currently uses, or null. */
    public static TrainingEngine installedOn(Model model) {
        Object f = StepFunctionSlot.current(Network.of(model).optimizerOrNull());
        return f instanceof SrStepFunction ? ((SrStepFunction) f).engine() : null;
    }

    /** The step a block's update belongs to (see {@link BlockBinding#step()}); null when not installed. */
    @Override
    public OptimizerStep stepFor(BlockBinding b) {
        if (!isInstalled()) {
            return null;
        }
        if (b.startsStep() || current == null) {
            current = beginStep();
        }
        return current;
    }

    /** Starts a step: the whole gradient is checked for NaN/Inf here, before anything changes. */
    private OptimizerStep beginStep() {
        int iteration = net.iterationCount();
        ConvexOptimizer optimizer = net.optimizerOrNull();
        boolean sharing = optimizer instanceof BaseOptimizer
                && ((BaseOptimizer) optimizer).getGradientsAccumulator() != null;
        if (sharing && !gradientSharingPermitted) {
            throw new IllegalStateException("This network is being trained with DL4J gradient sharing (its optimizer has"
                    + " a GradientsAccumulator: ParallelWrapper SHARED_GRADIENTS or CUSTOM) by trainers that do not attach"
                    + " their replicas; DL4J's own would hang waiting for replicas that cannot train. Call"
                    + " org.dl4jsr.parallel.Bf16ParallelWrapper.attach(wrapper) before fit. Nothing was updated.");
        }
        INDArray gradients = net.gradients();
        String problem = null;
        if (!kernels.allFinite(gradients, 0, gradients.length())) {
            problem = "Gradient of iteration " + iteration + " contains NaN or infinity";
            if (settings.throwsOnNonFiniteSteps()) {
                throw new NonFiniteGradientException(problem + "; weights and updater state are unchanged.");
            }
            problem += ". Persistent NaN/Inf gradients usually mean a learning rate that is too high or bad input data";
        } else {
            problem = hyperParameterProblem(iteration, net.epochCount());
            if (problem != null && settings.throwsOnNonFiniteSteps()) {
                throw new InvalidHyperParameterException(problem + "; weights and updater state are unchanged.");
            }
        }
        if (problem != null) {
            skippedSteps++;
            log.warn("{}: step skipped, weights and updater state unchanged ({} skipped so far).", problem, skippedSteps);
        }
        int applicationsSoFar = current != null && current.iteration() == iteration ? current.applications() : 0;
        boolean updatersMayWriteWeights = !sharing && !updatesVisible;
        return OptimizerStep.afterUpdaterPass(new StepTarget(blocks, kernels, net.params(), gradients), iteration,
                updatersMayWriteWeights, problem, applicationsSoFar);
    }

    /** What is wrong with any block's learning rate or schedules at this iteration, or null. */
    private String hyperParameterProblem(int iteration, int epoch) {
        for (BoundBlock block : blocks) {
            SrGradientUpdater<?> u = block.updater();
            String problem = u == null ? null : HyperParameters.stepProblem(u.hyperParameters(), iteration, epoch);
            if (problem != null) {
                return "Iteration " + iteration + ": the updater " + u.hyperParameters() + " of parameters "
                        + block.name() + ": " + problem;
            }
        }
        return null;
    }

    /** The step function's work (see {@link OptimizerStep#apply}). */
    void step(INDArray params, INDArray update) {
        if (net.updaterIfExists() != boundUpdater) {
            // DL4J rebuilt its updater and no SR updater ran: bind it (refused with a message if it does not round)
            rebind();
        }
        int iteration = net.iterationCount();
        if (current == null || current.iteration() != iteration) {
            // An update applied without an updater pass in this iteration (gradient sharing).
            current = OptimizerStep.sharedUpdateOnly(new StepTarget(blocks, kernels, net.params(), net.gradients()),
                    iteration);
        }
        current.apply(params, update);
    }

    /**
     * From now on every update is written over the gradient array before the step function applies it (the unfused
     * path: same arithmetic, same rounding, same random bits, so results are bit-identical), so that listeners can
     * read it after the step.
     */
    public void makeUpdatesVisible() {
        updatesVisible = true;
    }

    public Model model() {
        return net.model();
    }

    public AttachSettings settings() {
        return settings;
    }

    /** True when the last step changed nothing (non-finite gradient or invalid hyper-parameter). */
    public boolean lastStepSkipped() {
        return current != null && current.skipped();
    }

    /** See {@code Bf16Attachment.permitGradientSharing}. */
    public void permitGradientSharing() {
        gradientSharingPermitted = true;
    }

    /** Steps skipped because of non-finite values. */
    public long skippedSteps() {
        return skippedSteps;
    }

    public Kernels kernels() {
        return kernels;
    }
}
