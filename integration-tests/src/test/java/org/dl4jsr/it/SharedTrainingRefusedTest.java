package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.junit.jupiter.api.Test;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.transport.PortSupplier;

/**
 * Gradient sharing (DL4J's SharedTrainingMaster, Aeron) is not supported: DL4J 1.0.0-M2's SharedTrainingWrapper can
 * leave a task waiting forever on local[N] (a task that attaches its data after the training thread has finished;
 * seen with DL4J's own FP32 networks too, see README.md, "Gradient sharing: not supported"). The combination is refused on the driver, before any
 * worker trains, with a message naming the supported master. The test removes the Aeron directories the driver
 * created in /dev/shm.
 */
@SparkJre
class SharedTrainingRefusedTest {

    @Test
    void sharedTrainingMasterIsRefusedOnTheDriver() throws IOException {
        Set<String> shmBefore = aeronDirs();
        JavaSparkContext sc = SparkSessions.local(2, 1, "shared-refused");
        try {
            MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 42);
            Bf16Training.attach(net);
            int[] before = Bits.of(net.params());
            VoidConfiguration voidConf = VoidConfiguration.builder().controllerAddress("127.0.0.1")
                    .portSupplier(new FixedPort(freeUdpPort())).build();
            SharedTrainingMaster master = new SharedTrainingMaster.Builder(voidConf, 10).batchSizePerWorker(10)
                    .workersPerNode(1).rddTrainingApproach(RDDTrainingApproach.Direct).build();
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
            Exception e = assertThrows(Exception.class, () -> spark.fit(sc.parallelize(Iris.batches(10), 2)));
            String all = messages(e);
            assertTrue(all.contains("SharedTrainingMaster cannot train") && all.contains("not supported")
                    && all.contains("org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster"), all);
            assertArrayEquals(before, Bits.of(net.params()), "weights must be unchanged");
            assertEquals(0, net.getIterationCount());
        } finally {
            SparkSessions.stop(sc);
            ModelParameterServer.getInstance().shutdown(); // DL4J starts Aeron before it builds its workers
            for (String dir : aeronDirs()) {
                if (!shmBefore.contains(dir)) {
                    SparkSessions.deleteRecursively(new File("/dev/shm", dir).toPath());
                }
            }
        }
        assertEquals(shmBefore, aeronDirs(), "Aeron directories left in /dev/shm");
    }

    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
        }
        return sb.toString();
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

    /** A fixed UDP port for Aeron (DL4J's StaticPortSupplier ignores its argument). */
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
