package org.dl4jsr.examples.lm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A text corpus as bytes, split deterministically into training and validation text, and cut into next-byte
 * prediction batches.
 *
 * <p>A {@code .jar}/{@code .zip} file (such as a library's {@code -sources.jar}) is read as the concatenation of its
 * text entries in name order (entries containing a NUL byte are skipped as binary); any other file is read as is.
 * Split: the text is cut into chunks and every tenth chunk (the 10th, 20th, ...) goes to validation, so validation
 * text comes from all over the corpus and never overlaps training text.
 */
public final class ByteCorpus {
    /** Chunk size of the split for corpora of at least 50 * 4096 bytes (smaller ones use n / 50, at least 256). */
    static final int MAX_CHUNK = 4096;
    static final int VALIDATION_EVERY = 10;

    private final String name;
    private final byte[] train;
    private final byte[] validation;

    /** Next-byte prediction batch: features [batch, length] (byte values), labels one-hot [batch, 256, length]. */
    public record Batch(INDArray features, INDArray labels) {
    }

    private ByteCorpus(String name, byte[] train, byte[] validation) {
        this.name = name;
        this.train = train;
        this.validation = validation;
    }

    /** Reads a text file, or the text entries of a .jar/.zip, and splits it. */
    public static ByteCorpus load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Corpus file not found (or not a file): " + file.toAbsolutePath());
        }
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            byte[] text = lower.endsWith(".jar") || lower.endsWith(".zip") ? archiveText(file) : Files.readAllBytes(file);
            return fromBytes(file.getFileName().toString(), text);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read corpus " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    private static byte[] archiveText(Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<ZipEntry> entries = new ArrayList<>(Collections.list(zip.entries()));
            entries.sort((a, b) -> a.getName().compareTo(b.getName()));
            for (ZipEntry e : entries) {
                if (e.isDirectory()) {
                    continue;
                }
                byte[] bytes;
                try (InputStream in = zip.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                if (!isBinary(bytes)) {
                    out.write(bytes);
                }
            }
        }
        return out.toByteArray();
    }

    private static boolean isBinary(byte[] bytes) {
        for (byte b : bytes) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }

    /** Splits {@code text} into training and validation bytes (deterministic). */
    static ByteCorpus fromBytes(String name, byte[] text) {
        int chunk = Math.max(256, Math.min(MAX_CHUNK, text.length / 50));
        ByteArrayOutputStream train = new ByteArrayOutputStream(text.length);
        ByteArrayOutputStream validation = new ByteArrayOutputStream(text.length / VALIDATION_EVERY + chunk);
        for (int start = 0, i = 0; start < text.length; start += chunk, i++) {
            int len = Math.min(chunk, text.length - start);
            (i % VALIDATION_EVERY == VALIDATION_EVERY - 1 ? validation : train).write(text, start, len);
        }
        return new ByteCorpus(name, train.toByteArray(), validation.toByteArray());
    }

    /** Throws a clear error unless there is enough text for sequences of {@code length} bytes. */
    public void requireLength(int length) {
        if (validation.length < length + 1 || train.length < 2 * (length + 1)) {
            throw new IllegalArgumentException("Corpus '" + name + "' is too small for sequences of " + length
                    + " bytes: " + train.length + " training and " + validation.length + " validation bytes (every "
                    + VALIDATION_EVERY + "th chunk of " + "the text is validation). Use a larger text file, at least "
                    + (50 * 256) + " bytes.");
        }
    }

    /** A training batch of {@code batch} windows at uniformly random positions drawn from {@code random}. */
    public Batch trainBatch(SplittableRandom random, int batch, int length) {
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
            starts[b] = random.nextInt(train.length - length);
        }
        return batch(train, starts, length);
    }

    /**
     * The fixed validation set: {@code windows} windows spread evenly over the validation text, in batches of at most
     * {@code batch}.
     */
    public List<Batch> validationBatches(int windows, int batch, int length) {
        requireLength(length);
        int span = validation.length - length - 1;
        int count = Math.max(1, Math.min(windows, span + 1));
        List<Batch> out = new ArrayList<>();
        for (int first = 0; first < count; first += batch) {
            int n = Math.min(batch, count - first);
            int[] starts = new int[n];
            for (int k = 0; k < n; k++) {
                starts[k] = count == 1 ? 0 : (int) ((long) (first + k) * span / (count - 1));
            }
            out.add(batch(validation, starts, length));
        }
        return out;
    }

    private static Batch batch(byte[] text, int[] starts, int length) {
        int n = starts.length;
        float[] features = new float[n * length];
        float[] labels = new float[n * GptModel.VOCABULARY * length];
        for (int b = 0; b < n; b++) {
            for (int t = 0; t < length; t++) {
                features[b * length + t] = text[starts[b] + t] & 0xFF;
                int next = text[starts[b] + t + 1] & 0xFF;
                labels[(b * GptModel.VOCABULARY + next) * length + t] = 1f;
            }
        }
        return new Batch(Nd4j.create(features, new long[] {n, length}, 'c'),
                Nd4j.create(labels, new long[] {n, GptModel.VOCABULARY, length}, 'c'));
    }

    public String name() {
        return name;
    }

    public int trainBytes() {
        return train.length;
    }

    public int validationBytes() {
        return validation.length;
    }
}
