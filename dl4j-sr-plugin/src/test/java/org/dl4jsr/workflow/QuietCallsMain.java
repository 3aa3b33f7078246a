package org.dl4jsr.workflow;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.training.Bf16Activations;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Run in a child JVM by {@link QuietCallsTest}: successful plugin calls on networks with activations ND4J cannot
 * back-propagate in BF16 (converter to BFLOAT16, attach of a BFLOAT16 network, training). With argument
 * {@code control} it tries a non-default LeakyReLU on the backend instead, which must print libnd4j's error: the
 * proof that the capture would see it.
 */
public final class QuietCallsMain {
    private QuietCallsMain() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("control")) {
            System.out.println("tried: " + Bf16Activations.tryInBf16(new ActivationLReLU(0.2)));
            return;
        }
        DataSet iris = Iris.load(DataType.FLOAT);
        MultiLayerConfiguration conf = TestNets.base(new Adam(1e-2), 1).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).activation(Activation.SIGMOID).build())
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).activation(Activation.LEAKYRELU).build())
                .layer(new DenseLayer.Builder().nIn(8).nOut(8).activation(new ActivationLReLU(0.1)).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork fp32 = new MultiLayerNetwork(conf);
        fp32.init();
        fp32.fit(iris);
        MultiLayerNetwork bf16 = Bf16Converter.toBfloat16(fp32).getNetwork();
        bf16.fit(TestNets.as(iris, DataType.BFLOAT16));
        MultiLayerNetwork grid = Bf16Converter.toBf16Grid(fp32).getNetwork();
        grid.fit(iris);
        MultiLayerNetwork gelu = TestNets.bf16IrisMlp(new Adam(1e-2), 2);
        Bf16Training.attach(gelu);
        gelu.fit(TestNets.as(iris, DataType.BFLOAT16));
        System.out.println("QUIET-CALLS-DONE tried=" + Bf16Activations.timesTried());
    }
}
