package org.dl4jsr.rounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Round-to-nearest-even must be bit-identical to ND4J's own FLOAT -> BFLOAT16 cast for every non-NaN input.
 * For NaN inputs ND4J's cast adds the rounding bias blindly, so a NaN whose payload sits in the low bits comes out as
 * infinity (0x7F800001 -> 0x7F80) or even -0 (0x7FFFFFFF -> 0x8000); ours always returns a NaN.
 */
class Bf16NearestTest {

    private static short[] nd4jCast(float[] values) {
        INDArray bf16 = Nd4j.createFromArray(values).castTo(DataType.BFLOAT16);
        ShortBuffer s = bf16.data().asNio().order(ByteOrder.nativeOrder()).asShortBuffer();
        short[] out = new short[values.length];
        s.get((int) bf16.offset(), out, 0, out.length);
        return out;
    }

    private static void assertSameAsNd4j(float[] values) {
        short[] expected = nd4jCast(values);
        for (int i = 0; i < values.length; i++) {
            short ours = Bf16.toBits(Bf16.roundNearestEven(values[i]));
            int bits = Float.floatToRawIntBits(values[i]);
            if (Float.isNaN(values[i])) {
                assertTrue(Float.isNaN(Bf16.fromBits(ours)), () -> "NaN must stay NaN: " + Integer.toHexString(bits));
                continue;
            }
            assertEquals(expected[i], ours, () -> "input bits " + Integer.toHexString(bits));
        }
    }

    @Test
    void millionRandomBitPatternsMatchNd4jCast() {
        SplittableRandom rnd = new SplittableRandom(42);
        float[] values = new float[1 << 20];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(rnd.nextInt());
        }
        assertSameAsNd4j(values);
    }

    @Test
    void millionRandomNormalValuesMatchNd4jCast() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] values = new float[1 << 20];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(-30, 30)));
        }
        assertSameAsNd4j(values);
    }

    /** Every sign/exponent/mantissa-high combination with the low halves where rounding changes behaviour. */
    @Test
    void everyHighHalfWithCriticalLowHalvesMatchesNd4jCast() {
        int[] lows = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
        float[] values = new float[65536 * lows.length];
        int i = 0;
        for (int high = 0; high < 65536; high++) {
            for (int low : lows) {
                values[i++] = Float.intBitsToFloat((high << 16) | low);
            }
        }
        assertSameAsNd4j(values);
    }

    @Test
    void edgeCasesMatchNd4jCast() {
        float[] values = {
            0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Bf16.MAX_FINITE, Float.intBitsToFloat(0x7F7F7FFF), Float.intBitsToFloat(0x7F7F8000),
            Float.intBitsToFloat(0x7F7F8001), Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000),
            Float.intBitsToFloat(0x3F807FFF), Float.intBitsToFloat(0x3F808001), Float.intBitsToFloat(0x00008000),
            Float.intBitsToFloat(0x00018000), Float.intBitsToFloat(0x007FFFFF), Float.intBitsToFloat(0x807FFFFF),
            Float.intBitsToFloat(0x7F800001), Float.intBitsToFloat(0xFFC00001), Float.intBitsToFloat(0x7FFFFFFF)
        };
        assertSameAsNd4j(values);
        // Ties go to even, overflow goes to infinity (IEEE, as ND4J).
        assertEquals(0x3F800000, Float.floatToRawIntBits(Bf16.roundNearestEven(Float.intBitsToFloat(0x3F808000))));
        assertEquals(0x3F820000, Float.floatToRawIntBits(Bf16.roundNearestEven(Float.intBitsToFloat(0x3F818000))));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.roundNearestEven(Float.intBitsToFloat(0x7F7F8000)));
        assertTrue(Float.isNaN(Bf16.roundNearestEven(Float.intBitsToFloat(0x7F800001))));
        assertTrue(Float.isNaN(Bf16.roundNearestEven(Float.intBitsToFloat(0x7FFFFFFF))));
    }
}
