package org.dl4jsr.examples.lm;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A byte-level GPT as an ordinary DL4J {@link MultiLayerNetwork}: token embedding (DL4J's EmbeddingSequenceLayer),
 * learned position embedding, {@code blocks} causal transformer blocks, a final layer norm and a softmax over the 256
 * byte values at every position (DL4J's RnnOutputLayer). Input [batch, length] of byte values, output
 * [batch, 256, length]: the distribution of the next byte at each position.
 */
public final class GptModel {
    public static final int VOCABULARY = 256;
    static final double INIT_STD = 0.02;
    static final double POSITION_INIT_STD = 0.01;

    /** Model shape. */
    public record Shape(int width, int heads, int blocks, int length) {
        public Shape {
            if (width < 1 || heads < 1 || blocks < 1 || length < 2 || width % heads != 0) {
                throw new IllegalArgumentException("Bad model shape: width " + width + ", heads " + heads + ", blocks "
                        + blocks + ", length " + length + " (need width a multiple of heads, length >= 2)");
            }
        }
    }

    /** How parameters are updated: updaters and regularisation for weight matrices and for biases/gains. */
    public record Optimisation(IUpdater weights, IUpdater biases, List<Regularization> weightRegularization) {
    }

    private GptModel() {
    }

    /** Builds and initialises the network; the same seed gives the same initial weights. */
    public static MultiLayerNetwork build(Shape shape, Optimisation opt, long seed) {
        int d = shape.width();
        int t = shape.length();
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(opt.weights())
                .biasUpdater(opt.biases())
                .list()
                .layer(new EmbeddingSequenceLayer.Builder().name("embedding").outputDataFormat(RNNFormat.NCW).inputLength(t)
                        .hasBias(false).nIn(VOCABULARY).nOut(d)
                        .weightInit(new WeightInitDistribution(new NormalDistribution(0, INIT_STD)))
                        .regularization(opt.weightRegularization()).build());
        list.layer(named("position", new PositionEmbedding(d, t), opt));
        for (int i = 0; i < shape.blocks(); i++) {
            list.layer(named("block" + (i + 1), new TransformerBlock(d, shape.heads(), t, shape.blocks()), opt));
        }
        list.layer(named("final-norm", new FinalLayerNorm(d, t), opt));
        list.layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("head").nIn(d).nOut(VOCABULARY)
                .activation(Activation.SOFTMAX).dataFormat(RNNFormat.NCW)
                .weightInit(new WeightInitDistribution(new NormalDistribution(0, INIT_STD)))
                .regularization(opt.weightRegularization()).build());
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static AbstractSameDiffLayer named(String name, AbstractSameDiffLayer layer, Optimisation opt) {
        layer.setLayerName(name);
        // Per layer, not network-wide: DL4J M2.1 puts a network-level regularisation twice into each layer's list.
        layer.setRegularization(opt.weightRegularization());
        return layer;
    }
}
