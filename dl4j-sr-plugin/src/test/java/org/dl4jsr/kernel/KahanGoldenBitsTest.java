package org.dl4jsr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.testing.Bits;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Golden bits of the Kahan-compensated AdamW step on inputs made in Java from a seed (weights, compensations,
 * gradients: {@link KahanUpdateTest#adamW}), not from a DL4J forward/backward pass, whose BLAS results depend on the
 * CPU. Three fused steps with weight decay, for compact and separate moments rounded stochastically or to nearest;
 * the hash covers the weights and the whole state (moments and packed compensation). A deliberate change of the
 * Kahan rule updates these hashes in the same commit and says why.
 */
class KahanGoldenBitsTest {
    private static String hash(Kernels k, boolean packed, Rounding state) {
        int[][] out = KahanUpdateTest.adamW(k, packed, state, true);
        return Bits.hash(Nd4j.createFromArray(out[0]), Nd4j.createFromArray(out[1]));
    }

    @Test
    void goldenBitsOnJavaMadeInputs() {
        Kernels host = new HostKernels(ParallelRunner.shared(2));
        Kernels portable = new PortableKernels();
        String[][] cases = {
            {"true", "STOCHASTIC", "fd4f1d5c4e01ec36"},
            {"true", "NEAREST", "99f85dd1f4a694ce"},
            {"false", "STOCHASTIC", "34d4c373acfa08ff"},
            {"false", "NEAREST", "30427cf0b8ba80c4"},
        };
        String[] hostHashes = new String[cases.length];
        for (int i = 0; i < cases.length; i++) {
            hostHashes[i] = hash(host, Boolean.parseBoolean(cases[i][0]), Rounding.valueOf(cases[i][1]));
            System.out.println("KahanGoldenBits packed=" + cases[i][0] + " state=" + cases[i][1] + " " + hostHashes[i]);
        }
        for (int i = 0; i < cases.length; i++) {
            boolean packed = Boolean.parseBoolean(cases[i][0]);
            Rounding state = Rounding.valueOf(cases[i][1]);
            assertEquals(cases[i][2], hostHashes[i], "host, packed " + packed + ", " + state);
            assertEquals(cases[i][2], hash(portable, packed, state), "portable, packed " + packed + ", " + state);
        }
    }
}
