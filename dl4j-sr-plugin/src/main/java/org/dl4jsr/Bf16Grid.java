package org.dl4jsr;

import org.dl4jsr.rounding.Bf16;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Checks that an array holds exactly BF16 numbers: "every weight is on the BF16 grid", as something to count. */
public final class Bf16Grid {
    private Bf16Grid() {
    }

    /**
     * How many values of a FLOAT array are not BF16 numbers (their low 16 bits are not zero); always 0 for a BFLOAT16
     * array. Views are handled. Other types are refused: DOUBLE and HALF values have no FP32 bit pattern to check.
     * Copies the array once (a check for tests, examples and listeners, not for the training step).
     */
    public static long countOffGrid(INDArray values) {
        if (values.dataType() == DataType.BFLOAT16) {
            return 0;
        }
        if (values.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("Bf16Grid: expected a FLOAT or BFLOAT16 array, got "
                    + values.dataType() + "; BF16 training keeps its values in one of those two types");
        }
        long off = 0;
        for (float f : values.dup().data().asFloat()) {
            off += Bf16.isOnGrid(f) ? 0 : 1;
        }
        return off;
    }
}
