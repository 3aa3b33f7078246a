package org.dl4jsr;

import org.dl4jsr.convert.Bf16Converter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * What README says about the score of a BFLOAT16 network: DL4J sums the loss in the network's type, so the score is
 * a BF16 sum that stops growing, and a FLOAT copy from {@link Bf16Converter#toFp32} gives the FP32 loss.
 */
class Bfloat16ScoreTest {
    @Test
    void scoreOfABfloat16NetworkIsABf16SumAndTheFp32CopyGivesTheTrueLoss() {
        // Zero weights: every example's softmax is uniform, so its loss is ln 3 exactly (in FP32: 1.0986123).
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3))
                .weightInit(WeightInit.ZERO).dataType(DataType.FLOAT).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork fp32 = new MultiLayerNetwork(conf);
        fp32.init();
        int n = 4000;
        INDArray labels = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, i % 3, 1);
        }
        DataSet data = new DataSet(Nd4j.rand(DataType.FLOAT, n, 4), labels);
        double truth = fp32.score(data);
        assertEquals(Math.log(3), truth, 1e-4); // an FP32 sum of 4,000 terms

        MultiLayerNetwork bf16 = Bf16Converter.toBfloat16(fp32).getNetwork();
        double bf16Score = bf16.score(new DataSet(data.getFeatures().castTo(DataType.BFLOAT16),
                data.getLabels().castTo(DataType.BFLOAT16)));
        MultiLayerNetwork copy = Bf16Converter.toFp32(bf16).getNetwork();
        double copyScore = copy.score(data);
        System.out.println("RESULT bfloat16_score examples=" + n + " fp32_loss=" + truth + " bfloat16_net_score="
                + bf16Score + " fp32_copy_score=" + copyScore);
        assertTrue(Math.abs(bf16Score - truth) > 0.1 * truth, "BF16 sum " + bf16Score + " vs FP32 " + truth);
        assertEquals(truth, copyScore, 1e-6, "the FLOAT copy has the same (exact) weights and sums in FP32");
    }
}
