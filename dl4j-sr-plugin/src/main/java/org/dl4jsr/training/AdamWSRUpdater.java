package org.dl4jsr.training;

import java.util.LinkedHashMap;
import java.util.Map;
import org.dl4jsr.kernel.AdamWCoefficients;
import org.dl4jsr.kernel.AdamWOperands;
import org.dl4jsr.kernel.AdamWState;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The GradientUpdater of {@code AdamWSR}. Its state view is laid out as {@link AdamWStateLayout} describes.
 *
 * <p>Normally the whole step runs as one fused pass here (gradient, moments and weights read once, new weights
 * written once, rounded once); the step function then skips the block. When DL4J must see the update itself (a
 * POST_UPDATER regularisation on the block, or gradient sharing), the update is written over the gradient instead
 * and the step function applies it with the same rounding and the same random bits.
 */
public final class AdamWSRUpdater extends SrGradientUpdater<AdamWConfig> {
    public static final String STATE_M = "M";
    public static final String STATE_V = "V";
    public static final String STATE_MV_PACKED = "MV";
    public static final String STATE_MASTER = "W";
    public static final String STATE_COMPENSATION = "C";

    private final AdamWConfig config;
    private INDArray state;
    private AdamWStateLayout layout;
    private long n;

    public AdamWSRUpdater(AdamWConfig config, INDArray viewArray, boolean initialize) {
        this.config = config;
        setStateViewArray(viewArray, null, 'c', initialize);
    }

    @Override
    public AdamWConfig getConfig() {
        return config;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (viewArray == null) {
            throw new IllegalArgumentException("AdamWSR needs an updater state array");
        }
        DataType type = viewArray.dataType();
        if (type == DataType.BFLOAT16 && (config.isCompactState() || config.isMasterWeights()
                || config.getStateRounding() == Rounding.NONE || config.isCompensated())) {
            throw new IllegalArgumentException("AdamWSR " + config + " needs FP32 slots in its updater state, but this"
                    + " network is BFLOAT16 (DL4J stores updater state in the network's data type). Compact state, FP32"
                    + " master weights, FP32 state (stateRounding NONE) and KAHAN weights (compensation packed two per"
                    + " 32-bit slot) are for FLOAT networks, the CPU default; a BFLOAT16 network already stores m and v"
                    + " in BF16.");
        }
        if (type != DataType.FLOAT && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("AdamWSR needs a FLOAT or BFLOAT16 network, got updater state of type "
                    + type);
        }
        this.state = viewArray.reshape(viewArray.length());
        if (config.isCompensated()) {
            // Not a multiple of the parameter count (see AdamWStateLayout): known when the block is bound.
            this.n = -1;
            this.layout = null;
        } else {
            useBlockLength(state.length() / AdamWStateLayout.valuesPerParameter(config.isCompactState(),
                    config.isMasterWeights()));
        }
        if (initialize) {
            state.assign(0);
            if (config.isMasterWeights()) {
                master().assign(Float.NaN); // "not initialised": attach copies the network's weights in
            }
        }
    }

    @Override
    void bound(BlockBinding b) {
        useBlockLength(b.length());
    }

    /**
     * Sets the number of parameters of this updater's block. Attach does it; the converter does it for networks not
     * attached yet (a KAHAN layout cannot be found from the state's length alone).
     */
    public void useBlockLength(long parameters) {
        AdamWStateLayout l = AdamWStateLayout.of(config, parameters);
        if (l.size() > state.length()) {
            throw new IllegalStateException("AdamWSR state holds " + state.length() + " values, too few for "
                    + parameters + " parameters under " + config);
        }
        this.n = parameters;
        this.layout = l;
    }

    private AdamWStateLayout layout() {
        requireBlockLength();
        return layout;
    }

    /**
     * Refuses to read or write the state before the block's parameter count is known: a KAHAN layout is not a
     * multiple of it, so it is set when the block is bound (attach) or by the converter ({@link #useBlockLength}).
     */
    private void requireBlockLength() {
        if (layout == null) {
            throw new Bf16NotAttachedException(config);
        }
    }

    private long masterOffset() {
        return layout.masterOffset();
    }

    private INDArray master() {
        return state.get(NDArrayIndex.interval(masterOffset(), masterOffset() + n));
    }

    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> map = new LinkedHashMap<>();
        requireBlockLength();
        if (config.isCompactState()) {
            map.put(STATE_MV_PACKED, state.get(NDArrayIndex.interval(0, n)));
        } else {
            map.put(STATE_M, state.get(NDArrayIndex.interval(0, n)));
            map.put(STATE_V, state.get(NDArrayIndex.interval(n, 2 * n)));
        }
        if (config.isMasterWeights()) {
            map.put(STATE_MASTER, master());
        }
        if (config.isCompensated()) {
            map.put(STATE_COMPENSATION, compensationSlots());
        }
        return map;
    }

    private INDArray compensationSlots() {
        long c = layout().compensationOffset();
        return state.get(NDArrayIndex.interval(c, c + Kernels.compensationSlots(n)));
    }

    /** The Kahan compensation as n FP32 values (only with KAHAN weights): the weights' FP32 value is w + c. */
    public INDArray compensation() {
        float[] slots = compensationSlots().toFloatVector();
        float[] c = new float[(int) n];
        for (int i = 0; i < c.length; i++) {
            int slot = Float.floatToRawIntBits(slots[i / 2]);
            c[i] = Float.intBitsToFloat(i % 2 == 0 ? Bf16.highOfPair(slot) : Bf16.lowOfPair(slot));
        }
        return Nd4j.createFromArray(c);
    }

    /** Stores n compensation values (on the BF16 grid), packed two per slot; only with KAHAN weights. */
    public void setCompensation(INDArray values) {
        float[] c = values.toFloatVector();
        for (float v : c) {
            if (!Bf16.isOnGrid(v) || !Float.isFinite(v)) {
                throw new IllegalArgumentException("A Kahan compensation holds finite BF16 values, got " + v);
            }
        }
        setCompensation(c);
    }

    private void setCompensation(float[] c) {
        float[] slots = new float[(int) Kernels.compensationSlots(n)];
        for (int j = 0; j < slots.length; j++) {
            int high = Float.floatToRawIntBits(c[2 * j]);
            int low = 2 * j + 1 < c.length ? Float.floatToRawIntBits(c[2 * j + 1]) : 0;
            slots[j] = Float.intBitsToFloat(Bf16.packPair(high, low));
        }
        compensationSlots().assign(Nd4j.createFromArray(slots));
    }

    public boolean hasCompensation() {
        return config.isCompensated();
    }

    /** FP32 copies of m and v (unpacked when compact). */
    public INDArray[] moments() {
        requireBlockLength();
        if (!config.isCompactState()) {
            return new INDArray[] {state.get(NDArrayIndex.interval(0, n)).castTo(DataType.FLOAT).dup(),
                state.get(NDArrayIndex.interval(n, 2 * n)).castTo(DataType.FLOAT).dup()};
        }
        float[] slots = state.get(NDArrayIndex.interval(0, n)).toFloatVector();
        float[] m = new float[slots.length];
        float[] v = new float[slots.length];
        for (int i = 0; i < slots.length; i++) {
            int slot = Float.floatToRawIntBits(slots[i]);
            m[i] = Float.intBitsToFloat(Bf16.highOfPair(slot));
            v[i] = Float.intBitsToFloat(Bf16.lowOfPair(slot));
        }
        return new INDArray[] {Nd4j.createFromArray(m), Nd4j.createFromArray(v)};
    }

    /**
     * Stores FP32 moments in this updater's layout: rounded with the configured state rounding (m and v with
     * independent keys), packed when compact.
     */
    public void setMoments(INDArray m, INDArray v, Kernels kernels, long keyM, long keyV, long rngIndex) {
        requireBlockLength();
        INDArray mGrid = Nd4j.create(DataType.FLOAT, n);
        INDArray vGrid = Nd4j.create(DataType.FLOAT, n);
        Rounding rounding = config.getStateRounding();
        kernels.round(m.castTo(DataType.FLOAT).reshape(n), 0, mGrid, 0, n, rounding, keyM, rngIndex);
        kernels.round(v.castTo(DataType.FLOAT).reshape(n), 0, vGrid, 0, n, rounding, keyV, rngIndex);
        if (!config.isCompactState()) {
            state.get(NDArrayIndex.interval(0, n)).assign(mGrid);
            state.get(NDArrayIndex.interval(n, 2 * n)).assign(vGrid);
            return;
        }
        float[] mv = mGrid.toFloatVector();
        float[] vv = vGrid.toFloatVector();
        float[] slots = new float[mv.length];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = Float.intBitsToFloat(Bf16.packPair(Float.floatToRawIntBits(mv[i]), Float.floatToRawIntBits(vv[i])));
        }
        state.get(NDArrayIndex.interval(0, n)).assign(Nd4j.createFromArray(slots));
    }

    public boolean hasMaster() {
        return config.isMasterWeights();
    }

    /** A copy of the FP32 master weights (only with masterWeights). */
    public INDArray masterCopy() {
        return master().dup();
    }

    public void setMaster(INDArray weights) {
        master().assign(weights.reshape(n));
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        throw new UnsupportedOperationException("AdamWSR keeps its state in the network's updater state view array");
    }

    @Override
    void validateFor(DataType dataType, String blockName) {
        if (dataType == DataType.BFLOAT16 && state.dataType() != DataType.BFLOAT16) {
            throw new IllegalStateException("Updater state of block " + blockName + " is " + state.dataType()
                    + " on a BFLOAT16 network");
        }
    }

    /**
     * Puts the weights on the grid. With KAHAN a weight off the grid (an FP32 network being attached) is rounded to
     * nearest, whatever the initial rounding, and its compensation becomes what that threw away (nearest BF16 of
     * x - nearest(x)), so w + c keeps the FP32 value; a weight on the grid and its compensation are left as they are
     * (re-attaching a restored checkpoint changes no bit).
     */
    @Override
    void prepareWeights(INDArray params, Kernels kernels, Rounding initialRounding, long key) {
        if (config.isCompensated()) {
            BlockBinding b = binding();
            INDArray x = params.reshape(params.length()).get(NDArrayIndex.interval(b.start(), b.start() + n));
            float[] weights = x.toFloatVector();
            float[] c = compensation().toFloatVector();
            boolean changed = false;
            for (int i = 0; i < weights.length; i++) {
                if (!Bf16.isOnGrid(weights[i]) && Float.isFinite(weights[i])) {
                    float w = Bf16.roundNearestEven(weights[i]);
                    c[i] = Bf16.roundNearestEven(weights[i] - w);
                    weights[i] = w;
                    changed = true;
                }
            }
            if (changed) {
                x.assign(Nd4j.createFromArray(weights));
                setCompensation(c);
            }
            return;
        }
        if (!config.isMasterWeights()) {
            super.prepareWeights(params, kernels, initialRounding, key);
            return;
        }
        BlockBinding b = binding();
        if (Float.isNaN(state.getFloat(masterOffset()))) {
            kernels.round(params, b.start(), state, masterOffset(), n, Rounding.NONE, key, b.start());
        }
        for (long[] r : b.writtenRanges()) {
            long m = masterOffset() + r[0] - b.start();
            kernels.round(state, m, params, r[0], r[1] - r[0], config.getWeightRounding(), key, r[0]);
        }
    }

    @Override
    IUpdater hyperParameters() {
        return config;
    }

    @Override
    void computeUpdate(OptimizerStep step, BlockBinding b, INDArray gradient, int iteration, int epoch) {
        if (n != b.length()) {
            throw new IllegalStateException("AdamWSR state holds " + n + " parameters, its block has " + b.length());
        }
        AdamWCoefficients coefficients = coefficients(config.getLearningRate(iteration, epoch), iteration,
                step.updateKey(b.seed()));
        boolean flat = step.isFlatGradientView(gradient, b.start());
        AdamWOperands operands = new AdamWOperands(flat ? step.gradients() : gradient, flat ? b.start() : 0,
                step.params(), b.start(), stateOperands(), n, b.start(),
                step.canWriteWeights(b) ? AdamWOperands.Output.WEIGHTS : AdamWOperands.Output.UPDATE);
        step.kernels().adamW(coefficients, operands);
        if (operands.output() == AdamWOperands.Output.WEIGHTS) {
            step.weightsWritten(b);
        }
    }

    /** The coefficients of the step after {@code iteration} steps, in FP32 as ND4J's adam_updater computes them. */
    private AdamWCoefficients coefficients(double lr, int iteration, long key) {
        double t = iteration + 1.0;
        double alpha = lr * Math.sqrt(1 - Math.pow(config.getBeta2(), t)) / (1 - Math.pow(config.getBeta1(), t));
        float beta1 = (float) config.getBeta1();
        float beta2 = (float) config.getBeta2();
        return new AdamWCoefficients(beta1, beta2, 1f - beta1, 1f - beta2, (float) alpha,
                (float) config.getEpsilon(), (float) (lr * config.getWeightDecay()),
                config.getWeightRounding(), config.getStateRounding(), key);
    }

    /** Where this block's state lives in its state array, as {@link AdamWStateLayout} says. */
    private AdamWState stateOperands() {
        AdamWState moments = layout.packed() ? AdamWState.packed(state, layout.momentsOffset())
                : AdamWState.separate(state, layout.momentsOffset(), n);
        if (layout.hasMaster()) {
            return moments.withMaster(layout.masterOffset());
        }
        return layout.hasCompensation() ? moments.withCompensation(layout.compensationOffset()) : moments;
    }

    @Override
    void applyToWeights(OptimizerStep step, INDArray params, INDArray update, long key) {
        if (config.isCompensated()) {
            BlockBinding b = binding();
            step.kernels().applyCompensatedUpdate(params, b.start(), update, b.start(), state,
                    layout().compensationOffset(), n);
            return;
        }
        if (!config.isMasterWeights()) {
            super.applyToWeights(step, params, update, key);
            return;
        }
        BlockBinding b = binding();
        for (long[] r : b.writtenRanges()) {
            long m = masterOffset() + r[0] - b.start();
            step.kernels().applyUpdate(state, m, update, r[0], r[1] - r[0], Rounding.NONE, key, r[0]);
            step.kernels().round(state, m, params, r[0], r[1] - r[0], config.getWeightRounding(), key, r[0]);
        }
    }
}
