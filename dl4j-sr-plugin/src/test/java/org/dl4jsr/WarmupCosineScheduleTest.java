package org.dl4jsr;

import org.dl4jsr.testing.TestNets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;

class WarmupCosineScheduleTest {
    private final WarmupCosineSchedule s = new WarmupCosineSchedule(1e-3, 1e-4, 10, 110);

    @Test
    void warmupThenCosineThenFloor() {
        assertEquals(1e-4, s.valueAt(0, 0), 1e-15);
        assertEquals(5e-4, s.valueAt(4, 0), 1e-15);
        assertEquals(1e-3, s.valueAt(9, 0), 1e-15);
        assertEquals(1e-3, s.valueAt(10, 0), 1e-15);
        assertEquals(1e-4 + 0.9e-3 * 0.5, s.valueAt(60, 0), 1e-15);
        assertEquals(1e-4, s.valueAt(110, 0), 1e-15);
        assertEquals(1e-4, s.valueAt(5000, 3), 1e-15);
        for (int i = 10; i < 110; i++) {
            assertEquals(true, s.valueAt(i + 1, 0) <= s.valueAt(i, 0), "decreasing at " + i);
        }
        assertEquals(2.0, new WarmupCosineSchedule(2, 0, 0, 10).valueAt(0, 0), 0);
    }

    @Test
    void survivesTheNetworkConfigurationJson() {
        for (var updater : new org.nd4j.linalg.learning.config.IUpdater[] {new Adam(s),
                AdamWSR.builder().learningRateSchedule(s).build()}) {
            MultiLayerConfiguration conf = TestNets.irisMlpConf(updater, 1, Activation.TANH);
            MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
            assertEquals(conf, back);
            MultiLayerNetwork net = new MultiLayerNetwork(back);
            net.init();
            assertEquals(s.valueAt(50, 0), net.getLayer(0).conf().getLayer().getUpdaterByParam("W")
                    .getLearningRate(50, 0), 0);
        }
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0, 0, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1, 2, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1, 0, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1, 0, -1, 10));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(Double.NaN, 0, 0, 10));
    }
}
