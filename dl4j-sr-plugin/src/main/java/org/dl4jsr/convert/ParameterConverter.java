package org.dl4jsr.convert;

import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.rounding.CounterRng;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.rounding.RoundingStreams;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The parameter part of a conversion: the source's flat parameter array in the target's data type. To BFLOAT16 the
 * FP32 values are rounded with the conversion's initial rounding, keyed on (seed, iteration, CONVERT_PARAMS); to a
 * FLOAT network they are copied as they are (on the BF16 grid, the attach rounds the trainable weights onto it).
 */
final class ParameterConverter {
    private ParameterConverter() {
    }

    /** The new network's parameters, shape [1, n] as DL4J's flat parameter array. */
    static INDArray convert(INDArray params, ConversionTarget target, Rounding initialRounding, long seed,
                            Kernels kernels, int iteration) {
        long n = params.length();
        INDArray fp32 = params.reshape(n).castTo(DataType.FLOAT);
        if (target != ConversionTarget.BFLOAT16) {
            return fp32.reshape(1, n); // BF16_GRID: attach puts the trainable weights on the grid
        }
        INDArray bf16 = Nd4j.create(DataType.BFLOAT16, n);
        long key = CounterRng.key(seed, iteration, RoundingStreams.CONVERT_PARAMS);
        kernels.round(fp32, 0, bf16, 0, n, initialRounding, key, 0);
        return bf16.reshape(1, n);
    }
}
