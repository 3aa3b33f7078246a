package org.dl4jsr.training;

import java.util.List;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What attach refuses, before it changes anything, each with a message that says what to do instead. Checks that
 * need the updater blocks run when the blocks are bound ({@link TrainingEngine}).
 */
final class AttachChecks {
    private AttachChecks() {
    }

    /** The network as a whole: data type, optimisation algorithm, BF16 backprop of a BFLOAT16 network, constraints. */
    static void checkNetwork(Network net, List<Layer> layers) {
        DataType type = net.dataType();
        if (type != DataType.FLOAT && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("BF16 training needs a FLOAT network (the CPU default: weights kept on the"
                    + " BF16 grid, FP32 compute) or a BFLOAT16 network (conf.setDataType(DataType.BFLOAT16) before init()),"
                    + " but this network is " + type + ". Build it with .dataType(DataType.FLOAT) or convert it with"
                    + " net.convertDataType(DataType.FLOAT) first.");
        }
        if (net.optimizationAlgorithm() != OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT) {
            throw new IllegalArgumentException("BF16 training supports OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT"
                    + " (the default), not " + net.optimizationAlgorithm());
        }
        Bf16LayerSupport.requireBackpropIn(type, layers);
        for (Layer layer : layers) {
            if (layer.getConstraints() != null && !layer.getConstraints().isEmpty()) {
                throw new IllegalArgumentException("Layer '" + layer.getLayerName() + "' has constraints "
                        + layer.getConstraints() + ": they rescale weights after each update and would move them off the"
                        + " BF16 grid. Remove the constraints to train in BF16.");
            }
        }
    }
}
