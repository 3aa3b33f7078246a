package org.dl4jsr.it;

import java.util.List;
import org.dl4jsr.examples.IrisData;
import org.nd4j.linalg.dataset.DataSet;

/** Iris (from iris.dat in deeplearning4j-core), shuffled with a fixed seed, cut into minibatches. */
final class IrisBatches {
    private IrisBatches() {
    }

    static DataSet all() {
        DataSet iris = IrisData.load();
        iris.shuffle(123);
        return iris;
    }

    static List<DataSet> batches(int size) {
        return all().batchBy(size);
    }
}
