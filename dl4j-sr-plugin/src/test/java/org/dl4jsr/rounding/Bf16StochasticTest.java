package org.dl4jsr.rounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Properties of FP32 -> BF16 stochastic rounding, exact where they can be, statistical (6 sigma) otherwise. */
class Bf16StochasticTest {

    private static int bits(float x) {
        return Float.floatToRawIntBits(x);
    }

    /** The BF16 neighbours of a finite x below the top of the range: truncation toward zero, and one step further. */
    private static float lower(float x) {
        return Float.intBitsToFloat(bits(x) & 0xFFFF0000);
    }

    private static float upper(float x) {
        return Float.intBitsToFloat((bits(x) & 0xFFFF0000) + 0x10000);
    }

    private static float randomFinite(SplittableRandom rnd) {
        while (true) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isFinite(x) && (bits(x) & 0x7FFFFFFF) < Bf16.MAX_FINITE_BITS) {
                return x;
            }
        }
    }

    @Test
    void alwaysOneOfTheTwoNeighboursAndUpExactlyForTheFractionalPositionOfAllRandomBits() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int trial = 0; trial < 300; trial++) {
            float x = randomFinite(rnd);
            int low16 = bits(x) & 0xFFFF;
            int ups = 0;
            for (int r = 0; r < 65536; r++) {
                float y = Bf16.roundStochastic(x, r);
                boolean up = bits(y) == bits(upper(x));
                assertTrue(up || bits(y) == bits(lower(x)), () -> "not a neighbour of " + x);
                ups += up ? 1 : 0;
            }
            // Over all 2^16 equally likely random values, P(up) = low16 / 2^16 exactly: the fractional position.
            assertEquals(low16, ups, "fraction of round-ups for " + Float.toHexString(x));
        }
    }

    @Test
    void unbiasedWithTheCounterGenerator() {
        SplittableRandom rnd = new SplittableRandom(2);
        long key = CounterRng.key(7, 3, 0);
        int draws = 200_000;
        for (int trial = 0; trial < 20; trial++) {
            float x = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(-20, 20)));
            double lo = lower(x);
            double hi = upper(x);
            double p = (x - lo) / (hi - lo);
            double sum = 0;
            for (int i = 0; i < draws; i++) {
                sum += Bf16.roundStochastic(x, CounterRng.weightBits(key + trial, i));
            }
            double mean = sum / draws;
            double sigma = Math.abs(hi - lo) * Math.sqrt(p * (1 - p) / draws);
            assertTrue(Math.abs(mean - x) <= 6 * sigma + 1e-12 * Math.abs(x),
                    "mean " + mean + " vs " + x + " (6 sigma = " + 6 * sigma + ")");
        }
    }

    @Test
    void valuesOnTheGridAreUnchangedForEveryRandomValue() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            float x = Float.intBitsToFloat(bits(randomFinite(rnd)) & 0xFFFF0000);
            for (int r = 0; r < 65536; r += 97) {
                assertEquals(bits(x), bits(Bf16.roundStochastic(x, r)));
            }
            assertEquals(bits(x), bits(Bf16.roundStochastic(x, 0xFFFF)));
        }
        assertTrue(Bf16.isOnGrid(1.0f));
        assertTrue(!Bf16.isOnGrid(Float.intBitsToFloat(0x3F800001)));
    }

    @Test
    void specialValuesAreKept() {
        for (int r : new int[] {0, 1, 0x7FFF, 0x8000, 0xFFFF}) {
            assertEquals(bits(0f), bits(Bf16.roundStochastic(0f, r)));
            assertEquals(bits(-0f), bits(Bf16.roundStochastic(-0f, r)));
            assertEquals(Float.POSITIVE_INFINITY, Bf16.roundStochastic(Float.POSITIVE_INFINITY, r));
            assertEquals(Float.NEGATIVE_INFINITY, Bf16.roundStochastic(Float.NEGATIVE_INFINITY, r));
            for (int nan : new int[] {0x7FC00000, 0x7F800001, 0x7FFFFFFF, 0xFFC00001, 0xFF80FFFF}) {
                float y = Bf16.roundStochastic(Float.intBitsToFloat(nan), r);
                assertTrue(Float.isNaN(y), "NaN must stay NaN");
                assertTrue(Bf16.isOnGrid(y), "the NaN must be storable in BF16");
                assertEquals(nan & 0x80000000, bits(y) & 0x80000000, "sign of NaN kept");
            }
        }
    }

    @Test
    void subnormalsRoundBetweenTheirNeighbours() {
        // 0x00008001: just above half-way between 0 and the smallest BF16 subnormal 0x00010000.
        float x = Float.intBitsToFloat(0x00008001);
        int ups = 0;
        for (int r = 0; r < 65536; r++) {
            int y = bits(Bf16.roundStochastic(x, r));
            assertTrue(y == 0 || y == 0x00010000);
            ups += y == 0x00010000 ? 1 : 0;
        }
        assertEquals(0x8001, ups);
        // Largest subnormal rounds up into the smallest normal.
        assertEquals(0x00800000, bits(Bf16.roundStochastic(Float.intBitsToFloat(0x007FFFFF), 1)));
        assertEquals(0x007F0000, bits(Bf16.roundStochastic(Float.intBitsToFloat(0x007FFFFF), 0)));
        assertEquals(0x80010000, bits(Bf16.roundStochastic(Float.intBitsToFloat(0x80008001), 0x8000)));
    }

    @Test
    void topOfTheRangeSaturatesInsteadOfOverflowing() {
        // Above the largest finite BF16 there is no finite upper neighbour: SR rounds down to it, never to infinity.
        for (int low : new int[] {1, 0x8000, 0xFFFF}) {
            float x = Float.intBitsToFloat(Bf16.MAX_FINITE_BITS | low);
            for (int r = 0; r < 65536; r += 255) {
                assertEquals(Bf16.MAX_FINITE, Bf16.roundStochastic(x, r));
                assertEquals(-Bf16.MAX_FINITE, Bf16.roundStochastic(-x, r));
            }
        }
        assertEquals(Float.MAX_VALUE > Bf16.MAX_FINITE, true);
        assertEquals(Bf16.MAX_FINITE, Bf16.roundStochastic(Float.MAX_VALUE, 0xFFFF));
        // Just below it, the usual two neighbours.
        float below = Float.intBitsToFloat(0x7F7E8000);
        assertEquals(0x7F7F0000, bits(Bf16.roundStochastic(below, 0x8000)));
        assertEquals(0x7F7E0000, bits(Bf16.roundStochastic(below, 0x7FFF)));
    }

    /** The paper's motivating example: 1.0 + 1000 x 0.001 in BF16. */
    @Test
    void stagnationNearestLosesTheUpdatesStochasticKeepsThem() {
        float nearest = 1f;
        for (int i = 0; i < 1000; i++) {
            nearest = Bf16.roundNearestEven(nearest + 0.001f);
        }
        assertEquals(1f, nearest, "round-to-nearest throws every update away (0.001 < half of 2^-7)");

        int runs = 1000;
        double sum = 0;
        float single = 0;
        for (int run = 0; run < runs; run++) {
            float x = 1f;
            for (int i = 0; i < 1000; i++) {
                x = Bf16.roundStochastic(x + 0.001f, CounterRng.weightBits(CounterRng.key(run, i, 0), 0));
            }
            sum += x;
            single = run == 0 ? x : single;
        }
        // One run: variance per step <= (2^-6)^2 / 4 above 2.0, so sd <= sqrt(1000) * 2^-7 ~= 0.25.
        assertEquals(2.0, single, 1.25, "a single SR run ends near 2.0");
        // The mean of 1000 independent runs: sd <= 0.25 / sqrt(1000) ~= 0.008, so 6 sigma ~= 0.05.
        assertEquals(2.0, sum / runs, 0.05, "SR is unbiased: the mean ends at 2.0");
    }
}
