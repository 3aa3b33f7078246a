package org.dl4jsr;

import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/** Same seed, same bits: whatever the thread count, kernel path or fused/unfused route; another seed differs. */
class DeterminismTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static INDArray train(AdamWSR updater, Bf16Options options, int steps) {
        MultiLayerNetwork net = TestNets.irisMlp(updater, 7);
        Bf16Training.attach(net, options);
        for (int i = 0; i < steps; i++) {
            net.fit(IRIS);
        }
        return net.params().dup();
    }

    private static Bf16Options threads(int n) {
        return Bf16Options.builder().threads(n).build();
    }

    @Test
    void sameSeedIsBitIdenticalWithOneOrTwoThreads() {
        AdamWSR u = AdamWSR.builder().learningRate(0.01).seed(123).build();
        INDArray one = train(u, threads(1), 20);
        INDArray two = train(u, threads(2), 20);
        assertEquals(one, two);
        assertEquals(0, one.neq(two).castTo(DataType.INT32).sumNumber().intValue());
        INDArray otherSeed = train(u.toBuilder().seed(124).build(), threads(2), 20);
        assertNotEquals(one, otherSeed, "a different seed must give different rounding");
    }

    @Test
    void portableKernelsGiveTheSameBitsAsHostKernels() {
        AdamWSR u = AdamWSR.builder().learningRate(0.01).weightDecay(1e-3).build();
        INDArray host = train(u, Bf16Options.builder().kernels(KernelPath.HOST).build(), 10);
        INDArray portable = train(u, Bf16Options.builder().kernels(KernelPath.PORTABLE).build(), 10);
        assertEquals(host, portable);
    }

    /**
     * A (zero) WeightDecay regularisation makes DL4J add to the update after the updater, so AdamWSR writes the
     * update out and the step function applies it: same random bits, same result as the fused pass.
     */
    @Test
    void unfusedRouteIsBitIdenticalToTheFusedPass() {
        AdamWSR u = AdamWSR.builder().learningRate(0.01).weightDecay(1e-3).build();
        INDArray fused = train(u, Bf16Options.defaults(), 15);

        MultiLayerConfiguration conf = TestNets.irisMlpConf(u, 7, Activation.TANH);
        for (int i = 0; i < conf.getConfs().size(); i++) {
            BaseLayer l = (BaseLayer) conf.getConf(i).getLayer();
            l.setRegularization(List.of(new WeightDecay(0.0, true)));
            l.setRegularizationBias(List.of(new WeightDecay(0.0, true)));
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net);
        for (int i = 0; i < 15; i++) {
            net.fit(IRIS);
        }
        assertEquals(fused, net.params());
    }

    @Test
    void wrappedDl4jUpdaterIsDeterministicAcrossThreads() {
        INDArray[] runs = new INDArray[2];
        for (int t = 1; t <= 2; t++) {
            MultiLayerNetwork net = TestNets.irisMlp(new Adam(0.01), 7);
            Bf16Training.attach(net, threads(t));
            for (int i = 0; i < 20; i++) {
                net.fit(IRIS);
            }
            runs[t - 1] = net.params();
        }
        assertEquals(runs[0], runs[1]);
    }
}
