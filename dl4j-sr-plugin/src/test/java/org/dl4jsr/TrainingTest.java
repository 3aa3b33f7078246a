package org.dl4jsr;

import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Real training on Iris: accuracy, and every weight exactly on the BF16 grid after every step. */
class TrainingTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    private static double accuracy(Model net, DataSet data) {
        INDArray out = net instanceof MultiLayerNetwork ? ((MultiLayerNetwork) net).output(data.getFeatures())
                : ((ComputationGraph) net).outputSingle(data.getFeatures());
        Evaluation e = new Evaluation(3);
        e.eval(data.getLabels(), out.castTo(DataType.FLOAT));
        return e.accuracy();
    }

    private static double trainOnGrid(Model net, DataSet data, int steps) {
        TestNets.assertOnGrid(net.params(), "after attach");
        for (int i = 0; i < steps; i++) {
            if (net instanceof MultiLayerNetwork) {
                ((MultiLayerNetwork) net).fit(data);
            } else {
                ((ComputationGraph) net).fit(data);
            }
            TestNets.assertOnGrid(net.params(), "after step " + i);
        }
        return accuracy(net, data);
    }

    @Test
    void multiLayerNetworkReaches95PercentOnTheGrid() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).weightDecay(1e-4).build(), 1);
        Bf16Training.attach(net);
        double acc = trainOnGrid(net, IRIS, 200);
        System.out.println("RESULT iris_mln_adamwsr accuracy=" + acc);
        assertTrue(acc >= 0.95, "accuracy " + acc);
    }

    @Test
    void computationGraphReaches95PercentOnTheGrid() {
        ComputationGraph net = TestNets.irisGraph(AdamWSR.builder().learningRate(0.01).build(), 2);
        Bf16Training.attach(net);
        double acc = trainOnGrid(net, IRIS, 200);
        System.out.println("RESULT iris_cg_adamwsr accuracy=" + acc);
        assertTrue(acc >= 0.95, "accuracy " + acc);
    }

    @Test
    void compactStateTrainsLikeTheDefault() {
        MultiLayerNetwork net = TestNets.irisMlp(AdamWSR.builder().learningRate(0.01).compactState(true).build(), 1);
        Bf16Training.attach(net);
        double acc = trainOnGrid(net, IRIS, 200);
        assertTrue(acc >= 0.95, "accuracy " + acc);
    }

    /** A true BFLOAT16 network, with activations ND4J can back-propagate in BF16 (GELU here). */
    @Test
    void bfloat16NetworkTrains() {
        MultiLayerConfiguration conf = TestNets.irisMlpConf(AdamWSR.builder().learningRate(0.02).build(), 1,
                Activation.GELU);
        conf.setDataType(DataType.BFLOAT16);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Bf16Training.attach(net);
        assertEquals(DataType.BFLOAT16, net.params().dataType());
        DataSet bf16 = Iris.load(DataType.BFLOAT16);
        INDArray before = net.params().dup();
        for (int i = 0; i < 100; i++) {
            net.fit(bf16);
        }
        double acc = accuracy(net, bf16);
        System.out.println("RESULT iris_bf16_network_adamwsr accuracy=" + acc);
        assertTrue(!before.equals(net.params()));
        assertTrue(acc >= 0.9, "accuracy " + acc);
    }
}
