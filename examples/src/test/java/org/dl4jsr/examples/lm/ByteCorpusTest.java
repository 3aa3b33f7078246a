package org.dl4jsr.examples.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ByteCorpusTest {
    @TempDir
    Path dir;

    private static byte[] text(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 13) % 26);
        }
        return b;
    }

    @Test
    void everyTenthChunkIsValidationAndNothingIsLost() {
        byte[] all = text(100_000); // chunk = 100000 / 50 = 2000 bytes
        ByteCorpus c = ByteCorpus.fromBytes("t", all);
        assertEquals(all.length, c.trainBytes() + c.validationBytes());
        assertEquals(10_000, c.validationBytes());
        ByteCorpus again = ByteCorpus.fromBytes("t", all);
        assertEquals(c.trainBytes(), again.trainBytes());
    }

    @Test
    void batchesPredictTheNextByte() {
        ByteCorpus c = ByteCorpus.fromBytes("t", text(100_000));
        ByteCorpus.Batch b = c.trainBatch(new SplittableRandom(1), 4, 16);
        assertArrayEquals(new long[] {4, 16}, b.features().shape());
        assertArrayEquals(new long[] {4, 256, 16}, b.labels().shape());
        assertEquals(4 * 16, b.labels().sumNumber().intValue(), "one-hot");
        INDArray labelBytes = b.labels().argMax(1);
        for (int r = 0; r < 4; r++) {
            for (int t = 0; t + 1 < 16; t++) {
                assertEquals(b.features().getInt(r, t + 1), labelBytes.getInt(r, t), "label = next input byte");
            }
        }
        // same seed, same batch
        assertEquals(b.features(), c.trainBatch(new SplittableRandom(1), 4, 16).features());
        List<ByteCorpus.Batch> v = c.validationBatches(10, 4, 16);
        assertEquals(3, v.size());
        assertEquals(10, v.stream().mapToLong(x -> x.features().size(0)).sum());
    }

    @Test
    void readsTheTextEntriesOfAJarInNameOrder() throws IOException {
        Path jar = dir.resolve("x-sources.jar");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(jar))) {
            put(z, "b/B.java", "class B {}\n".getBytes(StandardCharsets.UTF_8));
            put(z, "a/A.java", "class A {}\n".getBytes(StandardCharsets.UTF_8));
            put(z, "img.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 13});
        }
        // The jar alone is tiny: check its text through the error message of the size check instead of training.
        ByteCorpus c = ByteCorpus.load(jar);
        assertEquals("class A {}\nclass B {}\n".length(), c.trainBytes() + c.validationBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.requireLength(64));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
    }

    @Test
    void missingFileIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ByteCorpus.load(dir.resolve("nope.txt")));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("nope.txt"), e.getMessage());
    }

    private static void put(ZipOutputStream z, String name, byte[] bytes) throws IOException {
        z.putNextEntry(new ZipEntry(name));
        OutputStream o = z;
        o.write(bytes);
        z.closeEntry();
    }
}
