package org.dl4jsr.kernel;

import java.util.function.Supplier;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.Rounding;
import static org.dl4jsr.rounding.Bf16.HIGH_HALF;
import static org.dl4jsr.rounding.Bf16.QUIET_BIT;
import static org.dl4jsr.rounding.Bf16.SIGN;

import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import static org.dl4jsr.kernel.OperandChecks.requireAdamW;
import static org.dl4jsr.kernel.OperandChecks.requireCompensation;
import static org.dl4jsr.kernel.OperandChecks.requireGridFor;
import static org.dl4jsr.kernel.OperandChecks.requireKernelArray;
import static org.dl4jsr.kernel.OperandChecks.requireRun;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.api.ops.impl.controlflow.Select;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.api.ops.impl.transforms.custom.BitwiseAnd;
import org.nd4j.linalg.api.ops.impl.transforms.custom.BitwiseOr;
import org.nd4j.linalg.api.ops.impl.transforms.custom.BitwiseXor;
import org.nd4j.linalg.api.ops.impl.transforms.custom.RShiftBits;
import org.nd4j.linalg.api.ops.impl.transforms.custom.ShiftBits;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link Kernels} built from ND4J ops only (no host buffers, no per-element Java code), so it runs on any backend,
 * CUDA included. Results are bit-identical to {@link HostKernels}; every pass allocates temporaries, so on the CPU
 * backend it is much slower than the host loops.
 *
 * <p>FP32 values are rounded as their bit patterns in INT32 arrays, following {@link TileOps}. libnd4j computes in
 * C++, where signed overflow is undefined and {@code RShiftBits} is an arithmetic shift, so the integer work is
 * arranged to stay in range: rounding adds only to magnitudes that Inf/NaN have been clamped out of, and the hash
 * holds its 32-bit words as non-negative INT64 values with multiplications split into 16-bit halves.
 *
 * <p>It mirrors every stage of {@link TileOps} with ND4J ops, one op per Java operation in the same order, so results
 * are bit-identical; the integer hash is built from 16-bit halves.
 */
public final class PortableKernels implements Kernels {
    private static final long MASK32 = 0xFFFFFFFFL;
    private static final int INF = Bf16.EXPONENT_MASK;
    private static final int MAX_FINITE_FP32 = 0x7F7FFFFF;
    private static final int MAX_FINITE_BF16 = Bf16.MAX_FINITE_BITS;

    @Override
    public String name() {
        return "portable(nd4j ops)";
    }

    @Override
    public void round(INDArray src, long srcOffset, INDArray dst, long dstOffset, long n,
                      Rounding rounding, long key, long rngIndex) {
        INDArray in = run(src, srcOffset, n);
        storeRounded(run(dst, dstOffset, n), n, () -> load(in), rounding, key, rngIndex);
    }

    @Override
    public void applyUpdate(INDArray x, long xOffset, INDArray u, long uOffset, long n,
                            Rounding rounding, long key, long rngIndex) {
        INDArray xRun = run(x, xOffset, n);
        INDArray uRun = run(u, uOffset, n);
        storeRounded(xRun, n, () -> load(xRun).sub(load(uRun)), rounding, key, rngIndex);
    }

    /**
     * Stores FP32 values into a run of n elements, rounded with the weight draw of the key for elements rngIndex
     * onwards: checks first that the run can hold them, and computes nothing for an empty run.
     */
    private static void storeRounded(INDArray out, long n, Supplier<INDArray> values, Rounding rounding, long key,
                                     long rngIndex) {
        requireGridFor(out, rounding);
        if (n == 0) {
            return;
        }
        INDArray random = rounding == Rounding.STOCHASTIC ? low16(draw(key, CounterRng.WEIGHT, rngIndex, n)) : null;
        store(out, roundBits(bits(values.get()), rounding, random));
    }

    @Override
    public void applyCompensatedUpdate(INDArray x, long xOffset, INDArray u, long uOffset, INDArray comp,
                                       long compOffset, long n) {
        INDArray xRun = run(x, xOffset, n);
        INDArray uRun = run(u, uOffset, n);
        INDArray cRun = compensationRun(comp, compOffset, n);
        if (n == 0) {
            return;
        }
        compensated(load(xRun), load(uRun), xRun, cRun, n);
    }

    /**
     * As TileOps.compensatedUpdate, one op per Java operation and in its order: x (the weights) and u in FP32, the
     * new weights stored into xRun and the new compensation into its packed run.
     */
    private static void compensated(INDArray x, INDArray u, INDArray xRun, INDArray cRun, long n) {
        INDArray c = floats(unpackPairs(bits(load(cRun)), n));
        INDArray sum = x.add(c.sub(u));
        INDArray mag = and(bits(sum), ~SIGN);
        // An overflow (past the largest BF16, or Inf) saturates; NaN is left to roundBits, which keeps it (quiet).
        INDArray clamped = select(mag.gt(INF), mag, Transforms.min(mag, MAX_FINITE_BF16, true));
        INDArray w = roundBits(or(clamped, and(bits(sum), SIGN)), Rounding.NEAREST, null);
        INDArray remainder = sum.sub(floats(w));
        INDArray r = roundBits(bits(remainder), Rounding.NEAREST, null);
        INDArray cBits = select(and(r, ~SIGN).gt(MAX_FINITE_FP32), Nd4j.zerosLike(r), r); // finite or +0
        store(xRun, w);
        store(cRun, packPairs(cBits, n));
    }

    /** The packed compensation of n elements: (n + 1) / 2 slots of a FLOAT array. */
    private static INDArray compensationRun(INDArray comp, long offset, long n) {
        requireCompensation(comp, offset, n);
        return run(comp, offset, Kernels.compensationSlots(n));
    }

    /** n FP32 bit patterns from slots holding two BF16 each (element 2j high, 2j+1 low), as TileOps.unpackPairs. */
    private static INDArray unpackPairs(INDArray slots, long n) {
        long p = slots.length();
        INDArray high = and(slots, HIGH_HALF).reshape(p, 1);
        INDArray low = shl(and(slots, 0xFFFF), 16).reshape(p, 1); // non-negative operand: defined C++
        return Nd4j.concat(1, high, low).reshape('c', new long[] {2 * p}).get(NDArrayIndex.interval(0, n)).dup();
    }

    /** On-grid bit patterns packed two per slot, as TileOps.packPairs (an odd count leaves the last low half 0). */
    private static INDArray packPairs(INDArray bits, long n) {
        INDArray even = n % 2 == 0 ? bits : Nd4j.concat(0, bits, Nd4j.zeros(DataType.INT32, 1));
        INDArray pairs = even.reshape('c', new long[] {(n + 1) / 2, 2});
        INDArray high = pairs.get(NDArrayIndex.all(), NDArrayIndex.point(0)).dup();
        INDArray low = pairs.get(NDArrayIndex.all(), NDArrayIndex.point(1)).dup();
        return or(and(high, HIGH_HALF), and(shr(low, 16), 0xFFFF));
    }

    @Override
    public void adamW(AdamWCoefficients c, AdamWOperands o) {
        requireAdamW(c, o);
        final long n = o.length();
        final AdamWState s = o.state();
        INDArray grad = run(o.grad(), o.gradOffset(), n);
        INDArray params = run(o.params(), o.paramsOffset(), n);
        INDArray mRun = run(s.array(), s.mOffset(), n);
        INDArray vRun = s.packedMoments() ? null : run(s.array(), s.vOffset(), n);
        INDArray master = s.hasMaster() ? run(s.array(), s.masterOffset(), n) : null;
        INDArray compensation = c.compensated() ? compensationRun(s.array(), s.compensationOffset(), n) : null;
        if (n == 0) {
            return;
        }

        // Load everything before storing anything.
        INDArray g = load(grad);
        INDArray m;
        INDArray v;
        if (s.packedMoments()) {
            INDArray slots = bits(load(mRun));
            m = floats(and(slots, HIGH_HALF));
            // Shifted from a non-negative operand, so moving a bit into the sign is defined C++ (not overflow).
            v = floats(shl(and(slots, 0xFFFF), 16));
        } else {
            m = load(mRun);
            v = load(vRun);
        }
        INDArray x = o.readsWeights(c) ? load(master != null ? master : params) : null;

        // The AdamW rule in FP32, one ND4J op per TileOps.adamW operation and in its order: each op rounds once,
        // like Java, so nothing can be fused or reassociated.
        m = m.mul(c.beta1()).add(g.mul(c.oneMinusBeta1()));
        v = v.mul(c.beta2()).add(g.mul(g).mul(c.oneMinusBeta2()));
        INDArray u = m.mul(c.alpha()).div(Transforms.sqrt(v, true).add(c.epsilon()));
        if (c.lrWeightDecay() != 0f) {
            u = u.add(x.mul(c.lrWeightDecay()));
        }
        INDArray newX = o.writesWeights() && !c.compensated() ? x.sub(u) : null;

        // Moments: one draw, m rounds with its low and v with its high 16 bits.
        INDArray mRandom = null;
        INDArray vRandom = null;
        if (c.stateRounding() == Rounding.STOCHASTIC) {
            INDArray r = draw(c.key(), CounterRng.MOMENTS, o.rngIndex(), n);
            mRandom = low16(r);
            vRandom = shr(r, 16).castTo(DataType.INT32);
        }
        INDArray mBits = roundBits(bits(m), c.stateRounding(), mRandom);
        INDArray vBits = roundBits(bits(v), c.stateRounding(), vRandom);
        if (s.packedMoments()) {
            // m in the high half, v in the low half; the mask makes the arithmetic shift logical.
            store(mRun, or(and(mBits, HIGH_HALF), and(shr(vBits, 16), 0xFFFF)));
        } else {
            store(mRun, mBits);
            store(vRun, vBits);
        }

        if (!o.writesWeights()) {
            // A BFLOAT16 gradient array can only hold the update rounded to nearest (see AdamWOperands.grad).
            store(grad, grad.dataType() == DataType.BFLOAT16 ? roundBits(bits(u), Rounding.NEAREST, null) : bits(u));
            return;
        }
        if (compensation != null) {
            compensated(x, u, params, compensation, n);
            return;
        }
        if (master != null) {
            master.assign(newX);
        }
        storeRounded(params, n, () -> newX, c.weightRounding(), c.key(), o.rngIndex());
    }

    @Override
    public boolean allFinite(INDArray array, long offset, long n) {
        INDArray a = run(array, offset, n);
        if (n == 0) {
            return true;
        }
        // Widened to FLOAT first: MatchCondition does not see NaN in BFLOAT16 arrays (ND4J 1.0.0-M2.1).
        return Nd4j.getExecutioner().exec(new MatchCondition(load(a), Conditions.notFinite())).getLong(0) == 0;
    }

    // ---- Rounding on FP32 bit patterns (INT32), as TileOps.round ----

    /** bits rounded onto the BF16 grid; random holds 16 random bits (INT32) per element for STOCHASTIC. */
    private static INDArray roundBits(INDArray bits, Rounding rounding, INDArray random) {
        if (rounding == Rounding.NONE) {
            return bits;
        }
        if (rounding == Rounding.KAHAN) {
            throw new IllegalArgumentException("KAHAN rounding needs a compensation buffer: only AdamWSR's update"
                    + " (kernel applyCompensatedUpdate) applies it");
        }
        INDArray mag = and(bits, ~SIGN);
        // Inf and NaN get their own result below; clamping them first keeps the sums from overflowing INT32.
        INDArray finite = Transforms.min(mag, MAX_FINITE_FP32, true);
        INDArray rounded = rounding == Rounding.STOCHASTIC ? stochastic(finite, random) : nearestEven(finite);
        INDArray special = select(mag.gt(INF), or(and(mag, HIGH_HALF), QUIET_BIT), mag); // NaN made quiet, Inf kept
        return or(select(mag.gt(MAX_FINITE_FP32), special, rounded), and(bits, SIGN));
    }

    /** Adding r carries into bit 16 with probability (low 16 bits)/65536; a carry into Inf saturates at max BF16. */
    private static INDArray stochastic(INDArray mag, INDArray random) {
        return Transforms.min(and(mag.add(random), HIGH_HALF), MAX_FINITE_BF16, false);
    }

    /** Round half to even; a finite value past the largest BF16 becomes Inf, like ND4J's cast. */
    private static INDArray nearestEven(INDArray mag) {
        INDArray lsb = and(shr(mag, 16), 1);
        return and(mag.add(lsb).addi(0x7FFF), HIGH_HALF);
    }

    // ---- Random bits, as CounterRng.bits ----

    /** CounterRng.bits(drawKey(key, which), index + i) for i in [0, n), as INT64 values in [0, 2^32). */
    private static INDArray draw(long key, int which, long index, long n) {
        long drawKey = CounterRng.drawKey(key, which);
        // The counter is an int in CounterRng: it wraps at 2^32, which the masks reproduce.
        INDArray counter = and(Nd4j.linspace(DataType.LONG, index & MASK32, n, 1).reshape(n), MASK32);
        long stride = CounterRng.stride(drawKey) & MASK32;
        long offset = CounterRng.offset(drawKey) & MASK32;
        return hash32(and(mul32(counter, stride).addi(offset), MASK32));
    }

    /** lowbias32 on 32-bit words held as non-negative INT64 (so every right shift is logical). */
    private static INDArray hash32(INDArray x) {
        x = xor(x, shr(x, 16));
        x = mul32(x, 0x7FEB352DL);
        x = xor(x, shr(x, 15));
        x = mul32(x, 0x846CA68BL);
        return xor(x, shr(x, 16));
    }

    /**
     * (x * c) mod 2^32 without INT64 overflow: x = hi*2^16 + lo gives x*c = lo*c + hi*c*2^16, and only the low 16
     * bits of hi*c survive the shift, which are those of hi*(c mod 2^16). Every product stays below 2^48.
     */
    private static INDArray mul32(INDArray x, long c) {
        INDArray lo = and(x, 0xFFFF).muli(c);
        INDArray hi = shl(and(shr(x, 16).muli(c & 0xFFFF), 0xFFFF), 16);
        return and(lo.addi(hi), MASK32);
    }

    /** The low 16 bits of a draw, as INT32 for adding to magnitudes. */
    private static INDArray low16(INDArray draw) {
        return and(draw, 0xFFFF).castTo(DataType.INT32);
    }

    // ---- Operands: runs, loads and stores ----

    /** The view of elements [offset, offset + n) of a contiguous FLOAT or BFLOAT16 array, in buffer order. */
    private static INDArray run(INDArray array, long offset, long n) {
        requireKernelArray(array);
        requireRun(array, offset, n);
        // Flattening in the array's own order follows the buffer, as HostKernels does; enforceView: writes must land.
        INDArray flat = array.reshape(array.ordering(), true, array.length());
        return flat.get(NDArrayIndex.interval(offset, offset + n));
    }

    /** The run's values as FLOAT (BF16 widens exactly; a FLOAT run is returned as is). */
    private static INDArray load(INDArray run) {
        return run.castTo(DataType.FLOAT);
    }

    /**
     * Writes FP32 bit patterns into a run. A BFLOAT16 run only ever receives values on the BF16 grid, which ND4J's
     * FLOAT to BFLOAT16 conversion keeps exactly (NaN payloads and signs included).
     */
    private static void store(INDArray run, INDArray bits) {
        run.assign(floats(bits));
    }

    // ---- Thin wrappers over ND4J ops ----

    /** FP32 bit patterns (INT32) of a FLOAT array. */
    private static INDArray bits(INDArray floats) {
        return bitCast(floats, DataType.INT32);
    }

    /** FLOAT values of FP32 bit patterns (INT32). */
    private static INDArray floats(INDArray bits) {
        return bitCast(bits, DataType.FLOAT);
    }

    private static INDArray bitCast(INDArray a, DataType type) {
        // BitCast copies the whole buffer from its start (and fails when that is longer than the array), so anything
        // but an array that owns exactly its buffer is copied first.
        boolean ownsBuffer = !a.isView() && a.data().length() == a.length();
        return Nd4j.exec(new BitCast(ownsBuffer ? a : a.dup(), type))[0];
    }

    private static INDArray and(INDArray x, long mask) {
        return Nd4j.exec(new BitwiseAnd(x, scalar(x, mask)))[0];
    }

    private static INDArray or(INDArray x, INDArray y) {
        return Nd4j.exec(new BitwiseOr(x, y))[0];
    }

    private static INDArray or(INDArray x, long bits) {
        return or(x, scalar(x, bits));
    }

    private static INDArray xor(INDArray x, INDArray y) {
        return Nd4j.exec(new BitwiseXor(x, y))[0];
    }

    private static INDArray xor(INDArray x, long bits) {
        return xor(x, scalar(x, bits));
    }

    /** Arithmetic (sign-extending) right shift in ND4J: only used on non-negative values or followed by a mask. */
    private static INDArray shr(INDArray x, int shift) {
        return Nd4j.exec(new RShiftBits(x, scalar(x, shift)))[0];
    }

    private static INDArray shl(INDArray x, int shift) {
        return Nd4j.exec(new ShiftBits(x, scalar(x, shift)))[0];
    }

    /** cond ? a : b, element-wise. */
    private static INDArray select(INDArray cond, INDArray a, INDArray b) {
        return Nd4j.exec(new Select(new INDArray[] {cond, a, b}, null))[0];
    }

    /** A scalar of x's integer type; for INT32 the value is taken as a 32-bit pattern. */
    private static INDArray scalar(INDArray x, long value) {
        return x.dataType() == DataType.INT32 ? Nd4j.scalar((int) value) : Nd4j.scalar(value);
    }
}
