package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

class AttachSmokeTest {
    @Test
    void irisTrainsOnTheGrid() {
        DataSet iris = Iris.load(DataType.FLOAT);
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).build(), 1);
        Bf16Attachment a = Bf16Training.attach(net);
        TestNets.assertOnGrid(net.params(), "after attach");
        for (int i = 0; i < 200; i++) {
            net.fit(iris);
            TestNets.assertOnGrid(net.params(), "step " + i);
        }
        Evaluation e = new Evaluation(3);
        e.eval(iris.getLabels(), net.output(iris.getFeatures()));
        System.out.println("accuracy " + e.accuracy() + " kernels " + a.getKernelsName() + " score " + net.score());
        assertTrue(e.accuracy() >= 0.95);
    }
}
