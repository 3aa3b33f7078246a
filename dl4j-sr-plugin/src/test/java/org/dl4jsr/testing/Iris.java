package org.dl4jsr.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The 150 Iris rows bundled as {@code iris.dat} in deeplearning4j-core (no download), standardised features. */
public final class Iris {
    private Iris() {
    }

    public static DataSet load(DataType type) {
        List<float[]> rows = new ArrayList<>();
        try (InputStream in = Iris.class.getClassLoader().getResourceAsStream("iris.dat")) {
            if (in == null) {
                throw new IllegalStateException("iris.dat not on the classpath (deeplearning4j-core jar)");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) {
                    String[] f = line.split(",");
                    float[] row = new float[5];
                    for (int i = 0; i < 5; i++) {
                        row[i] = Float.parseFloat(f[i]);
                    }
                    rows.add(row);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        INDArray features = Nd4j.create(DataType.FLOAT, rows.size(), 4);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, rows.size(), 3);
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < 4; j++) {
                features.putScalar(i, j, rows.get(i)[j]);
            }
            labels.putScalar(i, (int) rows.get(i)[4], 1f);
        }
        features.subiRowVector(features.mean(0)).diviRowVector(features.std(0));
        return new DataSet(features.castTo(type), labels.castTo(type));
    }

    /** All 150 rows (FLOAT), shuffled with a fixed seed. */
    public static DataSet shuffled() {
        DataSet iris = load(DataType.FLOAT);
        iris.shuffle(123);
        return iris;
    }

    /** {@link #shuffled()} cut into minibatches of {@code size}. */
    public static List<DataSet> batches(int size) {
        return shuffled().batchBy(size);
    }
}
