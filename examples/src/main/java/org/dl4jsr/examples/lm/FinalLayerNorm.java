package org.dl4jsr.examples.lm;

import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The layer norm GPT-2 applies after the last block, on a sequence [batch, width, length]. */
public class FinalLayerNorm extends SequenceLayer {
    /** For JSON. */
    protected FinalLayerNorm() {
    }

    public FinalLayerNorm(int width, int length) {
        super(width, length);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addBiasParam("g", getWidth());
        params.addBiasParam("b", getWidth());
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get("g").assign(1);
        params.get("b").assign(0);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        return sequence(sd.nn.layerNorm(rows(input), p.get("g"), p.get("b"), false, 1));
    }
}
