package org.dl4jsr.examples.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.WarmupCosineSchedule;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The model is a decoder: the prediction at position t never depends on bytes after t. */
class CausalityTest {
    private static final int LENGTH = 12;

    private static MultiLayerNetwork model(PrecisionStrategy strategy) {
        GptModel.Shape shape = new GptModel.Shape(16, 2, 2, LENGTH);
        return GptModel.build(shape, strategy.optimisation(new WarmupCosineSchedule(1e-2, 0, 2, 20), 0.1, 3), 3);
    }

    private static INDArray randomBytes(long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, 3, LENGTH).muli(256).castTo(DataType.INT32).castTo(DataType.FLOAT);
    }

    private static void assertCausal(MultiLayerNetwork net) {
        INDArray input = randomBytes(1);
        INDArray out = net.output(input).dup();
        for (int changed = 0; changed < LENGTH; changed++) {
            INDArray edited = input.dup();
            for (int b = 0; b < 3; b++) {
                edited.putScalar(b, changed, (edited.getInt(b, changed) + 1 + 37 * b) % 256);
            }
            INDArray editedOut = net.output(edited);
            for (int t = 0; t < LENGTH; t++) {
                INDArray before = out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(t));
                INDArray after = editedOut.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(t));
                if (t < changed) {
                    assertEquals(before, after, "output at " + t + " changed when byte " + changed + " changed");
                } else if (t == changed) {
                    assertNotEquals(before, after, "output at " + t + " ignores its own byte");
                }
            }
        }
    }

    @Test
    void laterBytesNeverChangeEarlierPredictions() {
        MultiLayerNetwork net = model(PrecisionStrategy.FP32);
        assertCausal(net);
        // ... also after training has moved the weights away from their initial values
        for (int i = 0; i < 10; i++) {
            INDArray x = randomBytes(100 + i);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 3, GptModel.VOCABULARY, LENGTH);
            for (int b = 0; b < 3; b++) {
                for (int t = 0; t < LENGTH; t++) {
                    y.putScalar(new int[] {b, (x.getInt(b, t) * 7) % 256, t}, 1);
                }
            }
            net.fit(x, y);
        }
        assertCausal(net);
    }

    @Test
    void causalWithBf16WeightsToo() {
        MultiLayerNetwork net = model(PrecisionStrategy.BF16_SR);
        Bf16Training.attach(net);
        assertCausal(net);
    }

    /** The custom layers survive DL4J's JSON configuration round trip (clones, saved models, Spark replicas). */
    @Test
    void configurationRoundTripsThroughJson() {
        MultiLayerNetwork net = model(PrecisionStrategy.BF16_SR);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        MultiLayerNetwork copy = new MultiLayerNetwork(back);
        copy.init(net.params().dup(), false);
        INDArray input = randomBytes(5);
        assertEquals(net.output(input), copy.output(input));
        assertEquals(List.of("EmbeddingSequenceLayer", "PositionEmbedding", "TransformerBlock", "TransformerBlock",
                        "FinalLayerNorm", "RnnOutputLayer"),
                back.getConfs().stream().map(c -> c.getLayer().getClass().getSimpleName()).toList());
    }
}
