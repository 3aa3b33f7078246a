package org.dl4jsr.spark;

import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.RoundingStreams;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.IntPointer;
import org.deeplearning4j.nn.api.Model;
import org.dl4jsr.rounding.Bf16;
import org.dl4jsr.rounding.CounterRng;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The plugin's rule for averaging replicas of one BF16 network, used by every data-parallel trainer (the Spark
 * master, {@code org.dl4jsr.parallel} for ParallelWrapper):
 * <ol>
 * <li>sum the replicas' values in FP32, in an order fixed by the caller, never by which replica finished first
 * (ParallelWrapper: replica order, left to right; the Spark master: the tree of {@link SumTree}, whose nodes are
 * summed on the executors by {@link PartialSum});</li>
 * <li>divide by the number of replicas;</li>
 * <li>round BF16 values (weights on the grid, AdamWSR moments, packed or not) back onto the grid with stochastic
 * rounding whose bits are keyed on (seed, round, array): every replica receives the same averaged model; values DL4J
 * keeps in FP32 stay FP32, as DL4J's own averaging does.</li>
 * </ol>
 * Which values are BF16 is read from the network's updater blocks ({@link WireLayout}). Spark-free: this class and
 * what it uses need DL4J and ND4J only, so it runs without Spark on the classpath.
 */
public final class Bf16Averaging {
    /** Streams of the averaging rounding bits (a network's own updates use streams >= -1). */
    static final long PARAMS_STREAM = RoundingStreams.AVERAGED_PARAMS;
    static final long STATE_STREAM = RoundingStreams.AVERAGED_STATE;

    private final WireLayout layout;
    private final long stream;
    private final float[] sums;
    private int count;

    private Bf16Averaging(WireLayout layout, long stream) {
        this.layout = layout;
        this.stream = stream;
        this.sums = WireArray.newSums(layout);
    }

    /** An empty average of parameter arrays of {@code layout}. */
    static Bf16Averaging params(WireLayout layout) {
        return new Bf16Averaging(layout, PARAMS_STREAM);
    }

    /** An empty average of updater-state arrays of {@code layout}. */
    static Bf16Averaging state(WireLayout layout) {
        return new Bf16Averaging(layout, STATE_STREAM);
    }

    /** Adds one replica's array (FP32 sum in call order). */
    void add(WireArray replica) {
        replica.addValuesTo(sums, layout);
        count++;
    }

    /** Replicas added so far. */
    int count() {
        return count;
    }

    /** The average, rounded onto the grid with the bits of (seed, round); identical for every caller. */
    WireArray result(long seed, int round) {
        return round(sums, count, layout, stream, seed, round);
    }

    /**
     * {@code sums / count} rounded onto the grid with the bits of (seed, round, stream): the last two steps of the rule,
     * for sums made elsewhere (the Spark master's executors, {@link PartialSum}).
     */
    static WireArray round(float[] sums, int count, WireLayout layout, long stream, long seed, int round) {
        long drawKey = CounterRng.drawKey(CounterRng.key(seed, round, stream), CounterRng.WEIGHT);
        return WireArray.average(sums, count, layout, i -> CounterRng.bits(drawKey, i) & 0xFFFF);
    }

    /**
     * Refuses a network whose replicas cannot be averaged faithfully (a trainable block not rounded stochastically,
     * FP32 master weights), naming the parameters and what to change. {@code model} must be attached.
     */
    public static void validate(Model model) {
        WireLayouts.validate(Network.of(model));
    }

    /**
     * Averages in-process replicas of one attached network: sums the parameters (and, if {@code updaterState}, the
     * updater state) of {@code trained} in list order, rounds the averages with the key (seed, round), and writes the
     * result into every network of {@code targets}. Every value that should be on the BF16 grid is checked before it
     * is summed (an off-grid value is refused, never rounded silently).
     */
    public static void averageInPlace(List<? extends Model> trained, List<? extends Model> targets, long seed,
                                      int round, boolean updaterState) {
        if (trained.isEmpty()) {
            throw new IllegalArgumentException("No replica to average");
        }
        Network first = Network.of(trained.get(0));
        WireLayout paramLayout = WireLayouts.params(first);
        List<int[]> params = new ArrayList<>();
        for (Model m : trained) {
            params.add(bitsOf(m.params()));
        }
        int[] paramBits = averageBits(params, paramLayout, seed, round, PARAMS_STREAM, "Parameter");
        WireLayout stateLayout = updaterState ? WireLayouts.state(first) : null;
        int[] stateBits = null;
        if (stateLayout != null) {
            List<int[]> states = new ArrayList<>();
            for (Model m : trained) {
                states.add(bitsOf(Network.of(m).updaterState()));
            }
            stateBits = averageBits(states, stateLayout, seed, round, STATE_STREAM, "Updater state");
        }
        for (Model m : targets) {
            Network t = Network.of(m);
            if (!writeHost(t.params(), paramBits)) {
                t.setParams(ArrayBits.params(paramBits, t.dataType()));
            }
            if (stateBits != null && !writeHost(t.updaterState(), stateBits)) {
                t.setUpdaterState(ArrayBits.updaterState(stateBits, t.dataType()));
            }
        }
    }

    /**
     * The average of in-process replicas' FP32 bit patterns of one array: the same values, in the same order, with the
     * same rounding bits as the wire route ({@link WireArray#encode}, {@link #add}, {@link #result},
     * {@link WireArray#decodeBits}), in two passes and without the wire arrays: one pass per replica adds its values
     * to the FP32 sums (checking the grid), one pass rounds the averages into the result. The Spark master needs the
     * wire form to move arrays between JVMs; replicas in one JVM do not.
     */
    static int[] averageBits(List<int[]> replicas, WireLayout layout, long seed, int round, long stream, String what) {
        float[] sums = WireArray.newSums(layout);
        for (int[] bits : replicas) {
            WireArray.checkLength(bits.length, layout, what);
            int v = 0;
            for (int s = 0; s < layout.segments(); s++) {
                int from = (int) layout.start(s);
                int to = from + (int) layout.length(s);
                switch (layout.kind(s)) {
                    case GRID:
                        for (int i = from; i < to; i++) {
                            WireArray.requireOnGrid(bits[i], i, what);
                            sums[v++] += Float.intBitsToFloat(bits[i]);
                        }
                        break;
                    case PACKED:
                        for (int i = from; i < to; i++) {
                            sums[v++] += Float.intBitsToFloat(bits[i] & Bf16.HIGH_HALF); // m
                            sums[v++] += Float.intBitsToFloat(bits[i] << 16);          // v
                        }
                        break;
                    default:
                        for (int i = from; i < to; i++) {
                            sums[v++] += Float.intBitsToFloat(bits[i]);
                        }
                }
            }
        }
        long drawKey = CounterRng.drawKey(CounterRng.key(seed, round, stream), CounterRng.WEIGHT);
        float divisor = replicas.size();
        int[] out = new int[(int) layout.length()];
        int v = 0;
        for (int s = 0; s < layout.segments(); s++) {
            int from = (int) layout.start(s);
            int to = from + (int) layout.length(s);
            switch (layout.kind(s)) {
                case GRID:
                    for (int i = from; i < to; i++, v++) {
                        out[i] = rounded(sums[v] / divisor, drawKey, v);
                    }
                    break;
                case PACKED:
                    for (int i = from; i < to; i++, v += 2) {
                        out[i] = rounded(sums[v] / divisor, drawKey, v)
                                | rounded(sums[v + 1] / divisor, drawKey, v + 1) >>> 16;
                    }
                    break;
                default:
                    for (int i = from; i < to; i++, v++) {
                        out[i] = Float.floatToRawIntBits(sums[v] / divisor);
                    }
            }
        }
        return out;
    }

    /** The FP32 bits of {@code x} stochastically rounded onto the BF16 grid with the 16 bits of value {@code v}. */
    private static int rounded(float x, long drawKey, int v) {
        return Bf16.roundStochasticBits(Float.floatToRawIntBits(x), CounterRng.bits(drawKey, v) & 0xFFFF)
                & Bf16.HIGH_HALF;
    }

    // In-process replicas on ND4J's CPU backend: FLOAT arrays are read and written in bulk through their host memory
    // (the bit patterns move unchanged, as with ArrayBits, but without ND4J ops). JavaCPP's bulk copy is used: for 1.3M
    // values it took 0.3 ms here, ArrayBits about 100 ms and a direct IntBuffer's bulk get 20-140 ms. Anything else
    // (BFLOAT16 arrays, views, other backends) goes through ArrayBits.

    private static final boolean CPU = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");

    private static IntPointer hostInts(INDArray a) {
        if (!CPU || a.dataType() != DataType.FLOAT || a.offset() != 0 || a.data().offset() != 0
                || !Shape.isContiguousInBuffer(a) || a.data().length() < a.length()) {
            return null;
        }
        return new IntPointer(a.data().addressPointer());
    }

    private static int[] bitsOf(INDArray a) {
        IntPointer ints = hostInts(a);
        if (ints == null) {
            return ArrayBits.of(a);
        }
        int[] out = new int[Math.toIntExact(a.length())];
        ints.get(out);
        return out;
    }

    private static boolean writeHost(INDArray target, int[] bits) {
        IntPointer ints = hostInts(target);
        if (ints == null || target.length() != bits.length) {
            return false;
        }
        ints.put(bits);
        return true;
    }
}
