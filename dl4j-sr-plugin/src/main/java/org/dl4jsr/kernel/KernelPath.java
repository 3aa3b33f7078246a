package org.dl4jsr.kernel;

import org.nd4j.linalg.factory.Nd4j;

/** Which implementation of the element-wise passes to use. Results are bit-identical whichever runs. */
public enum KernelPath {
    /** Host loops on ND4J's CPU backend, ND4J ops elsewhere. */
    AUTO,
    /** Java loops over the native buffers (CPU backend only). */
    HOST,
    /** ND4J ops only: works on every backend (slower on CPU). */
    PORTABLE;

    /** The kernels of this path on the current ND4J backend; {@code threads} is used by host kernels. */
    public Kernels select(int threads) {
        String backend = Nd4j.getBackend().getClass().getSimpleName();
        boolean cpu = backend.equals("CpuBackend");
        switch (this) {
            case HOST:
                if (!cpu) {
                    throw new IllegalArgumentException("KernelPath.HOST needs ND4J's CPU backend; this backend is "
                            + backend + ". Use AUTO or PORTABLE.");
                }
                return new HostKernels(ParallelRunner.shared(threads));
            case PORTABLE:
                return new PortableKernels();
            default:
                return cpu ? new HostKernels(ParallelRunner.shared(threads)) : new PortableKernels();
        }
    }
}
