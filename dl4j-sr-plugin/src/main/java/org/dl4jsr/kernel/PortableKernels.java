package org.dl4jsr.kernel;

import org.dl4jsr.Rounding;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Placeholder until the ND4J-ops implementation lands (being written separately). */
public final class PortableKernels implements Kernels {
    @Override
    public void round(INDArray src, long srcOffset, INDArray dst, long dstOffset, long n, Rounding rounding, long key, long rngIndex) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void applyUpdate(INDArray x, long xOffset, INDArray u, long uOffset, long n, Rounding rounding, long key, long rngIndex) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void adamW(AdamWStep step) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean allFinite(INDArray a, long offset, long n) {
        throw new UnsupportedOperationException();
    }

    @Override
    public String name() {
        return "portable(nd4j ops)";
    }
}
