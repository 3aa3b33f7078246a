package org.dl4jsr;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.StochasticRoundingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

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

    /**
     * How many of the weights the plugin rounds are not BF16 numbers: the parameters of every updater block whose
     * updater rounds onto the grid ({@link AdamWSR}, {@link Bf16Rounded}, every updater of an attached network).
     * Parameters DL4J updates itself (batch-norm statistics, NoOp) and those of frozen layers (FrozenLayer, and
     * FrozenLayerWithBackprop even inside a rounding block) are not counted: they are left in
     * FP32 by design. 0 after every step of BF16 training.
     *
     * @throws IllegalArgumentException if the network has no parameter the plugin rounds (not attached, or FP32
     *                                  modes only): count the whole array with {@link #countOffGrid(INDArray)}
     */
    public static long countOffGrid(Model network) {
        Network net = Network.of(network);
        net.initialise();
        INDArray flat = net.params().reshape(net.params().length());
        long off = 0;
        boolean any = false;
        for (UpdaterBlock b : net.updaterBlocks()) {
            Object config = b.getGradientUpdater().getConfig();
            if (config instanceof StochasticRoundingConfig
                    && ((StochasticRoundingConfig) config).getWeightRounding() != Rounding.NONE
                    && b.getParamOffsetEnd() > b.getParamOffsetStart()) {
                for (long[] r : FrozenParameters.trainableRanges(b)) {
                    any = true;
                    off += countOffGrid(flat.get(NDArrayIndex.interval(r[0], r[1])));
                }
            }
        }
        if (!any) {
            throw new IllegalArgumentException("Bf16Grid: no parameter of this network is rounded onto the BF16 grid by"
                    + " the plugin (attach it with Bf16Training.attach, or configure AdamWSR). To count every value of"
                    + " its parameters use Bf16Grid.countOffGrid(net.params()).");
        }
        return off;
    }
}
