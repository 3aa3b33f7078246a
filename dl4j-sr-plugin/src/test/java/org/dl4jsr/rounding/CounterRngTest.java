package org.dl4jsr.rounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The counter-based generator: a pure function of its keys, with uniform and independent-looking 16-bit lanes. */
class CounterRngTest {

    @Test
    void sameKeysSameBitsDifferentKeysDifferentBits() {
        long k = CounterRng.key(1, 2, 3);
        assertEquals(k, CounterRng.key(1, 2, 3));
        assertNotEquals(k, CounterRng.key(2, 2, 3));
        assertNotEquals(k, CounterRng.key(1, 3, 3));
        assertNotEquals(k, CounterRng.key(1, 2, 4));
        for (int i = 0; i < 1000; i++) {
            assertEquals(CounterRng.weightBits(k, i), CounterRng.weightBits(k, i));
        }
    }

    /** Chi-square over 256 buckets of each 16-bit lane; 255 degrees of freedom, mean 255, sd ~22.6. */
    @Test
    void lanesAreUniform() {
        long key = CounterRng.key(42, 0, 0);
        int n = 1 << 20;
        long[][] counts = new long[3][256];
        for (int i = 0; i < n; i++) {
            counts[0][CounterRng.weightBits(key, i) >>> 8]++;
            counts[1][CounterRng.firstMomentBits(key, i) >>> 8]++;
            counts[2][CounterRng.secondMomentBits(key, i) >>> 8]++;
        }
        for (long[] c : counts) {
            double expected = n / 256.0;
            double chi2 = 0;
            for (long x : c) {
                chi2 += (x - expected) * (x - expected) / expected;
            }
            assertTrue(chi2 < 255 + 6 * 22.6, "chi-square " + chi2);
        }
    }

    /** Neighbouring elements, the two moment lanes, the weight and moment draws, and nearby keys are uncorrelated. */
    @Test
    void streamsAreUncorrelated() {
        int n = 1 << 20;
        long key = CounterRng.key(5, 10, 0);
        long next = CounterRng.key(5, 11, 0);
        double sd = 1 / Math.sqrt(n);
        assertTrue(Math.abs(correlation(n, i -> CounterRng.weightBits(key, i), i -> CounterRng.weightBits(key, i + 1))) < 6 * sd);
        assertTrue(Math.abs(correlation(n, i -> CounterRng.firstMomentBits(key, i), i -> CounterRng.secondMomentBits(key, i))) < 6 * sd);
        assertTrue(Math.abs(correlation(n, i -> CounterRng.weightBits(key, i), i -> CounterRng.firstMomentBits(key, i))) < 6 * sd);
        assertTrue(Math.abs(correlation(n, i -> CounterRng.weightBits(key, i), i -> CounterRng.weightBits(next, i))) < 6 * sd);
        assertTrue(Math.abs(correlation(n, i -> CounterRng.weightBits(key, i), i -> CounterRng.weightBits(next, i + 1))) < 6 * sd);
    }

    private static double correlation(int n, java.util.function.IntUnaryOperator a, java.util.function.IntUnaryOperator b) {
        double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            double x = a.applyAsInt(i), y = b.applyAsInt(i);
            sa += x;
            sb += y;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        double cov = sab / n - (sa / n) * (sb / n);
        return cov / Math.sqrt((saa / n - (sa / n) * (sa / n)) * (sbb / n - (sb / n) * (sb / n)));
    }
}
