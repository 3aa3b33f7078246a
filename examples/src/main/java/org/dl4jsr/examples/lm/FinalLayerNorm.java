package org.dl4jsr.examples.lm;

import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The layer norm GPT-2 applies after the last block, on a sequence [batch, width, length]. */
public class FinalLayerNorm extends SameDiffLayer {
    private int width;
    private int length;

    /** For JSON. */
    protected FinalLayerNorm() {
    }

    public FinalLayerNorm(int width, int length) {
        this.width = width;
        this.length = length;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(width, length);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addBiasParam("g", width);
        params.addBiasParam("b", width);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get("g").assign(1);
        params.get("b").assign(0);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        SDVariable rows = input.permute(0, 2, 1).reshape(-1, width);
        return sd.nn.layerNorm(rows, p.get("g"), p.get("b"), false, 1).reshape(-1, length, width).permute(0, 2, 1);
    }

    public int getWidth() {
        return width;
    }

    public int getLength() {
        return length;
    }
}
