package org.dl4jsr.averaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.parallel.Bf16ParallelWrapper;
import org.dl4jsr.parallel.Bf16TrainerContext;
import org.dl4jsr.testing.Bits;
import org.dl4jsr.testing.JavaGradients;
import org.dl4jsr.testing.JavaMade;
import org.dl4jsr.testing.TestNets;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Golden bits of the averaging of the Spark master and of ParallelWrapper, on inputs made in Java (see
 * org.dl4jsr.GoldenBitsTest for why: the hashes hold on every x86-64 CPU and JDK 17..25). They pin the wire format's
 * values, the summation order, the rounding keys and the write-back; a change to any fails here. A deliberate change
 * updates the hash in the same commit and says why.
 */
class GoldenAveragingBitsTest {
    private static final long SEED = 7;

    private static WireLayout layout() {
        return WireLayout.builder(3000).add(0, 1200, WireLayout.Kind.GRID).add(1200, 900, WireLayout.Kind.PACKED)
                .add(2100, 600, WireLayout.Kind.FP32).add(2700, 300, WireLayout.Kind.GRID).build();
    }

    /** One replica's FP32 bit patterns: GRID values on the BF16 grid, PACKED two BF16 halves, FP32 any float. */
    private static int[] replica(WireLayout layout, long seed) {
        int[] bits = new int[(int) layout.length()];
        for (int s = 0; s < layout.segments(); s++) {
            for (long i = layout.start(s); i < layout.start(s) + layout.length(s); i++) {
                int b = Float.floatToRawIntBits(JavaMade.value(seed, i, 4.0, false));
                if (layout.kind(s) == WireLayout.Kind.PACKED) {
                    int v = Float.floatToRawIntBits(Math.abs(JavaMade.value(seed + 1, i, 0.1, false)));
                    b = (b & 0xFFFF0000) | (v >>> 16);
                }
                bits[(int) i] = layout.kind(s) == WireLayout.Kind.GRID ? b & 0xFFFF0000 : b;
            }
        }
        return bits;
    }

    private static String hash(List<int[]> arrays) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            for (int[] a : arrays) {
                out.writeInt(a.length);
                for (int b : a) {
                    out.writeInt(b);
                }
            }
        }
        return Bits.hash(org.nd4j.linalg.factory.Nd4j.createFromArray(bytes.toByteArray()));
    }

    /** The Spark master's route: encode each worker's array, sum in worker order, divide, round, decode. */
    @Test
    void wireAveragingBitsAreUnchanged() throws IOException {
        WireLayout layout = layout();
        List<int[]> results = new ArrayList<>();
        for (int workers = 1; workers <= 3; workers++) {
            List<int[]> replicas = new ArrayList<>();
            for (int k = 0; k < workers; k++) {
                replicas.add(replica(layout, JavaMade.key(SEED, k)));
            }
            for (int round = 0; round < 2; round++) {
                Bf16Averaging params = Bf16Averaging.params(layout);
                Bf16Averaging state = Bf16Averaging.state(layout);
                for (int[] r : replicas) {
                    WireArray w = WireArray.encode(r, layout, "Parameter");
                    assertArrayEquals(r, w.decodeBits(layout), "the wire form is lossless");
                    params.add(w);
                    state.add(w);
                }
                results.add(params.result(SEED, round).decodeBits(layout));
                results.add(state.result(SEED, round).decodeBits(layout));
                assertArrayEquals(results.get(results.size() - 2), Bf16Averaging.averageBits(replicas, layout, SEED,
                        round, Bf16Averaging.PARAMS_STREAM, "Parameter", 2), "in-process route = wire route");
            }
        }
        assertEquals("d8cc6f4c07eb6b2f", hash(results), "exact bits of the wire averaging changed");
    }

    /** The wire payload itself: what a worker sends for one array (Java serialisation of the plain arrays). */
    @Test
    void wirePayloadBitsAreUnchanged() throws IOException {
        WireLayout layout = layout();
        WireArray w = WireArray.encode(replica(layout, SEED), layout, "Parameter");
        assertEquals(2L * (1200 + 2 * 900 + 300) + 4L * 600, w.payloadBytes());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(w);
        }
        // The stream names the class: the hash pinned while WireArray lived in org.dl4jsr.spark still holds with
        // that name put back, so the move to org.dl4jsr.averaging changed the name and nothing else.
        byte[] before = renamed(bytes.toByteArray(), WireArray.class.getName(), "org.dl4jsr.spark.WireArray");
        assertEquals("11ed15ccbd31ce2f", Bits.hash(org.nd4j.linalg.factory.Nd4j.createFromArray(before)),
                "exact bytes of the wire payload changed");
        assertEquals("5e11e3bf23d95489", Bits.hash(org.nd4j.linalg.factory.Nd4j.createFromArray(bytes.toByteArray())),
                "exact bytes of the wire payload changed");
    }

    /** {@code stream} with the class name {@code from} (a modified-UTF string: 2-byte length, then ASCII) replaced. */
    private static byte[] renamed(byte[] stream, String from, String to) {
        byte[] old = utf(from);
        for (int i = 0; i + old.length <= stream.length; i++) {
            if (java.util.Arrays.equals(stream, i, i + old.length, old, 0, old.length)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(stream, 0, i);
                out.writeBytes(utf(to));
                out.write(stream, i + old.length, stream.length - i - old.length);
                return out.toByteArray();
            }
        }
        throw new AssertionError(from + " is not in the stream");
    }

    private static byte[] utf(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(s);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static MultiLayerNetwork javaMadeNet() {
        MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.02), 3);
        JavaMade.params(net, 3);
        net.setListeners(new JavaGradients(11));
        Bf16Training.attach(net, Bf16Options.builder().seed(SEED).build());
        return net;
    }

    /** ParallelWrapper's in-process averaging of attached replicas (params and AdamWSR state), written back. */
    @Test
    void inProcessAveragingOfNetworksIsUnchanged() {
        List<Model> replicas = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            MultiLayerNetwork net = javaMadeNet();
            for (DataSet d : JavaMade.batches(100 + k, 2, 10, DataType.FLOAT)) {
                net.fit(d);
            }
            replicas.add(net);
        }
        MultiLayerNetwork target = javaMadeNet();
        Bf16Averaging.averageInPlace(replicas, List.of(target), SEED, 4, true, new Bf16Averaging.Scratch(2));
        assertEquals("e9af8bc64c045e35", Bits.hash(target), "exact bits of the averaged network changed");
    }

    /**
     * ParallelWrapper end to end (two workers averaging every 2 minibatches) with Java-made gradients: its replicas
     * get the network's listeners, so no bit comes from the backward pass.
     */
    @Test
    void parallelWrapperAveragingBitsAreUnchanged() {
        MultiLayerNetwork net = javaMadeNet();
        ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(2).build();
        Bf16TrainerContext ctx = Bf16ParallelWrapper.attach(pw);
        long replaced = JavaGradients.replacedSoFar();
        pw.fit(new ListDataSetIterator<>(JavaMade.batches(21, 8, 10, DataType.FLOAT), 1));
        assertTrue(ctx.getAveragingRounds() > 0, "the plugin's averaging ran");
        assertEquals(8, JavaGradients.replacedSoFar() - replaced, "every replica step had Java-made gradients");
        assertEquals("76c06934ebf3da6b", Bits.hash(net), "exact bits of ParallelWrapper averaging changed");
    }
}
