package org.dl4jsr.averaging;

import org.dl4jsr.rounding.RoundingStreams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.Random;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The BF16 wire format and the averaging arithmetic of the Spark masters, without Spark. */
class WireFormatTest {
    private static final WireLayout LAYOUT = WireLayout.builder(10)
            .add(0, 4, WireLayout.Kind.GRID).add(4, 3, WireLayout.Kind.PACKED).add(7, 3, WireLayout.Kind.FP32).build();

    /** Values on the grid, packed BF16 pairs (with subnormal and zero halves), and arbitrary FP32 values. */
    private static int[] sample() {
        return new int[] {
            Float.floatToRawIntBits(1.5f), Float.floatToRawIntBits(-0.0f), 0x00010000 /* subnormal on the grid */,
            Float.floatToRawIntBits(-3.25e-5f) & 0xFFFF0000,
            0x3F80_0001 /* m = 1.0, v = subnormal bits */, 0x0000_3F80 /* m = 0, v = 1.0: a subnormal float */,
            0xBF00_4B00 /* m = -0.5, v = 2^23 */,
            Float.floatToRawIntBits(0.1f), Float.floatToRawIntBits(-123.456f), 0x00000001 /* smallest subnormal */};
    }

    @Test
    void encodeDecodeIsLosslessAndTwoBytesPerBf16Value() {
        int[] bits = sample();
        WireArray w = WireArray.encode(bits, LAYOUT, "test");
        assertArrayEquals(bits, w.decodeBits(LAYOUT));
        assertEquals(2 * (4 + 2 * 3) + 4 * 3, w.payloadBytes());
    }

    @Test
    void valuesOffTheGridAreRefusedNotRounded() {
        int[] bits = sample();
        bits[1] = Float.floatToRawIntBits(0.1f);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> WireArray.encode(bits, LAYOUT, "W"));
        assertTrue(e.getMessage().contains("off the BF16 grid"), e.getMessage());
    }

    @Test
    void javaSerialisationAddsOnlyAConstantToThePayload() throws IOException {
        int n = 100_000;
        WireLayout layout = WireLayout.builder(n).add(0, n, WireLayout.Kind.GRID).build();
        int[] bits = new int[n];
        for (int i = 0; i < n; i++) {
            bits[i] = Bf16.roundNearestEvenBits(Float.floatToRawIntBits(i * 1e-3f));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(WireArray.encode(bits, layout, "test"));
        }
        assertTrue(bytes.size() >= 2 * n && bytes.size() <= 2 * n + 512, bytes.size() + " bytes for " + n + " values");
    }

    @Test
    void averagingIdenticalBf16ReplicasReturnsThemExactly() {
        int[] bits = sample();
        WireArray w = WireArray.encode(bits, LAYOUT, "test");
        for (int count = 1; count <= 16; count++) {
            float[] sums = WireArray.newSums(LAYOUT);
            for (int k = 0; k < count; k++) {
                w.addValuesTo(sums, LAYOUT);
            }
            long key = CounterRng.drawKey(CounterRng.key(1, 2, 3), CounterRng.WEIGHT);
            WireArray avg = WireArray.average(sums, count, LAYOUT, i -> CounterRng.bits(key, i) & 0xFFFF);
            int[] mean = avg.decodeBits(LAYOUT);
            // BF16 values (8 significant bits) are summed exactly, so their mean is exact; FP32 values (the ones
            // DL4J keeps in FP32) are averaged in FP32 as DL4J does (a few ulps of summation error)
            assertArrayEquals(java.util.Arrays.copyOf(bits, 7), java.util.Arrays.copyOf(mean, 7),
                    "BF16 mean of " + count + " identical replicas");
            for (int i = 7; i < bits.length; i++) {
                float x = Float.intBitsToFloat(bits[i]);
                assertEquals(x, Float.intBitsToFloat(mean[i]), 1e-6 * Math.abs(x) + Float.MIN_VALUE,
                        "FP32 mean of " + count);
            }
        }
    }

    @Test
    void averagesAreOnTheGridAndUnbiased() {
        // two replicas holding neighbouring BF16 values a and b: the mean (a + b) / 2 lies half-way, so SR must pick
        // each neighbour about half the time over many rounds (different keys), never anything else
        float a = 1.0f;
        float b = Float.intBitsToFloat(Float.floatToRawIntBits(1.0f) + 0x10000); // the next BF16 value
        WireLayout one = WireLayout.builder(1).add(0, 1, WireLayout.Kind.GRID).build();
        int up = 0;
        int rounds = 20_000;
        for (int r = 0; r < rounds; r++) {
            float[] sums = WireArray.newSums(one);
            WireArray.encode(new int[] {Float.floatToRawIntBits(a)}, one, "a").addValuesTo(sums, one);
            WireArray.encode(new int[] {Float.floatToRawIntBits(b)}, one, "b").addValuesTo(sums, one);
            long key = CounterRng.drawKey(CounterRng.key(5, r, RoundingStreams.AVERAGED_PARAMS),
                    CounterRng.WEIGHT);
            float mean = Float.intBitsToFloat(WireArray.average(sums, 2, one, i -> CounterRng.bits(key, i) & 0xFFFF)
                    .decodeBits(one)[0]);
            assertTrue(mean == a || mean == b, "rounded mean " + mean);
            up += mean == b ? 1 : 0;
        }
        double p = up / (double) rounds;
        assertTrue(Math.abs(p - 0.5) < 0.02, "P(round up) = " + p);
    }

    @Test
    void arrayBitsKeepEveryPatternThroughNd4jArrays() {
        int[] bits = sample();
        INDArray params = ArrayBits.params(bits, DataType.FLOAT);
        assertArrayEquals(new long[] {1, bits.length}, params.shape());
        assertArrayEquals(bits, ArrayBits.of(params));
        // the driver writes averages into existing arrays with assign: subnormal and packed patterns must survive
        INDArray target = Nd4j.create(DataType.FLOAT, bits.length);
        target.assign(ArrayBits.updaterState(bits, DataType.FLOAT));
        assertArrayEquals(bits, ArrayBits.of(target));
        // a view at an offset
        INDArray big = Nd4j.create(DataType.FLOAT, 1, 30);
        INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 5 + bits.length));
        view.assign(params.reshape(bits.length));
        assertArrayEquals(bits, ArrayBits.of(view));
    }

    @Test
    void bfloat16ArraysWidenExactly() {
        int[] grid = new int[64];
        Random r = new Random(3);
        for (int i = 0; i < grid.length; i++) {
            grid[i] = Bf16.roundNearestEvenBits(Float.floatToRawIntBits((float) r.nextGaussian()));
        }
        INDArray bf16 = ArrayBits.params(grid, DataType.BFLOAT16);
        assertEquals(DataType.BFLOAT16, bf16.dataType());
        assertArrayEquals(grid, ArrayBits.of(bf16));
    }

    @Test
    void layoutFillsGapsWithFp32AndMergesNeighbours() {
        WireLayout l = WireLayout.builder(12).add(2, 3, WireLayout.Kind.GRID).add(5, 2, WireLayout.Kind.GRID)
                .add(9, 1, WireLayout.Kind.PACKED).build();
        assertEquals(5, l.segments()); // FP32 [0,2), GRID [2,7), FP32 [7,9), PACKED [9,10), FP32 [10,12)
        assertEquals(5, l.count(WireLayout.Kind.GRID));
        assertEquals(1, l.count(WireLayout.Kind.PACKED));
        assertEquals(6, l.count(WireLayout.Kind.FP32));
        assertEquals(5 + 2 + 6, l.values());
        assertThrows(IllegalArgumentException.class, () -> WireLayout.builder(4).add(2, 2, WireLayout.Kind.GRID)
                .add(1, 1, WireLayout.Kind.GRID));
    }
}
