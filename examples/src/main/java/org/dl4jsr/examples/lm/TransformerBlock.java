package org.dl4jsr.examples.lm;

import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One GPT-2 style decoder block on a sequence [batch, width, length] (DL4J's recurrent NCW layout):
 * {@code h = x + Attention(LN(x))}, {@code out = h + MLP(LN(h))}, with causal multi-head self-attention (position t
 * attends to positions 0..t only) and a GELU MLP four times as wide as the model.
 *
 * <p>Matrices are "weight" parameters and layer-norm gains/biases and linear biases are "bias" parameters, so the
 * network's {@code biasUpdater} and {@code regularizationBias} apply to them (no weight decay there, as in GPT-2).
 */
public class TransformerBlock extends SequenceLayer {
    private int heads;
    /** Standard deviation of the output projections: 0.02 / sqrt(2 * blocks), as in GPT-2. */
    private double residualInitStd;

    /** For JSON. */
    protected TransformerBlock() {
    }

    public TransformerBlock(int width, int heads, int length, int blocks) {
        super(width, length);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not a multiple of heads " + heads);
        }
        this.heads = heads;
        this.residualInitStd = GptModel.INIT_STD / Math.sqrt(2.0 * blocks);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        int width = getWidth();
        params.clear();
        params.addBiasParam("ln1g", width);
        params.addBiasParam("ln1b", width);
        params.addWeightParam("Wq", width, width);
        params.addWeightParam("Wk", width, width);
        params.addWeightParam("Wv", width, width);
        params.addBiasParam("bq", width);
        params.addBiasParam("bk", width);
        params.addBiasParam("bv", width);
        params.addWeightParam("Wo", width, width);
        params.addBiasParam("bo", width);
        params.addBiasParam("ln2g", width);
        params.addBiasParam("ln2b", width);
        params.addWeightParam("Wfc", width, 4L * width);
        params.addBiasParam("bfc", 4L * width);
        params.addWeightParam("Wproj", 4L * width, width);
        params.addBiasParam("bproj", width);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        // Iterate in definition order: DL4J seeds ND4J's generator before init, so this is deterministic.
        for (String key : getLayerParams().getParameterKeys()) {
            INDArray p = params.get(key);
            if (key.startsWith("ln") && key.endsWith("g")) {
                p.assign(1);
            } else if (key.startsWith("b") || key.startsWith("ln")) {
                p.assign(0);
            } else {
                double std = key.equals("Wo") || key.equals("Wproj") ? residualInitStd : GptModel.INIT_STD;
                p.assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(std));
            }
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        int width = getWidth();
        int headSize = width / heads;
        SDVariable x = rows(input);

        SDVariable a = sd.nn.layerNorm(x, p.get("ln1g"), p.get("ln1b"), false, 1);
        SDVariable q = heads(sd.nn.linear(a, p.get("Wq"), p.get("bq")), headSize);
        SDVariable k = heads(sd.nn.linear(a, p.get("Wk"), p.get("bk")), headSize);
        SDVariable v = heads(sd.nn.linear(a, p.get("Wv"), p.get("bv")), headSize);
        // scores [batch, heads, length, length]; the causal bias puts -1e9 above the diagonal, so softmax gives
        // exactly zero weight to later positions.
        SDVariable scores = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(headSize));
        SDVariable attention = sd.nn.softmax(scores.add(sd.constant(causalBias(getLength()))), 3);
        SDVariable context = sd.mmul(attention, v).permute(0, 2, 1, 3).reshape(-1, width);
        SDVariable h = x.add(sd.nn.linear(context, p.get("Wo"), p.get("bo")));

        SDVariable b = sd.nn.layerNorm(h, p.get("ln2g"), p.get("ln2b"), false, 1);
        SDVariable mlp = sd.nn.linear(sd.nn.gelu(sd.nn.linear(b, p.get("Wfc"), p.get("bfc"))), p.get("Wproj"),
                p.get("bproj"));
        return sequence(h.add(mlp));
    }

    /** [batch * length, width] -> [batch, heads, length, headSize]. */
    private SDVariable heads(SDVariable rows, int headSize) {
        return rows.reshape(-1, getLength(), heads, headSize).permute(0, 2, 1, 3);
    }

    /** [length, length]: 0 where key position <= query position, -1e9 elsewhere. */
    static INDArray causalBias(int length) {
        INDArray bias = Nd4j.zeros(DataType.FLOAT, length, length);
        for (int query = 0; query < length; query++) {
            for (int key = query + 1; key < length; key++) {
                bias.putScalar(query, key, -1e9);
            }
        }
        return bias;
    }

    public int getHeads() {
        return heads;
    }
}
