package org.dl4jsr.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.Mockito.doThrow;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.withSettings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.mockito.AdditionalAnswers;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

/** Faults in the middle of a ParallelWrapper fit: what reaches the caller, and what is left of the network. */
class ParallelWrapperFaultsTest {
    private static List<DataSet> batches() {
        List<DataSet> out = new ArrayList<>();
        Iris.load(DataType.FLOAT).batchBy(10).forEach(out::add);
        return out;
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * Runs a two-worker fit in {@code mode} on an attached network with {@code fault} set up, and checks: the fit
     * ends (no hang), the injected error reaches the caller, the network is still attached, its weights are finite and
     * on the grid, and it trains on (plain fit) afterwards.
     */
    private static void assertFaultReachesCaller(ParallelWrapper.TrainingMode mode, boolean listenerFault) {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 3);
        Bf16Training.attach(net);
        ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(2).trainingMode(mode)
                .build();
        DataSetIterator data = new ListDataSetIterator<>(batches(), 1);
        if (listenerFault) {
            TrainingListener failing = mock(TrainingListener.class);
            doThrow(new IllegalStateException("listener failed (injected)")).when(failing)
                    .iterationDone(any(), eq(4), anyInt());
            pw.setListeners(failing);
        } else {
            DataSetIterator real = data;
            int[] calls = {0};
            data = mock(DataSetIterator.class, withSettings().defaultAnswer(invocation -> {
                if (invocation.getMethod().getName().equals("next") && ++calls[0] == 6) {
                    throw new IllegalStateException("data source failed (injected)");
                }
                return AdditionalAnswers.delegatesTo(real).answer(invocation);
            }));
        }
        Bf16ParallelWrapper.attach(pw);
        Throwable[] thrown = new Throwable[1];
        DataSetIterator it = data;
        long start = System.nanoTime();
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            try {
                pw.fit(it);
            } catch (Throwable t) {
                thrown[0] = t;
            }
        }, mode + ": fit hung after the fault");
        System.out.println("fault fit ended after " + (System.nanoTime() - start) / 1_000_000 + " ms");
        pw.shutdown();
        String what = mode + (listenerFault ? " listener" : " iterator");
        assertNotNull(thrown[0], what + ": the error did not reach the caller");
        assertTrue(rootCause(thrown[0]).getMessage().contains("(injected)"), what + ": " + thrown[0]);
        assertNotNull(Bf16Attachment.installedOn(net), what + ": no longer attached");
        for (float w : net.params().dup().data().asFloat()) {
            assertTrue(Float.isFinite(w), what + ": weights not finite");
        }
        assertEquals(0, Bf16Grid.countOffGrid(net), what);
        net.setListeners(); // the failing listener was the wrapper's; the user's network trains on by itself
        TestNets.fit(net, Iris.load(DataType.FLOAT), 2);
        assertEquals(0, Bf16Grid.countOffGrid(net), what + ": after training on");
    }

    @Test
    void listenerThrowingInAWorker() {
        assertFaultReachesCaller(ParallelWrapper.TrainingMode.AVERAGING, true);
        assertFaultReachesCaller(ParallelWrapper.TrainingMode.SHARED_GRADIENTS, true);
    }

    @Test
    void dataIteratorThrowingMidFit() {
        assertFaultReachesCaller(ParallelWrapper.TrainingMode.AVERAGING, false);
        assertFaultReachesCaller(ParallelWrapper.TrainingMode.SHARED_GRADIENTS, false);
    }
}
