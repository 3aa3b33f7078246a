package org.dl4jsr.diagnostics;

import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.dl4jsr.training.TrainingEngine;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.NoOpUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training listener that measures how much of each weight update BF16 can represent: per layer and overall, the
 * fraction of updates smaller than half a BF16 step of their weight (round-to-nearest throws them away: "stalled"),
 * and the mean relative update size {@code sum|u| / sum|w|} (over the measured parameters). Add it to any MultiLayerNetwork or ComputationGraph,
 * attached for BF16 or plain FP32 ({@code net.addListeners(StagnationMeter.builder().build())}).
 *
 * <p>What is measured: {@code u} is the FP32 update DL4J's step applies ({@code x = x - u}, learning rate, Adam
 * scaling and decoupled weight decay included), {@code w} the weight before the step, and half a BF16 step of
 * {@code w} is {@code 2^(e-8)} for {@code |w|} in {@code [2^e, 2^(e+1))} (BF16 keeps 8 significant bits). An update is
 * stalled when {@code |u| < 2^(e-8)}: vanilla BF16 loses it; stochastic rounding applies it with probability
 * {@code |u| / step} only, so it survives in expectation but as noise; FP32 master weights keep it, and so does a
 * Kahan compensation (AdamWSR weightRounding KAHAN), until the kept updates add up to a BF16 step. The meter measures
 * the same thing for every strategy: how much of the update the weight alone cannot hold. Updates that are
 * exactly zero and NoOp/frozen parameters (FrozenLayer and FrozenLayerWithBackprop) are not counted; a step whose update holds NaN/Inf (skipped by the plugin)
 * is not counted.
 *
 * <p>How: the weights are copied when the gradient is ready ({@code onGradientCalculation}) and the update is read
 * from the network's gradient array after the step ({@code iterationDone}): DL4J's updaters leave the update there. On
 * an attached network the meter asks the plugin not to fuse {@code AdamWSR}'s pass, so that the update is written
 * there too; the results stay bit-identical. Cost per iteration: a bulk copy of the weights and of the update, one
 * vectorised counting loop and two ND4J sums per layer (see {@link #getOverheadNanos()}).
 *
 * <p>Every {@code logEvery} iterations it logs a {@link StagnationReport} of that window and keeps it ({@link #getLastReport()});
 * when the overall stalled fraction is at least {@code warnFraction} for {@code warnAfter} windows in a row it logs a
 * warning with advice. Not thread-safe: one meter per network.
 *
 * <p>A listener with its windowing, per-layer segments, report and builder; the counting definition is in
 * {@link StalledUpdates}.
 */
public final class StagnationMeter extends BaseTrainingListener {
    private static final Logger log = LoggerFactory.getLogger(StagnationMeter.class);
    private static final String OVERALL = "overall";

    private final int logEvery;
    private final double warnFraction;
    private final int warnAfter;

    private BaseMultiLayerUpdater<?> segmentsOf;
    private final List<Segment> segments = new ArrayList<>();
    private final Map<String, Accumulator> window = new LinkedHashMap<>();
    /** FP32 bit patterns of the weights before the step and of the step's update (bulk copies of the arrays). */
    private int[] before = new int[0];
    private int[] after = new int[0];
    /** sum |w| per segment, before the step. */
    private double[] weightNorms = new double[0];
    private final SegmentViews paramViews = new SegmentViews();
    private final SegmentViews updateViews = new SegmentViews();
    private boolean snapshotTaken;
    private int windowFirstIteration = -1;
    private int windowIterations;
    private long windowSkippedSteps;
    private StagnationReport lastReport;
    private int highWindows;
    private boolean stagnating;
    private long measuredIterations;
    private long overheadNanos;

    /** A run of parameters [start, end) of one layer in the flat parameter/gradient arrays. */
    private record Segment(String layer, int start, int end) {
    }

    private static final class Accumulator {
        long updates;
        long stalled;
        double sumAbsUpdate;
        double sumAbsWeight;

        void add(Accumulator o) {
            updates += o.updates;
            stalled += o.stalled;
            sumAbsUpdate += o.sumAbsUpdate;
            sumAbsWeight += o.sumAbsWeight;
        }

        StagnationStats toStats() {
            return new StagnationStats(updates, stalled, sumAbsUpdate, sumAbsWeight);
        }
    }

    private StagnationMeter(Builder b) {
        this.logEvery = b.logEvery;
        this.warnFraction = b.warnFraction;
        this.warnAfter = b.warnAfter;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void onGradientCalculation(Model model) {
        long t0 = System.nanoTime();
        Network net = Network.of(model);
        TrainingEngine engine = TrainingEngine.installedOn(model);
        if (engine != null) {
            engine.makeUpdatesVisible();
        }
        updateSegments(net.updater());
        INDArray params = floats(net.params());
        if (before.length != params.length()) {
            before = new int[(int) params.length()];
        }
        bits(params).get((int) params.offset(), before, 0, before.length);
        INDArray[] views = paramViews.of(params);
        for (int k = 0; k < segments.size(); k++) {
            weightNorms[k] = views[k].norm1Number().doubleValue();
        }
        snapshotTaken = true;
        overheadNanos += System.nanoTime() - t0;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (!snapshotTaken) {
            return; // added in the middle of an iteration
        }
        snapshotTaken = false;
        long t0 = System.nanoTime();
        TrainingEngine engine = TrainingEngine.installedOn(model);
        if (engine != null && engine.lastStepSkipped()) {
            windowSkippedSteps++; // the gradient array holds no update: nothing to measure
            return;
        }
        Network net = Network.of(model);
        INDArray update = floats(net.gradients());
        if (after.length != update.length()) {
            after = new int[(int) update.length()];
        }
        bits(update).get((int) update.offset(), after, 0, after.length);
        if (!measure(update)) {
            overheadNanos += System.nanoTime() - t0;
            return;
        }
        measuredIterations++;
        if (windowIterations == 0) {
            windowFirstIteration = iteration;
        }
        windowIterations++;
        if (windowIterations >= logEvery) {
            finishWindow(iteration);
        }
        overheadNanos += System.nanoTime() - t0;
    }

    /**
     * Adds this iteration's counts to the window; false (nothing added) when the update holds NaN or Inf. Counting
     * runs over int copies of the bit patterns (a loop HotSpot vectorises); the sums of magnitudes are ND4J
     * reductions on the network's own arrays.
     */
    private boolean measure(INDArray update) {
        Accumulator[] perSegment = new Accumulator[segments.size()];
        INDArray[] views = updateViews.of(update);
        for (int k = 0; k < perSegment.length; k++) {
            Segment s = segments.get(k);
            long counts = StalledUpdates.count(after, before, s.start, s.end);
            if (counts < 0) {
                return false; // NaN or Inf: the plugin skips such a step, and so does the meter
            }
            Accumulator a = new Accumulator();
            a.updates = counts >>> 32;
            a.stalled = counts & 0xFFFFFFFFL;
            a.sumAbsUpdate = views[k].norm1Number().doubleValue();
            a.sumAbsWeight = weightNorms[k];
            perSegment[k] = a;
        }
        for (int k = 0; k < perSegment.length; k++) {
            window.computeIfAbsent(OVERALL, key -> new Accumulator()).add(perSegment[k]);
            window.computeIfAbsent(segments.get(k).layer, key -> new Accumulator()).add(perSegment[k]);
        }
        return true;
    }

    private void finishWindow(int lastIteration) {
        Map<String, StagnationStats> layers = new LinkedHashMap<>();
        for (Map.Entry<String, Accumulator> e : window.entrySet()) {
            if (!e.getKey().equals(OVERALL)) {
                layers.put(e.getKey(), e.getValue().toStats());
            }
        }
        Accumulator overall = window.getOrDefault(OVERALL, new Accumulator());
        lastReport = new StagnationReport(windowFirstIteration, lastIteration, overall.toStats(),
                Collections.unmodifiableMap(layers), windowSkippedSteps);
        window.clear();
        windowSkippedSteps = 0;
        windowIterations = 0;
        log.info("StagnationMeter {}", lastReport);

        boolean high = lastReport.overall().updates() > 0 && lastReport.overall().stalledFraction() >= warnFraction;
        highWindows = high ? highWindows + 1 : 0;
        if (highWindows == warnAfter) {
            stagnating = true;
            log.warn("StagnationMeter: {}% or more of the weight updates have been smaller than half a BF16 step of"
                    + " their weight for {} windows of {} iterations (now {}%). With round-to-nearest (vanilla BF16)"
                    + " these updates are lost and training stalls: for BF16 the learning rate is low here (typical in"
                    + " the tail of a decaying schedule, or for large weights such as layer-norm gains). Stochastic"
                    + " rounding still applies them, but only in expectation (as noise of one BF16 step); Kahan"
                    + " compensation (weightRounding KAHAN) keeps them in its buffer until they add up to a step."
                    + " Consider a higher learning rate (SR tolerates rates well above those stable for mixed"
                    + " precision), a schedule with a higher floor, stochastic rounding or Kahan compensation instead of"
                    + " round-to-nearest, or FP32 master weights (AdamWSR.masterWeights(true)). {}", Math.round(100 * warnFraction), warnAfter, logEvery,
                    Math.round(100 * lastReport.overall().stalledFraction()), lastReport);
        } else if (!high) {
            stagnating = false;
        }
    }

    /** Rebuilds the list of measured parameter runs when the network's updater object changes. */
    private void updateSegments(BaseMultiLayerUpdater<?> updater) {
        if (updater == segmentsOf) {
            return;
        }
        segmentsOf = updater;
        segments.clear();
        for (Object o : updater.getUpdaterBlocks()) {
            UpdaterBlock block = (UpdaterBlock) o;
            if (block.getGradientUpdater() instanceof NoOpUpdater) {
                continue; // frozen parameters and statistics: DL4J's own business, not a weight update
            }
            for (Object p : block.getLayersAndVariablesInBlock()) {
                UpdaterBlock.ParamState ps = (UpdaterBlock.ParamState) p;
                if (FrozenParameters.isFrozen(ps.getLayer())) {
                    continue; // FrozenLayerWithBackprop inside an ordinary block: never updated, not a weight update
                }
                String layer = ps.getLayer().getConfig().getLayerName();
                Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
                if (last != null && last.layer.equals(layer) && last.end == ps.getParamOffsetStart()) {
                    segments.set(segments.size() - 1, new Segment(layer, last.start, ps.getParamOffsetEnd()));
                } else {
                    segments.add(new Segment(layer, ps.getParamOffsetStart(), ps.getParamOffsetEnd()));
                }
            }
        }
        weightNorms = new double[segments.size()];
        paramViews.clear();
        updateViews.clear();
    }

    /** Views of the segments of one flat array, kept while the array (and the segments) stay the same. */
    private final class SegmentViews {
        private INDArray flat;
        private INDArray[] views;

        INDArray[] of(INDArray array) {
            if (array != flat) {
                flat = array;
                INDArray vector = array.reshape(array.length());
                views = new INDArray[segments.size()];
                for (int k = 0; k < views.length; k++) {
                    views[k] = vector.get(NDArrayIndex.interval(segments.get(k).start, segments.get(k).end));
                }
            }
            return views;
        }

        void clear() {
            flat = null;
        }
    }

    private static INDArray floats(INDArray a) {
        return a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    }

    private static IntBuffer bits(INDArray floats) {
        return floats.data().asNio().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    }

    /** The last completed window, or null before the first {@code logEvery} iterations have been measured. */
    public StagnationReport getLastReport() {
        return lastReport;
    }

    /** True from the warning on, until a window's stalled fraction falls below {@code warnFraction}. */
    public boolean isStagnating() {
        return stagnating;
    }

    /** Iterations measured so far. */
    public long getMeasuredIterations() {
        return measuredIterations;
    }

    /** Time spent in the meter's own callbacks so far (copying weights, reading updates, counting). */
    public long getOverheadNanos() {
        return overheadNanos;
    }

    public int getLogEvery() {
        return logEvery;
    }

    /** Builder; defaults: log every 100 iterations, warn when at least 50% stall for 3 windows in a row. */
    public static final class Builder {
        private int logEvery = 100;
        private double warnFraction = 0.5;
        private int warnAfter = 3;

        /** Iterations per window (one log line and one {@link StagnationReport} per window). */
        public Builder logEvery(int iterations) {
            if (iterations < 1) {
                throw new IllegalArgumentException("StagnationMeter: logEvery must be >= 1, got " + iterations);
            }
            this.logEvery = iterations;
            return this;
        }

        /** Stalled fraction (0..1] at or above which a window counts towards the warning. */
        public Builder warnFraction(double fraction) {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("StagnationMeter: warnFraction must be in (0, 1], got " + fraction);
            }
            this.warnFraction = fraction;
            return this;
        }

        /** Consecutive high windows before the warning. */
        public Builder warnAfter(int windows) {
            if (windows < 1) {
                throw new IllegalArgumentException("StagnationMeter: warnAfter must be >= 1, got " + windows);
            }
            this.warnAfter = windows;
            return this;
        }

        public StagnationMeter build() {
            return new StagnationMeter(this);
        }
    }
}
