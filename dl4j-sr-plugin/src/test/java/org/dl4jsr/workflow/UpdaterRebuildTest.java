package org.dl4jsr.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.Network;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.dl4jsr.training.Bf16NotAttachedException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * DL4J calls that rebuild the updater of an attached network (setLearningRate in all its forms, setUpdater) keep the
 * network attached: training goes on bit for bit as if the user had called {@code Bf16Training.attach(net)} again
 * right after the call. {@code MultiLayerNetwork.clear()} drops DL4J's optimizer and its state: refused loudly, with a
 * message naming it.
 */
class UpdaterRebuildTest {
    private static final DataSet IRIS = Iris.load(DataType.FLOAT);

    /** Params and updater state of {@code net} after 3 steps, {@code change}, [re-attach,] 3 more steps. */
    private static String run(Model net, Consumer<Model> change, boolean reattach) {
        Bf16Training.attachModel(net, org.dl4jsr.Bf16Options.defaults());
        TestNets.fit(net, IRIS, 3);
        change.accept(net);
        if (reattach) {
            Bf16Training.attachModel(net, org.dl4jsr.Bf16Options.defaults());
        }
        TestNets.fit(net, IRIS, 3);
        assertEquals(0, Bf16Grid.countOffGrid(net));
        return Bits.hash(net.params(), Network.of(net).updaterState());
    }

    private static void assertLikeReattach(java.util.function.Supplier<Model> make, Consumer<Model> change, String what) {
        String kept = run(make.get(), change, false);
        String reattached = run(make.get(), change, true);
        assertEquals(reattached, kept, what + ": training after the call differs from training after a re-attach");
        String unchanged = run(make.get(), m -> { }, false);
        assertNotEquals(unchanged, kept, what + ": the call changed nothing (the new learning rate was not used)");
    }

    @Test
    void multiLayerNetworkLearningRateCalls() {
        java.util.function.Supplier<Model> make = () -> TestNets.irisMlp(new AdamWSR(0.01), 3);
        assertLikeReattach(make, m -> ((MultiLayerNetwork) m).setLearningRate(0.002), "setLearningRate(lr)");
        assertLikeReattach(make, m -> ((MultiLayerNetwork) m).setLearningRate(1, 0.002), "setLearningRate(layer, lr)");
        assertLikeReattach(make, m -> ((MultiLayerNetwork) m).setLearningRate(
                new ExponentialSchedule(ScheduleType.ITERATION, 0.02, 0.9)), "setLearningRate(schedule)");
        // a DL4J updater wrapped by attach (Bf16Rounded): the call reaches the wrapped Adam
        assertLikeReattach(() -> TestNets.irisMlp(new Adam(0.01), 3),
                m -> ((MultiLayerNetwork) m).setLearningRate(1, 0.002), "Adam setLearningRate(layer, lr)");
    }

    @Test
    void computationGraphLearningRateCalls() {
        java.util.function.Supplier<Model> make = () -> TestNets.irisGraph(new AdamWSR(0.01), 4);
        assertLikeReattach(make, m -> ((ComputationGraph) m).setLearningRate(0.002), "graph setLearningRate(lr)");
        assertLikeReattach(make, m -> ((ComputationGraph) m).setLearningRate("a", 0.002),
                "graph setLearningRate(layer, lr)");
    }

    /** setUpdater with an updater built from the configuration (state carried over) keeps the attachment too. */
    @Test
    void setUpdaterKeepsTheAttachmentAndTheHandle() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 5);
        Bf16Attachment handle = Bf16Training.attach(net);
        TestNets.fit(net, IRIS, 2);
        net.setUpdater(new MultiLayerUpdater(net, net.getUpdater().getStateViewArray()));
        TestNets.fit(net, IRIS, 2);
        assertEquals(0, Bf16Grid.countOffGrid(net));
        assertSame(handle.getModel(), Bf16Attachment.installedOn(net).getModel());
    }

    /**
     * Two networks built from one AdamWSR configuration object, both attached: after setLearningRate each trains as
     * if re-attached, on its own engine (the rebuilt updaters find the engine of the network their gradient belongs
     * to, not the configuration's last one).
     */
    @Test
    void oneConfigurationObjectSharedByTwoAttachedNetworks() {
        AdamWSR shared = new AdamWSR(0.01);
        MultiLayerNetwork a = TestNets.irisMlp(shared, 3);
        MultiLayerNetwork b = TestNets.irisMlp(shared, 3);
        Bf16Training.attach(a);
        Bf16Training.attach(b);
        TestNets.fit(a, IRIS, 3);
        TestNets.fit(b, IRIS, 3);
        a.setLearningRate(0.002);
        TestNets.fit(a, IRIS, 3);
        b.setLearningRate(0.002);
        TestNets.fit(b, IRIS, 3);
        String expected = run(TestNets.irisMlp(new AdamWSR(0.01), 3),
                m -> ((MultiLayerNetwork) m).setLearningRate(0.002), true);
        assertEquals(expected, Bits.hash(a.params(), Network.of(a).updaterState()), "first network");
        assertEquals(expected, Bits.hash(b.params(), Network.of(b).updaterState()), "second network");
    }

    /** Attaching does not keep a network alive: once the user drops it, it can be garbage-collected. */
    @Test
    void anAttachedNetworkThatIsDroppedCanBeCollected() throws InterruptedException {
        java.lang.ref.WeakReference<MultiLayerNetwork> ref = attachTrainAndDrop();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(ref.get() == null, "the attached network is still reachable after it was dropped");
    }

    private static java.lang.ref.WeakReference<MultiLayerNetwork> attachTrainAndDrop() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 7);
        Bf16Training.attach(net);
        TestNets.fit(net, IRIS, 1);
        return new java.lang.ref.WeakReference<>(net);
    }

    /** clear() drops the optimizer (and Adam's moments with it): refused, the message names clear(). */
    @Test
    void clearIsRefusedWithAMessageNamingIt() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 6);
        Bf16Training.attach(net);
        TestNets.fit(net, IRIS, 2);
        String before = Bits.hash(net.params());
        net.clear();
        Bf16NotAttachedException e = assertThrows(Bf16NotAttachedException.class, () -> net.fit(IRIS));
        assertTrue(e.getMessage().contains("clear()"), e.getMessage());
        assertEquals(before, Bits.hash(net.params()), "nothing changed");
    }
}
