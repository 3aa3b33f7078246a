package org.dl4jsr.examples.lm;

import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Adds a learned position embedding [width, length] to a sequence [batch, width, length] (GPT's wpe). */
public class PositionEmbedding extends SequenceLayer {
    /** For JSON. */
    protected PositionEmbedding() {
    }

    public PositionEmbedding(int width, int length) {
        super(width, length);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam("P", getWidth(), getLength());
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        INDArray p = params.get("P");
        p.assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(GptModel.POSITION_INIT_STD));
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        return input.add(p.get("P"));
    }
}
