package org.dl4jsr.rounding;

/**
 * Every stream of rounding bits the plugin uses, in one place. A rounding key is
 * {@code CounterRng.key(seed, iteration, stream)}; two uses of the same (seed, iteration) draw independent bits only
 * if their streams differ, so each use below has its own number and no other number may be used.
 *
 * <p>Streams 0, 1, 2, ... are the applications of updates within one iteration (0: the step's own update; 1, 2, ...:
 * further updates applied in the same iteration, as gradient sharing does). Negative streams are one-off roundings.
 */
public final class RoundingStreams {
    /** Weights put onto the grid when a network is attached. */
    public static final long ATTACH = -1;
    /** Parameters rounded by the converter (to a BFLOAT16 network). */
    public static final long CONVERT_PARAMS = -2;
    /** Adam's first moment rounded into AdamWSR's storage by the converter. */
    public static final long CONVERT_FIRST_MOMENT = -3;
    /** Adam's second moment rounded into AdamWSR's storage by the converter. */
    public static final long CONVERT_SECOND_MOMENT = -4;
    /** Averaged parameters rounded back onto the grid (Spark master, ParallelWrapper). */
    public static final long AVERAGED_PARAMS = -5;
    /** Averaged optimizer state rounded back onto the grid (Spark master, ParallelWrapper). */
    public static final long AVERAGED_STATE = -6;

    private RoundingStreams() {
    }

    /** The stream of the {@code index}-th application of an update within one iteration (0 for the step's own). */
    public static long updateApplication(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("update application index must be >= 0, got " + index);
        }
        return index;
    }
}
