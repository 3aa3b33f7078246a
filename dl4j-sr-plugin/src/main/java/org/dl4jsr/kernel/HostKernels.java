package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.ndarray.INDArray;
import static org.dl4jsr.kernel.OperandChecks.requireAdamW;
import static org.dl4jsr.kernel.OperandChecks.requireCompensation;
import static org.dl4jsr.kernel.OperandChecks.requireGridFor;
import static org.dl4jsr.kernel.OperandChecks.requireRun;

/**
 * {@link Kernels} as multi-threaded Java loops over the arrays' host buffers: no JNI call per element, and per call
 * only one small object, the pass (a lambda capturing its operands), once the arrays involved have been seen (their
 * buffer views are cached by identity). Nothing of a pass lives in a field of this class, so calls may come from
 * several threads; the {@link ParallelRunner} runs one pass at a time.
 */
public final class HostKernels implements Kernels {
    private final ParallelRunner runner;
    private final HostArrayCache views = new HostArrayCache();

    public HostKernels(ParallelRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return "host(" + runner.threads() + " threads)";
    }

    /**
     * The body of a pass, one tile at a time: elements [i, i + n) of its runs, n at most {@link Tile#SIZE}. Passes are
     * lambdas that hand their operands, captured at the call, to a static tile method. Chunks and tiles start at even
     * indices (packed compensation relies on it).
     */
    private interface TilePass extends ParallelRunner.Body {
        void tile(long i, int n, Tile t);

        @Override
        default void run(long from, long to, Tile t) {
            for (long i = from; i < to; i += Tile.SIZE) {
                tile(i, (int) Math.min(Tile.SIZE, to - i), t);
            }
        }
    }

    @Override
    public void round(INDArray src, long srcOffset, INDArray dst, long dstOffset, long n,
                      Rounding rounding, long key, long rngIndex) {
        HostArray from = view(src, srcOffset, n);
        HostArray to = view(dst, dstOffset, n);
        requireGridFor(dst, rounding);
        TilePass pass = (i, k, t) -> roundTile(from, srcOffset + i, to, dstOffset + i, rounding, key, rngIndex + i, k, t);
        runner.run(n, pass);
    }

    /** dst = round(src) for n elements from srcAt and dstAt, as bit patterns (rounding keeps NaN payloads). */
    private static void roundTile(HostArray src, long srcAt, HostArray dst, long dstAt, Rounding rounding, long key,
                                  long index, int n, Tile t) {
        src.loadBits(srcAt, t.xBits, n, t);
        TileOps.roundWeights(t.xBits, n, rounding, weightKey(key), index);
        dst.storeBits(dstAt, t.xBits, n, t);
    }

    @Override
    public void applyUpdate(INDArray x, long xOffset, INDArray u, long uOffset, long n,
                            Rounding rounding, long key, long rngIndex) {
        HostArray weights = view(x, xOffset, n);
        HostArray update = view(u, uOffset, n);
        requireGridFor(x, rounding);
        TilePass pass = (i, k, t) -> updateTile(weights, xOffset + i, update, uOffset + i, rounding, key, rngIndex + i,
                k, t);
        runner.run(n, pass);
    }

    /** x = round(x - u) in FP32 for n elements from xAt and uAt. */
    private static void updateTile(HostArray x, long xAt, HostArray u, long uAt, Rounding rounding, long key,
                                   long index, int n, Tile t) {
        x.load(xAt, t.x, n, t);
        u.load(uAt, t.u, n, t);
        TileOps.subtract(t.x, t.u, n);
        t.toBits(t.x, t.xBits, n);
        TileOps.roundWeights(t.xBits, n, rounding, weightKey(key), index);
        x.storeBits(xAt, t.xBits, n, t);
    }

    @Override
    public void applyCompensatedUpdate(INDArray x, long xOffset, INDArray u, long uOffset, INDArray comp,
                                       long compOffset, long n) {
        HostArray weights = view(x, xOffset, n);
        HostArray update = view(u, uOffset, n);
        requireCompensation(comp, compOffset, n);
        HostArray compensation = views.get(comp);
        TilePass pass = (i, k, t) -> {
            weights.load(xOffset + i, t.x, k, t);
            update.load(uOffset + i, t.u, k, t);
            compensatedTile(weights, xOffset + i, compensation, compOffset + i / 2, k, t);
        };
        runner.run(n, pass);
    }

    /**
     * The Kahan-compensated update of n elements whose weights (t.x) and update (t.u) are loaded: the new weights go
     * to x from xAt, the new compensation to its packed slots from slotAt.
     */
    private static void compensatedTile(HostArray x, long xAt, HostArray comp, long slotAt, int n, Tile t) {
        comp.loadBits(slotAt, t.cPairs, (n + 1) / 2, t);
        TileOps.unpackPairs(t.cPairs, t.cBits, n);
        t.toFloats(t.cBits, t.c, n);
        TileOps.compensatedUpdate(t.x, t.c, t.u, t.xBits, t.cBits, n, t);
        x.storeBits(xAt, t.xBits, n, t);
        TileOps.packPairs(t.cBits, t.cPairs, n);
        comp.storeBits(slotAt, t.cPairs, (n + 1) / 2, t);
    }

    @Override
    public void adamW(AdamWCoefficients c, AdamWOperands o) {
        requireAdamW(c, o);
        HostArray grad = views.get(o.grad());
        HostArray params = views.get(o.params());
        HostArray state = views.get(o.state().array());
        TilePass pass = (i, k, t) -> adamWTile(c, o, grad, params, state, i, k, t);
        runner.run(o.length(), pass);
    }

    /** The fused AdamW pass over elements [i, i + n) of the block; grad, params and state are the operands' views. */
    private static void adamWTile(AdamWCoefficients c, AdamWOperands o, HostArray grad, HostArray params,
                                  HostArray state, long i, int n, Tile t) {
        final AdamWState s = o.state();
        final long index = o.rngIndex() + i;
        grad.load(o.gradOffset() + i, t.g, n, t);
        if (s.packedMoments()) {
            state.loadBits(s.mOffset() + i, t.xBits, n, t);
            TileOps.unpack(t.xBits, t.mBits, t.vBits, n);
            t.toFloats(t.mBits, t.m, n);
            t.toFloats(t.vBits, t.v, n);
        } else {
            state.load(s.mOffset() + i, t.m, n, t);
            state.load(s.vOffset() + i, t.v, n, t);
        }
        if (o.readsWeights(c)) {
            if (s.hasMaster()) {
                state.load(s.masterOffset() + i, t.x, n, t);
            } else {
                params.load(o.paramsOffset() + i, t.x, n, t);
            }
        }
        TileOps.adamW(c, t.g, t.m, t.v, t.x, t.u, n);

        // Moments: round (two 16-bit lanes of one draw) and store.
        t.toBits(t.m, t.mBits, n);
        t.toBits(t.v, t.vBits, n);
        TileOps.roundMoments(t.mBits, t.vBits, n, c.stateRounding(), CounterRng.drawKey(c.key(), CounterRng.MOMENTS),
                index);
        if (s.packedMoments()) {
            TileOps.pack(t.mBits, t.vBits, t.xBits, n);
            state.storeBits(s.mOffset() + i, t.xBits, n, t);
        } else {
            state.storeBits(s.mOffset() + i, t.mBits, n, t);
            state.storeBits(s.vOffset() + i, t.vBits, n, t);
        }

        if (!o.writesWeights()) {
            storeUpdate(grad, o.gradOffset() + i, n, t);
        } else if (c.compensated()) {
            compensatedTile(params, o.paramsOffset() + i, state, s.compensationOffset() + i / 2, n, t);
        } else {
            // Weights: x - u in FP32, rounded once.
            TileOps.subtract(t.x, t.u, n);
            if (s.hasMaster()) {
                state.storeFloats(s.masterOffset() + i, t.x, n);
            }
            t.toBits(t.x, t.xBits, n);
            TileOps.roundWeights(t.xBits, n, c.weightRounding(), weightKey(c.key()), index);
            params.storeBits(o.paramsOffset() + i, t.xBits, n, t);
        }
    }

    /** The update (t.u) over the gradient from at: exact in a FLOAT array, rounded to nearest in a BFLOAT16 one. */
    private static void storeUpdate(HostArray grad, long at, int n, Tile t) {
        if (grad.isBf16()) {
            t.toBits(t.u, t.xBits, n);
            TileOps.roundWeights(t.xBits, n, Rounding.NEAREST, 0, 0);
            grad.storeBits(at, t.xBits, n, t);
        } else {
            grad.storeFloats(at, t.u, n);
        }
    }

    @Override
    public boolean allFinite(INDArray array, long offset, long n) {
        FiniteScan scan = new FiniteScan(view(array, offset, n), offset);
        runner.run(n, scan);
        return scan.finite;
    }

    /** Scans a run for NaN and Inf; its result is written by whichever thread finds one. */
    private static final class FiniteScan implements TilePass {
        private final HostArray values;
        private final long offset;
        private volatile boolean finite = true;

        FiniteScan(HostArray values, long offset) {
            this.values = values;
            this.offset = offset;
        }

        @Override
        public void tile(long i, int n, Tile t) {
            if (finite) {
                values.loadBits(offset + i, t.xBits, n, t);
                if (!TileOps.allFinite(t.xBits, n)) {
                    finite = false;
                }
            }
        }
    }

    private static long weightKey(long key) {
        return CounterRng.drawKey(key, CounterRng.WEIGHT);
    }

    /** The host view of an array, checked to hold the run [offset, offset + n). */
    private HostArray view(INDArray array, long offset, long n) {
        HostArray h = views.get(array);
        requireRun(array, offset, n);
        return h;
    }
}
