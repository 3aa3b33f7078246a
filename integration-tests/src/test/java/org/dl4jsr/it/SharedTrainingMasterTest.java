package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.spark.Bf16SharedTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.transport.PortSupplier;

/**
 * DL4J's gradient sharing (SharedTrainingMaster, Aeron UDP) with the plugin on {@code local[2]}: the worker network and
 * the driver's copy are attached, so every shared update is applied with SR; after every epoch the driver's weights and
 * moments are on the BF16 grid, and Iris is learnt. Aeron's {@code /dev/shm} directories are removed afterwards.
 */
class SharedTrainingMasterTest {
    private static final int EPOCHS = 20;
    private static Set<String> shmBefore;

    @BeforeAll
    static void recordShm() {
        shmBefore = aeronDirs();
    }

    @AfterAll
    static void cleanShm() {
        ModelParameterServer.getInstance().shutdown();
        for (String dir : aeronDirs()) {
            if (!shmBefore.contains(dir)) {
                SparkSessions.deleteRecursively(new File("/dev/shm", dir).toPath());
            }
        }
    }

    @Test
    void gradientSharingTrainsWithStochasticRoundingEverywhere() throws IOException {
        JavaSparkContext sc = SparkSessions.local(2, 1, "shared-training");
        try {
            MultiLayerNetwork net = Nets.mlp(new AdamWSR(0.02));
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master(freeUdpPort()).build());
            List<DataSet> batches = IrisBatches.batches(10);
            for (int e = 0; e < EPOCHS; e++) {
                spark.fit(sc.parallelize(batches, 2));
                assertEquals(0, Nets.offGrid(net.params()), "driver weights off the BF16 grid after epoch " + e);
                assertEquals(0, Nets.offGrid(net.getUpdater().getStateViewArray()),
                        "driver moments off the BF16 grid after epoch " + e);
            }
            double accuracy = IrisTraining.accuracy(net);
            System.out.printf("RESULT shared_training_local2 epochs=%d accuracy=%.4f%n", EPOCHS, accuracy);
            assertTrue(accuracy >= 0.9, "accuracy " + accuracy);
        } finally {
            SparkSessions.stop(sc);
        }
    }

    @Test
    void inExecutorReplicasAndCompactStateAreRefused() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> master(freeUdpPort()).workersPerNode(2).build());
        assertTrue(e.getMessage().contains("workersPerNode(1)"), e.getMessage());

        JavaSparkContext sc = SparkSessions.local(2, 1, "shared-refused");
        try {
            MultiLayerNetwork net = Nets.mlp(AdamWSR.builder().learningRate(0.01).compactState(true).build());
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master(freeUdpPort()).build());
            e = assertThrows(IllegalArgumentException.class,
                    () -> spark.fit(sc.parallelize(IrisBatches.batches(10), 2)));
            assertTrue(e.getMessage().contains("compactState(true)") && e.getMessage().contains("nothing was trained"),
                    e.getMessage());
            assertEquals(0, net.getIterationCount());
        } finally {
            SparkSessions.stop(sc);
        }
    }

    private static Bf16SharedTrainingMaster.Builder master(int port) {
        VoidConfiguration voidConf = VoidConfiguration.builder().controllerAddress("127.0.0.1")
                .portSupplier(new FixedPort(port)).build();
        return new Bf16SharedTrainingMaster.Builder(voidConf, 10).batchSizePerWorker(10)
                .rddTrainingApproach(RDDTrainingApproach.Direct);
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Set<String> aeronDirs() {
        Set<String> dirs = new HashSet<>();
        String[] names = new File("/dev/shm").list();
        if (names != null) {
            for (String n : names) {
                if (n.startsWith("aeron")) {
                    dirs.add(n);
                }
            }
        }
        return dirs;
    }

    /** A fixed UDP port for Aeron, serialisable to the executors (DL4J's StaticPortSupplier ignores its argument). */
    static final class FixedPort implements PortSupplier {
        private static final long serialVersionUID = 1L;
        private final int port;

        FixedPort(int port) {
            this.port = port;
        }

        @Override
        public int getPort() {
            return port;
        }
    }
}
