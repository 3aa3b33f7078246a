package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class Bf16GridTest {
    @Test
    void countsValuesWithNonZeroLowBits() {
        // 1.0, 1 + 2^-7 (on the grid), 1 + 2^-10 (off), -0.0, NaN with a low payload bit (off), 3.0 + 2^-20 (off)
        INDArray a = Nd4j.createFromArray(1.0f, 1.0f + 0x1p-7f, 1.0f + 0x1p-10f, -0.0f,
                Float.intBitsToFloat(0x7FC00001), 3.0f + 0x1p-20f);
        assertEquals(3, Bf16Grid.countOffGrid(a));
    }

    @Test
    void handlesViewsAndBfloat16Arrays() {
        INDArray m = Nd4j.createFromArray(new float[][] {{1.1f, 1.0f}, {2.0f, 0.5f}});
        assertEquals(1, Bf16Grid.countOffGrid(m));
        assertEquals(0, Bf16Grid.countOffGrid(m.get(NDArrayIndex.all(), NDArrayIndex.point(1))));
        assertEquals(1, Bf16Grid.countOffGrid(m.get(NDArrayIndex.all(), NDArrayIndex.point(0))));
        assertEquals(0, Bf16Grid.countOffGrid(m.castTo(DataType.BFLOAT16)));
    }

    @Test
    void refusesTypesWithoutAnFp32BitPattern() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bf16Grid.countOffGrid(Nd4j.zeros(DataType.DOUBLE, 3)));
        assertTrue(e.getMessage().contains("DOUBLE"), e.getMessage());
    }
}
