package org.dl4jsr.kernel;

import java.util.Arrays;
import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

/**
 * The checks every {@link Kernels} implementation makes before a pass writes anything, in one place so that host
 * and portable kernels refuse the same operands with the same errors.
 */
final class OperandChecks {

    private OperandChecks() {
    }

    /** A FLOAT or BFLOAT16 array whose elements are contiguous in its buffer. */
    static void requireKernelArray(INDArray array) {
        DataType type = array.dataType();
        if (type != DataType.FLOAT && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("BF16 kernels work on FLOAT or BFLOAT16 arrays, got " + type);
        }
        if (!Shape.isContiguousInBuffer(array)) {
            throw new IllegalArgumentException("BF16 kernels need contiguous arrays, got shape "
                    + Arrays.toString(array.shape()) + " with strides " + Arrays.toString(array.stride()));
        }
    }

    /** The run [offset, offset + n) lies inside the array. */
    static void requireRun(INDArray array, long offset, long n) {
        if (offset < 0 || n < 0 || offset + n > array.length()) {
            throw new IndexOutOfBoundsException("Run [" + offset + ", " + (offset + n)
                    + ") is outside an array of length " + array.length());
        }
    }

    static void requireGridFor(INDArray destination, Rounding rounding) {
        if (destination.dataType() == DataType.BFLOAT16 && rounding == Rounding.NONE) {
            throw new IllegalArgumentException("Values stored in a BFLOAT16 array must be rounded (STOCHASTIC or"
                    + " NEAREST), not NONE");
        }
    }

    /** The packed Kahan compensation of n elements: (n + 1) / 2 slots of a FLOAT array from offset. */
    static void requireCompensation(INDArray array, long offset, long n) {
        if (offset < 0) {
            throw new IllegalArgumentException("KAHAN weight rounding needs the offset of its compensation (AdamWState"
                    + ".compensationOffset)");
        }
        requireRun(array, offset, Kernels.compensationSlots(n));
        if (array.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("A Kahan compensation is packed two per 32-bit slot: it needs a FLOAT"
                    + " array, got " + array.dataType());
        }
    }

    /**
     * The runs of a fused AdamW pass lie inside their arrays, and its state array and roundings can hold its results
     * (the arrays' types and layout are checked where each implementation takes its view of them).
     */
    static void requireAdamW(AdamWCoefficients c, AdamWOperands o) {
        final long n = o.length();
        final AdamWState s = o.state();
        requireRun(o.grad(), o.gradOffset(), n);
        requireRun(o.params(), o.paramsOffset(), n);
        requireRun(s.array(), s.mOffset(), n);
        boolean bf16State = s.array().dataType() == DataType.BFLOAT16;
        if (s.packedMoments() && bf16State) {
            throw new IllegalArgumentException("Packed moments need a FLOAT state array");
        }
        if (!s.packedMoments()) {
            requireRun(s.array(), s.vOffset(), n);
        }
        if (s.hasMaster()) {
            if (bf16State) {
                throw new IllegalArgumentException("FP32 master weights need a FLOAT state array");
            }
            requireRun(s.array(), s.masterOffset(), n);
        }
        if (c.compensated()) {
            if (s.hasMaster()) {
                throw new IllegalArgumentException("KAHAN weights and FP32 master weights exclude each other");
            }
            requireCompensation(s.array(), s.compensationOffset(), n);
        }
        requireGridFor(s.array(), c.stateRounding());
        if (o.writesWeights()) {
            requireGridFor(o.params(), c.weightRounding());
        }
    }
}
