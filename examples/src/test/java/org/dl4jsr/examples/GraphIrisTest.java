package org.dl4jsr.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.rounding.Bf16;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/** The graph example's two networks learn Iris equally well; the BF16 graph ends exactly on the grid. */
class GraphIrisTest {
    @Test
    void bf16GraphMatchesFp32() {
        DataSet iris = IrisData.load();
        double fp32 = GraphIris.train(GraphIris.graph(new Adam(0.01)), iris, 150);
        ComputationGraph bf16 = GraphIris.graph(new AdamWSR(0.01));
        Bf16Training.attach(bf16);
        double sr = GraphIris.train(bf16, iris, 150);
        assertTrue(fp32 >= 0.95 && sr >= 0.95, "accuracy fp32=" + fp32 + " sr=" + sr);
        assertTrue(Math.abs(fp32 - sr) <= 0.03, "accuracy fp32=" + fp32 + " sr=" + sr);
        for (float w : bf16.params().toFloatVector()) {
            assertTrue(Bf16.isOnGrid(w));
        }
    }

    @Test
    void mainRuns() {
        GraphIris.main(new String[] {"60"});
    }
}
