package org.dl4jsr.examples;

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

/**
 * The Iris data set (150 flowers, 4 features, 3 classes) read from {@code iris.dat}, which ships inside the
 * deeplearning4j-core jar. (DL4J's IrisDataSetIterator would download it; this needs no network.)
 */
public final class IrisData {
    private IrisData() {
    }

    /** All 150 rows, features standardised to zero mean and unit variance, labels one-hot. */
    public static DataSet load() {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = IrisData.class.getClassLoader().getResourceAsStream("iris.dat")) {
            if (in == null) {
                throw new IllegalStateException("iris.dat is not on the classpath: add org.deeplearning4j:deeplearning4j-core");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isBlank()) {
                    rows.add(line.split(","));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read iris.dat", e);
        }
        INDArray features = Nd4j.create(DataType.FLOAT, rows.size(), 4);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, rows.size(), 3);
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i);
            for (int j = 0; j < 4; j++) {
                features.putScalar(i, j, Float.parseFloat(row[j]));
            }
            labels.putScalar(i, Integer.parseInt(row[4].trim()), 1f);
        }
        features.subiRowVector(features.mean(0)).diviRowVector(features.std(0));
        return new DataSet(features, labels);
    }
}
