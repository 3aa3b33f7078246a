package org.dl4jsr.rounding;

/**
 * Counter-based random bits: a pure function of (key, element index), so every thread, chunk, worker or replica
 * that rounds element {@code i} of a pass draws exactly the same bits, and there is no shared mutable RNG state.
 *
 * <p>A pass key comes from (seed, iteration, stream) through the SplitMix64 finalizer ({@link #key}). Each pass has
 * two independent 32-bit draws per element: the {@link #WEIGHT} draw (16 bits used for the weight) and the
 * {@link #MOMENTS} draw (low 16 bits for the first moment, high 16 bits for the second). A draw is
 * {@code hash32(index * k1 + k0)}: the lowbias32 integer hash of a Weyl sequence whose odd stride k1 and offset k0
 * come from the 64-bit draw key. Each key has its own stride, so different keys give unrelated sequences rather than
 * shifted copies of one sequence. 32-bit arithmetic keeps the per-element work vectorisable on AVX2 (no 64-bit
 * multiply).
 */
public final class CounterRng {
    public static final int WEIGHT = 0;
    public static final int MOMENTS = 1;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private CounterRng() {
    }

    /** SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** lowbias32 (C. Wellons): a bijective 32-bit mixer with low avalanche bias. */
    public static int hash32(int x) {
        x ^= x >>> 16;
        x *= 0x7FEB352D;
        x ^= x >>> 15;
        x *= 0x846CA68B;
        x ^= x >>> 16;
        return x;
    }

    /**
     * The key of one rounding pass. Distinct (seed, iteration, stream) triples give unrelated keys; the same triple
     * always gives the same key.
     *
     * @param stream distinguishes passes within one iteration (for example repeated applications of shared updates)
     */
    public static long key(long seed, long iteration, long stream) {
        long k = mix64(seed + GOLDEN);
        k = mix64(k ^ (iteration * GOLDEN + 0x632BE59BD9B4E019L));
        return mix64(k ^ (stream * GOLDEN + 0x2545F4914F6CDD1DL));
    }

    /** The 64-bit key (k0 in the low half, k1 in the high half) of one draw of a pass. */
    public static long drawKey(long passKey, int draw) {
        return mix64(passKey ^ ((draw + 1) * 0xD1B54A32D192ED03L));
    }

    /** 32 random bits for element {@code index} under a draw key. */
    public static int bits(long drawKey, long index) {
        return hash32((int) index * stride(drawKey) + offset(drawKey));
    }

    /** The odd Weyl stride of a draw key (its high half with the lowest bit set). */
    public static int stride(long drawKey) {
        return (int) (drawKey >>> 32) | 1;
    }

    /** The Weyl offset of a draw key (its low half). */
    public static int offset(long drawKey) {
        return (int) drawKey;
    }

    /** 16 random bits for a weight: low half of the weight draw. */
    public static int weightBits(long passKey, long index) {
        return bits(drawKey(passKey, WEIGHT), index) & 0xFFFF;
    }

    /** 16 random bits for the first moment: low half of the moments draw. */
    public static int firstMomentBits(long passKey, long index) {
        return bits(drawKey(passKey, MOMENTS), index) & 0xFFFF;
    }

    /** 16 random bits for the second moment: high half of the moments draw. */
    public static int secondMomentBits(long passKey, long index) {
        return bits(drawKey(passKey, MOMENTS), index) >>> 16;
    }
}
