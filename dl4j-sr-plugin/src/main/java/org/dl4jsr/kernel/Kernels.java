package org.dl4jsr.kernel;

import org.dl4jsr.rounding.Rounding;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The element-wise passes of BF16 training. Operands are contiguous runs of {@code n} elements at an offset of an
 * array (FLOAT or BFLOAT16). The random bits for the run's element {@code i} are a pure function of the pass key and
 * {@code rngIndex + i} (the element's index in the network's flat parameter array; see {@link
 * org.dl4jsr.rounding.CounterRng}), so results never depend on how the work is split.
 *
 * <p>Two implementations exist: {@link HostKernels} (Java loops over the native buffers of a CPU backend, fast) and
 * {@link PortableKernels} (ND4J ops only, for device backends). Both give the same properties; see their tests.
 */
public interface Kernels {

    /** {@code dst = round(src)}; src and dst may be the same run. */
    void round(INDArray src, long srcOffset, INDArray dst, long dstOffset, long n,
               Rounding rounding, long key, long rngIndex);

    /** {@code x = round(x - u)} with FP32 arithmetic. */
    void applyUpdate(INDArray x, long xOffset, INDArray u, long uOffset, long n,
                     Rounding rounding, long key, long rngIndex);

    /**
     * Kahan-compensated {@code x = x - u} with x kept on the BF16 grid: in FP32 {@code s = x + (c - u)}, then
     * {@code x = nearest(s)} (saturating at the largest finite BF16) and {@code c = nearest(s - x)} (0 if not finite).
     * The compensation c is a BF16 value per element, packed two per 32-bit slot of the FLOAT array {@code comp} from
     * {@code compOffset}: element 2j in the high half of slot j, element 2j+1 in its low half ((n + 1) / 2 slots).
     * No random bits are used.
     */
    void applyCompensatedUpdate(INDArray x, long xOffset, INDArray u, long uOffset, INDArray comp, long compOffset,
                                long n);

    /** Slots of packed compensation for n elements. */
    static long compensationSlots(long n) {
        return (n + 1) / 2;
    }

    /** One fused AdamW pass over one block: the step's coefficients applied to the block's operands. */
    void adamW(AdamWCoefficients coefficients, AdamWOperands operands);

    /** True when no element of the run is NaN or infinite. */
    boolean allFinite(INDArray a, long offset, long n);

    /** A short name for logs and benchmark output. */
    String name();
}
