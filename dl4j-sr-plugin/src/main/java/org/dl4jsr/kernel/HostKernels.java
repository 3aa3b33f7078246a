package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link Kernels} as multi-threaded Java loops over the arrays' host buffers: no JNI call per element and no
 * allocation per call once the arrays involved have been seen (their buffer views are cached by identity).
 * One pass runs at a time per instance; the operands of the running pass live in fields read by the loop bodies.
 */
public final class HostKernels implements Kernels {
    private final ParallelRunner runner;
    private final HostArrayCache cache = new HostArrayCache();

    // Operands of the pass in progress (written before the runner starts, read by its threads).
    private HostArray a;
    private HostArray b;
    private long aOffset;
    private long bOffset;
    private Rounding rounding;
    private long weightKey;
    private long momentKey;
    private long rngIndex;
    private AdamWStep adam;
    private HostArray grad;
    private HostArray params;
    private HostArray state;
    private HostArray comp;
    private long compOffset;
    private volatile boolean finite;

    private final ParallelRunner.Body roundBody = this::roundChunk;
    private final ParallelRunner.Body updateBody = this::updateChunk;
    private final ParallelRunner.Body compensatedBody = this::compensatedChunk;
    private final ParallelRunner.Body adamBody = this::adamChunk;
    private final ParallelRunner.Body finiteBody = this::finiteChunk;

    public HostKernels(ParallelRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return "host(" + runner.threads() + " threads)";
    }

    @Override
    public synchronized void round(INDArray src, long srcOffset, INDArray dst, long dstOffset, long n,
                                   Rounding rounding, long key, long rngIndex) {
        setOperands(src, srcOffset, dst, dstOffset, n, rounding, key, rngIndex);
        requireGridFor(b, rounding);
        runner.run(n, roundBody);
    }

    /** Operands of a two-array pass: a at aOffset, b at bOffset, n elements, rounded with the key's weight draw. */
    private void setOperands(INDArray first, long firstOffset, INDArray second, long secondOffset, long n,
                             Rounding rounding, long key, long rngIndex) {
        this.a = operand(first, firstOffset, n);
        this.b = operand(second, secondOffset, n);
        this.aOffset = firstOffset;
        this.bOffset = secondOffset;
        this.rounding = rounding;
        this.weightKey = CounterRng.drawKey(key, CounterRng.WEIGHT);
        this.rngIndex = rngIndex;
    }

    private void roundChunk(long from, long to, Tile t) {
        for (long i = from; i < to; i += Tile.SIZE) {
            int n = (int) Math.min(Tile.SIZE, to - i);
            a.loadBits(aOffset + i, t.xBits, n, t);
            TileOps.roundWeights(t.xBits, n, rounding, weightKey, rngIndex + i);
            b.storeBits(bOffset + i, t.xBits, n, t);
        }
    }

    @Override
    public synchronized void applyUpdate(INDArray x, long xOffset, INDArray u, long uOffset, long n,
                                         Rounding rounding, long key, long rngIndex) {
        setOperands(x, xOffset, u, uOffset, n, rounding, key, rngIndex);
        requireGridFor(a, rounding);
        runner.run(n, updateBody);
    }

    private void updateChunk(long from, long to, Tile t) {
        for (long i = from; i < to; i += Tile.SIZE) {
            int n = (int) Math.min(Tile.SIZE, to - i);
            a.load(aOffset + i, t.x, n, t);
            b.load(bOffset + i, t.u, n, t);
            TileOps.subtract(t.x, t.u, n);
            t.toBits(t.x, t.xBits, n);
            TileOps.roundWeights(t.xBits, n, rounding, weightKey, rngIndex + i);
            a.storeBits(aOffset + i, t.xBits, n, t);
        }
    }

    @Override
    public synchronized void applyCompensatedUpdate(INDArray x, long xOffset, INDArray u, long uOffset, INDArray comp,
                                                    long compOffset, long n) {
        setOperands(x, xOffset, u, uOffset, n, Rounding.KAHAN, 0, 0);
        this.comp = compensationOperand(comp, compOffset, n);
        this.compOffset = compOffset;
        runner.run(n, compensatedBody);
    }

    private void compensatedChunk(long from, long to, Tile t) {
        for (long i = from; i < to; i += Tile.SIZE) {
            int n = (int) Math.min(Tile.SIZE, to - i);
            a.load(aOffset + i, t.x, n, t);
            b.load(bOffset + i, t.u, n, t);
            loadCompensation(comp, compOffset, i, n, t);
            TileOps.compensatedUpdate(t.x, t.c, t.u, t.xBits, t.cBits, n, t);
            a.storeBits(aOffset + i, t.xBits, n, t);
            storeCompensation(comp, compOffset, i, n, t);
        }
    }

    /** The packed compensation of elements [i, i + n) into t.c; i is even (chunks and tiles have even sizes). */
    private static void loadCompensation(HostArray h, long offset, long i, int n, Tile t) {
        h.loadBits(offset + i / 2, t.cPairs, (n + 1) / 2, t);
        TileOps.unpackPairs(t.cPairs, t.cBits, n);
        t.toFloats(t.cBits, t.c, n);
    }

    /** t.cBits packed back into the slots of elements [i, i + n). */
    private static void storeCompensation(HostArray h, long offset, long i, int n, Tile t) {
        TileOps.packPairs(t.cBits, t.cPairs, n);
        h.storeBits(offset + i / 2, t.cPairs, (n + 1) / 2, t);
    }

    private HostArray compensationOperand(INDArray array, long offset, long n) {
        if (offset < 0) {
            throw new IllegalArgumentException("KAHAN weight rounding needs the offset of its compensation (AdamWStep"
                    + ".compensationOffset)");
        }
        HostArray h = operand(array, offset, Kernels.compensationSlots(n));
        if (h.isBf16()) {
            throw new IllegalArgumentException("A Kahan compensation is packed two per 32-bit slot: it needs a FLOAT"
                    + " array, got BFLOAT16");
        }
        return h;
    }

    @Override
    public synchronized void adamW(AdamWStep s) {
        this.grad = operand(s.grad, s.gradOffset, s.length);
        this.params = operand(s.params, s.paramsOffset, s.length);
        this.state = operand(s.state, s.mOffset, s.length);
        if (s.packedMoments && state.isBf16()) {
            throw new IllegalArgumentException("Packed moments need a FLOAT state array");
        }
        if (!s.packedMoments) {
            operand(s.state, s.vOffset, s.length);
        }
        if (s.hasMaster()) {
            if (state.isBf16()) {
                throw new IllegalArgumentException("FP32 master weights need a FLOAT state array");
            }
            operand(s.state, s.masterOffset, s.length);
        }
        if (s.compensated()) {
            if (s.hasMaster()) {
                throw new IllegalArgumentException("KAHAN weights and FP32 master weights exclude each other");
            }
            compensationOperand(s.state, s.compensationOffset, s.length);
        }
        requireGridFor(state, s.stateRounding);
        if (s.applyToWeights) {
            requireGridFor(params, s.weightRounding);
        }
        this.weightKey = CounterRng.drawKey(s.key, CounterRng.WEIGHT);
        this.momentKey = CounterRng.drawKey(s.key, CounterRng.MOMENTS);
        this.adam = s;
        try {
            runner.run(s.length, adamBody);
        } finally {
            this.adam = null;
        }
    }

    private void adamChunk(long from, long to, Tile t) {
        final AdamWStep s = adam;
        final boolean readX = s.readsWeights();
        for (long i = from; i < to; i += Tile.SIZE) {
            int n = (int) Math.min(Tile.SIZE, to - i);
            long index = s.rngIndex + i;
            grad.load(s.gradOffset + i, t.g, n, t);
            if (s.packedMoments) {
                state.loadBits(s.mOffset + i, t.xBits, n, t);
                TileOps.unpack(t.xBits, t.mBits, t.vBits, n);
                t.toFloats(t.mBits, t.m, n);
                t.toFloats(t.vBits, t.v, n);
            } else {
                state.load(s.mOffset + i, t.m, n, t);
                state.load(s.vOffset + i, t.v, n, t);
            }
            if (readX) {
                if (s.hasMaster()) {
                    state.load(s.masterOffset + i, t.x, n, t);
                } else {
                    params.load(s.paramsOffset + i, t.x, n, t);
                }
            }
            TileOps.adamW(s, t.g, t.m, t.v, t.x, t.u, n);

            // Moments: round (two 16-bit lanes of one draw) and store.
            t.toBits(t.m, t.mBits, n);
            t.toBits(t.v, t.vBits, n);
            TileOps.roundMoments(t.mBits, t.vBits, n, s.stateRounding, momentKey, index);
            if (s.packedMoments) {
                TileOps.pack(t.mBits, t.vBits, t.xBits, n);
                state.storeBits(s.mOffset + i, t.xBits, n, t);
            } else {
                state.storeBits(s.mOffset + i, t.mBits, n, t);
                state.storeBits(s.vOffset + i, t.vBits, n, t);
            }

            if (!s.applyToWeights) {
                storeUpdate(s.gradOffset + i, t, n);
                continue;
            }
            if (s.compensated()) {
                loadCompensation(state, s.compensationOffset, i, n, t);
                TileOps.compensatedUpdate(t.x, t.c, t.u, t.xBits, t.cBits, n, t);
                params.storeBits(s.paramsOffset + i, t.xBits, n, t);
                storeCompensation(state, s.compensationOffset, i, n, t);
                continue;
            }
            // Weights: x - u in FP32, rounded once.
            TileOps.subtract(t.x, t.u, n);
            if (s.hasMaster()) {
                state.storeFloats(s.masterOffset + i, t.x, n);
            }
            t.toBits(t.x, t.xBits, n);
            TileOps.roundWeights(t.xBits, n, s.weightRounding, weightKey, index);
            params.storeBits(s.paramsOffset + i, t.xBits, n, t);
        }
    }

    /** The update over the gradient: exact in a FLOAT array, rounded to nearest in a BFLOAT16 one. */
    private void storeUpdate(long at, Tile t, int n) {
        if (grad.isBf16()) {
            t.toBits(t.u, t.xBits, n);
            TileOps.roundWeights(t.xBits, n, Rounding.NEAREST, 0, 0);
            grad.storeBits(at, t.xBits, n, t);
        } else {
            grad.storeFloats(at, t.u, n);
        }
    }

    @Override
    public synchronized boolean allFinite(INDArray array, long offset, long n) {
        this.a = operand(array, offset, n);
        this.aOffset = offset;
        this.finite = true;
        runner.run(n, finiteBody);
        return finite;
    }

    private void finiteChunk(long from, long to, Tile t) {
        for (long i = from; i < to && finite; i += Tile.SIZE) {
            int n = (int) Math.min(Tile.SIZE, to - i);
            a.loadBits(aOffset + i, t.xBits, n, t);
            if (!TileOps.allFinite(t.xBits, n)) {
                finite = false;
            }
        }
    }

    private HostArray operand(INDArray array, long offset, long n) {
        HostArray h = cache.get(array);
        if (offset < 0 || n < 0 || offset + n > h.length()) {
            throw new IndexOutOfBoundsException("Run [" + offset + ", " + (offset + n) + ") is outside an array of length "
                    + h.length());
        }
        return h;
    }

    private static void requireGridFor(HostArray destination, Rounding rounding) {
        if (destination.isBf16() && rounding == Rounding.NONE) {
            throw new IllegalArgumentException("Values stored in a BFLOAT16 array must be rounded (STOCHASTIC or NEAREST),"
                    + " not NONE");
        }
    }
}
