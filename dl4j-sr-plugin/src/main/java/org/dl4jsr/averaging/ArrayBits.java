package org.dl4jsr.averaging;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.factory.Nd4j;

/**
 * FP32 bit patterns of FLOAT and BFLOAT16 arrays, moved with bit casts (no arithmetic), so that values such as packed
 * moments or subnormal numbers survive unchanged. Works on every ND4J backend.
 */
public final class ArrayBits {
    private ArrayBits() {
    }

    /** The FP32 bit patterns of all elements of {@code a} (BFLOAT16 widened exactly), in the array's buffer order. */
    public static int[] of(INDArray a) {
        DataType type = a.dataType();
        if (type != DataType.FLOAT && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("Expected a FLOAT or BFLOAT16 array, got " + type);
        }
        INDArray floats = type == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        // BitCast copies from the start of the buffer: anything but an array that owns exactly its buffer is copied.
        boolean ownsBuffer = !floats.isView() && floats.data().length() == floats.length();
        INDArray source = ownsBuffer ? floats : floats.dup();
        return Nd4j.exec(new BitCast(source.reshape(source.length()), DataType.INT32))[0].toIntVector();
    }

    /**
     * A new array of {@code type} and {@code shape} holding the given FP32 bit patterns. For BFLOAT16 every pattern
     * must be on the BF16 grid (the conversion is then exact).
     */
    public static INDArray create(int[] bits, DataType type, long... shape) {
        INDArray floats = Nd4j.exec(new BitCast(Nd4j.createFromArray(bits), DataType.FLOAT))[0].reshape(shape);
        return type == DataType.FLOAT ? floats : floats.castTo(type);
    }

    /** A network's flat parameters: a row vector [1, n], as DL4J creates them. */
    public static INDArray params(int[] bits, DataType type) {
        return create(bits, type, 1, bits.length);
    }

    /** A network's updater state view: a vector [n], as DL4J's updater creates it. */
    public static INDArray updaterState(int[] bits, DataType type) {
        return create(bits, type, bits.length);
    }
}
