package org.dl4jsr;

import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Every DL4J updater trains Iris with stochastically rounded weight updates after attach, and every weight stays on
 * the BF16 grid after every step. (Their own state stays FP32 on a FLOAT network; only AdamWSR keeps BF16 moments.)
 */
class Dl4jUpdatersTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    static IUpdater[] updaters() {
        return new IUpdater[] {new Sgd(0.1), new Nesterovs(0.05, 0.9), new Adam(0.01), new AdaMax(0.02),
            new Nadam(0.01), new AMSGrad(0.01), new AdaBelief(0.01), new RmsProp(0.01), new AdaGrad(0.1),
            new AdaDelta()};
    }

    @ParameterizedTest
    @MethodSource("updaters")
    void trainsIrisOnTheGrid(IUpdater updater) {
        MultiLayerNetwork net = TestNets.irisMlp(updater, 11);
        Bf16Training.attach(net);
        int steps = updater instanceof AdaDelta ? 300 : 120;
        for (int i = 0; i < steps; i++) {
            net.fit(IRIS);
            TestNets.assertOnGrid(net.params(), updater.getClass().getSimpleName() + " step " + i);
        }
        Evaluation e = new Evaluation(3);
        e.eval(IRIS.getLabels(), net.output(IRIS.getFeatures()));
        System.out.println("RESULT iris_dl4j_updater updater=" + updater.getClass().getSimpleName() + " accuracy="
                + e.accuracy());
        assertTrue(e.accuracy() >= 0.9, updater + " accuracy " + e.accuracy());
    }

    /**
     * NoOp means "apply the raw gradient" in DL4J; the plugin leaves NoOp parameters to DL4J: they are not put on the
     * grid and not rounded, and they change exactly as without the plugin.
     */
    @Test
    void noOpIsLeftToDl4j() {
        MultiLayerNetwork plain = TestNets.irisMlp(new NoOp(), 11);
        MultiLayerNetwork attached = TestNets.irisMlp(new NoOp(), 11);
        Bf16Training.attach(attached);
        INDArray initial = attached.params().dup();
        assertEquals(plain.params(), initial, "attach does not round NoOp parameters");
        for (int i = 0; i < 20; i++) {
            plain.fit(IRIS);
            attached.fit(IRIS);
        }
        assertEquals(plain.params(), attached.params(), "NoOp parameters follow DL4J exactly");
        assertTrue(Bf16Grid.countOffGrid(attached.params()) > 0);
    }
}
