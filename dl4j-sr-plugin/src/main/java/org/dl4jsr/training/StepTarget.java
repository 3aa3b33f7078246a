package org.dl4jsr.training;

import java.util.List;
import org.dl4jsr.kernel.Kernels;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What an optimizer step works on: the attached network's bound blocks, the kernels that run the element-wise passes,
 * and the network's flat parameter and gradient arrays as they are when the step starts.
 */
record StepTarget(List<BoundBlock> blocks, Kernels kernels, INDArray params, INDArray gradients) {
}
