package org.dl4jsr.examples.lm;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * A SameDiff layer that maps a sequence [batch, width, length] (DL4J's recurrent NCW layout) to a sequence of the same
 * shape: the base of the GPT example's layers, with the reshapes between that layout and rows of [batch * length,
 * width] (what layer norm and linear layers work on).
 */
public abstract class SequenceLayer extends SameDiffLayer {
    private int width;
    private int length;

    /** For JSON. */
    protected SequenceLayer() {
    }

    protected SequenceLayer(int width, int length) {
        this.width = width;
        this.length = length;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(width, length);
    }

    /** [batch, width, length] -> [batch * length, width]. */
    protected SDVariable rows(SDVariable sequence) {
        return sequence.permute(0, 2, 1).reshape(-1, width);
    }

    /** [batch * length, width] -> [batch, width, length]. */
    protected SDVariable sequence(SDVariable rows) {
        return rows.reshape(-1, length, width).permute(0, 2, 1);
    }

    public int getWidth() {
        return width;
    }

    public int getLength() {
        return length;
    }
}
