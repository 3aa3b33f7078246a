package org.dl4jsr.diagnostics;

import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.diagnostics.TrainingMemory;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/** Training-state bytes per parameter (params + gradients + updater state), measured from the arrays. */
class MemoryTest {

    private static double bytesPerParam(IUpdater updater, DataType type) {
        MultiLayerConfiguration conf = TestNets.irisMlpConf(updater, 1, Activation.GELU);
        conf.setDataType(type);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        if (updater instanceof AdamWSR) {
            Bf16Training.attach(net);
        }
        TrainingMemory m = TrainingMemory.of(net);
        System.out.println("RESULT memory updater=" + updater.getClass().getSimpleName()
                + (updater instanceof AdamWSR && ((AdamWSR) updater).isCompactState() ? "-compact" : "")
                + " network=" + type + " bytes_per_param=" + m.bytesPerParameter());
        return m.bytesPerParameter();
    }

    @Test
    void bytesPerParameterForEachMode() {
        assertEquals(16.0, bytesPerParam(new Adam(), DataType.FLOAT), "DL4J Adam, FP32");
        assertEquals(16.0, bytesPerParam(new AdamWSR(), DataType.FLOAT), "AdamWSR, FP32 slots on the BF16 grid");
        assertEquals(12.0, bytesPerParam(AdamWSR.builder().compactState(true).build(), DataType.FLOAT), "compact");
        assertEquals(8.0, bytesPerParam(new AdamWSR(), DataType.BFLOAT16), "BFLOAT16 network");
        assertEquals(20.0, bytesPerParam(AdamWSR.builder().masterWeights(true).build(), DataType.FLOAT), "FP32 master");
    }
}
