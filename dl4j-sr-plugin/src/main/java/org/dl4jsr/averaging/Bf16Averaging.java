package org.dl4jsr.averaging;

import org.dl4jsr.kernel.ParallelRunner;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.RoundingStreams;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
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
 * (ParallelWrapper: replica order, left to right; the Spark master: the tree of {@code spark.SumTree}, whose nodes are
 * summed on the executors by {@code spark.PartialSum});</li>
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
    public static final long PARAMS_STREAM = RoundingStreams.AVERAGED_PARAMS;
    public static final long STATE_STREAM = RoundingStreams.AVERAGED_STATE;

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
    public static Bf16Averaging params(WireLayout layout) {
        return new Bf16Averaging(layout, PARAMS_STREAM);
    }

    /** An empty average of updater-state arrays of {@code layout}. */
    public static Bf16Averaging state(WireLayout layout) {
        return new Bf16Averaging(layout, STATE_STREAM);
    }

    /** Adds one replica's array (FP32 sum in call order). */
    public void add(WireArray replica) {
        replica.addValuesTo(sums, layout);
        count++;
    }

    /** Replicas added so far. */
    public int count() {
        return count;
    }

    /** The average, rounded onto the grid with the bits of (seed, round); identical for every caller. */
    public WireArray result(long seed, int round) {
        return round(sums, count, layout, stream, seed, round);
    }

    /**
     * {@code sums / count} rounded onto the grid with the bits of (seed, round, stream): the last two steps of the rule,
     * for sums made elsewhere (the Spark master's executors, {@code spark.PartialSum}).
     */
    public static WireArray round(float[] sums, int count, WireLayout layout, long stream, long seed, int round) {
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
     * is summed (an off-grid value is refused, never rounded silently). {@code scratch} holds the results between
     * calls, so that a round allocates nothing large.
     */
    public static AveragingPhases averageInPlace(List<? extends Model> trained, List<? extends Model> targets,
                                                 long seed, int round, boolean updaterState, Scratch scratch) {
        if (trained.isEmpty()) {
            throw new IllegalArgumentException("No replica to average");
        }
        Network first = Network.of(trained.get(0));
        AveragingPhases phases = averageArrays(trained, targets, Network::params, Network::setParams,
                WireLayouts.params(first), CounterRng.key(seed, round, PARAMS_STREAM), "Parameter", scratch);
        if (updaterState) {
            phases = phases.plus(averageArrays(trained, targets, Network::updaterState, Network::setUpdaterState,
                    WireLayouts.state(first), CounterRng.key(seed, round, STATE_STREAM), "Updater state", scratch));
        }
        return phases;
    }

    /**
     * What in-place averaging keeps between rounds: a result array for targets that cannot be written in place, and the
     * threads that run the passes (one per trainer; not for concurrent use). The bits do not depend on the thread
     * count: each value is summed in replica order and rounded with its own counter bits, whichever thread does it.
     */
    public static final class Scratch {
        private final ParallelRunner runner;
        private int[] results = new int[0];

        public Scratch(int threads) {
            this.runner = ParallelRunner.shared(threads);
        }

        /** A results array of {@code layout}'s length (its contents are overwritten by the pass). */
        int[] results(WireLayout layout) {
            int n = Math.toIntExact(layout.length());
            if (results.length != n) {
                results = new int[n];
            }
            return results;
        }
    }

    /**
     * One array (parameters or updater state) of every replica: read in place from host memory where the arrays allow
     * it (FLOAT, contiguous, ND4J's CPU backend; otherwise copied out as bits), checked, then averaged straight into
     * every target that can be written in place (the others receive a copy of the result). Nothing is written before
     * every replica's values have been checked.
     */
    private static AveragingPhases averageArrays(List<? extends Model> trained, List<? extends Model> targets,
                                                 Function<Network, INDArray> array,
                                                 BiConsumer<Network, INDArray> setter, WireLayout layout,
                                                 long passKey, String what, Scratch scratch) {
        long start = System.nanoTime();
        List<IntBuffer> sources = new ArrayList<>();
        for (Model m : trained) {
            sources.add(readable(array.apply(Network.of(m))));
        }
        List<IntBuffer> outputs = new ArrayList<>();
        List<Network> copied = new ArrayList<>();
        for (Model m : targets) {
            Network target = Network.of(m);
            IntBuffer into = hostInts(array.apply(target));
            if (into != null && into.remaining() == layout.length()) {
                outputs.add(into);
            } else {
                copied.add(target);
            }
        }
        int[] results = copied.isEmpty() ? null : scratch.results(layout);
        if (results != null) {
            outputs.add(IntBuffer.wrap(results));
        }
        long read = System.nanoTime();
        ReplicaAverage.requireOnGrid(sources, layout, what, scratch.runner);
        long checked = System.nanoTime();
        ReplicaAverage.average(sources, layout, CounterRng.drawKey(passKey, CounterRng.WEIGHT), outputs,
                scratch.runner);
        long averaged = System.nanoTime();
        for (Network target : copied) {
            setter.accept(target, ArrayBits.create(results, target.dataType(), array.apply(target).shape()));
        }
        return new AveragingPhases(read - start, checked - read, averaged - checked, System.nanoTime() - averaged);
    }

    /**
     * The average of in-process replicas' FP32 bit patterns of one array ({@link ReplicaAverage}): the same values, in
     * the same order, with the same rounding bits as the wire route ({@link WireArray#encode}, {@link #add},
     * {@link #result}, {@link WireArray#decodeBits}). The Spark master needs the wire form to move arrays between JVMs;
     * replicas in one JVM do not.
     */
    static int[] averageBits(List<int[]> replicas, WireLayout layout, long seed, int round, long stream, String what,
                             int threads) {
        List<IntBuffer> sources = new ArrayList<>();
        for (int[] r : replicas) {
            sources.add(IntBuffer.wrap(r));
        }
        int[] out = new int[(int) layout.length()];
        ParallelRunner runner = ParallelRunner.shared(threads);
        ReplicaAverage.requireOnGrid(sources, layout, what, runner);
        ReplicaAverage.average(sources, layout, CounterRng.drawKey(CounterRng.key(seed, round, stream),
                CounterRng.WEIGHT), List.of(IntBuffer.wrap(out)), runner);
        return out;
    }

    // In-process replicas on ND4J's CPU backend: FLOAT arrays are read and written in place through their host
    // memory, as an IntBuffer in native byte order (the bit patterns move unchanged, as with ArrayBits, without ND4J
    // ops and without copies). Copying them out (JavaCPP's bulk get) and allocating the copies every round cost more
    // than the sums themselves inside ParallelWrapper: tens of megabytes of large arrays per round keep G1 busy.
    // Anything else (BFLOAT16 arrays, views, other backends) goes through ArrayBits.

    private static final boolean CPU = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");

    /** The array's host memory as ints in native order, or null where it cannot be read in place. */
    private static IntBuffer hostInts(INDArray a) {
        if (!CPU || a.dataType() != DataType.FLOAT || a.offset() != 0 || a.data().offset() != 0
                || !Shape.isContiguousInBuffer(a) || a.data().length() < a.length()) {
            return null;
        }
        ByteBuffer bytes = a.data().asNio().order(ByteOrder.nativeOrder());
        IntBuffer ints = bytes.asIntBuffer();
        ints.limit(Math.toIntExact(a.length()));
        return ints.slice();
    }

    private static IntBuffer readable(INDArray a) {
        IntBuffer ints = hostInts(a);
        return ints != null ? ints : IntBuffer.wrap(ArrayBits.of(a));
    }
}
