package org.dl4jsr.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.Iris;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.AdditionalAnswers;
import org.mockito.stubbing.Answer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A checkpoint write that fails at its n-th write call (a full disk), n from the first write to the last:
 * the save reports the error, the previous checkpoint is intact byte for byte and loads, no temporary file is left,
 * and the stream is closed. The file stream is a Mockito mock that delegates to the real one and throws at call n.
 */
class CheckpointWriteFaultsTest {
    @TempDir
    Path dir;

    /** A mock of {@code out} that counts its write calls in {@code calls} and throws at call {@code failAt} (0: never). */
    private static OutputStream faulty(OutputStream out, int[] calls, int failAt, List<OutputStream> made) {
        Answer<Object> real = AdditionalAnswers.delegatesTo(out);
        OutputStream m = mock(OutputStream.class, invocation -> {
            if (invocation.getMethod().getName().equals("write") && ++calls[0] == failAt) {
                throw new IOException("No space left on device (injected at write " + failAt + ")");
            }
            return real.answer(invocation);
        });
        made.add(m);
        return m;
    }

    @Test
    void aSaveFailingAtAnyWriteLeavesThePreviousCheckpointIntact() throws Exception {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 1);
        Bf16Training.attach(net);
        TestNets.fit(net, Iris.load(DataType.FLOAT), 3);
        Path file = dir.resolve("run.ckpt");
        Bf16Checkpoint.save(net, file);
        byte[] previous = Files.readAllBytes(file);
        String previousModel = Bits.hash(net);
        TestNets.fit(net, Iris.load(DataType.FLOAT), 3);

        List<OutputStream> made = new java.util.ArrayList<>();
        int[] total = {0};
        Bf16Checkpoint.save(net, dir.resolve("count.ckpt"), out -> faulty(out, total, 0, made));
        Files.delete(dir.resolve("count.ckpt"));
        assertTrue(total[0] >= 3, "write calls of one save: " + total[0]);

        // the first writes (manifest), the middle (parameters, state) and the last (closing the zip)
        for (int n : new java.util.TreeSet<>(List.of(1, 2, 3, total[0] / 3, total[0] / 2, total[0] - 1, total[0]))) {
            int failAt = n;
            made.clear();
            IOException e = assertThrows(IOException.class,
                    () -> Bf16Checkpoint.save(net, file, out -> faulty(out, new int[1], failAt, made)));
            assertTrue(e.getMessage().contains("injected at write " + n), e.getMessage());
            verify(made.get(0), atLeastOnce()).close();
            assertArrayEquals(previous, Files.readAllBytes(file), "previous checkpoint changed by a save failing at write " + n);
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(file), files.collect(Collectors.toList()), "temporary file left at write " + n);
            }
        }
        assertEquals(previousModel, Bits.hash(Bf16Checkpoint.loadMultiLayerNetwork(file)), "previous checkpoint loads");
    }
}
