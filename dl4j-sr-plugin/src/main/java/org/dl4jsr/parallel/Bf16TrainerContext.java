package org.dl4jsr.parallel;

import org.dl4jsr.Bf16Attachment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.TrainerContext;
import org.deeplearning4j.parallelism.trainer.Trainer;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.network.Network;
import org.dl4jsr.averaging.AveragingPhases;
import org.dl4jsr.averaging.Bf16Averaging;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link TrainerContext} {@link Bf16ParallelWrapper#attach} installs in a ParallelWrapper: every replica is
 * attached with the same {@link Bf16Options}, and in AVERAGING mode the replicas are averaged with the plugin's rule
 * ({@link Bf16Averaging}: FP32 sum in replica order, divide, stochastic rounding onto the BF16 grid keyed on (seed,
 * iteration)) instead of ND4J's {@code averageAndPropagate}. Also reports what happened (rounds, time, re-syncs).
 *
 * <p>ParallelWrapper 1.0.0-M2.1 offers no call-back after a round ({@code TrainerContext.finalizeRound} is never
 * called). Its fit loop asks {@code zoo[0].averagingRequired()} on the wrapper's thread once per round, after every
 * worker has finished, exactly where it would average; replica 0's trainer does the plugin's averaging there and
 * answers false, so ND4J's averaging never runs.
 *
 * <p>The work-arounds for three ParallelWrapper behaviours (see below) sit next to the trainer set-up they protect.
 */
public final class Bf16TrainerContext implements TrainerContext {
    private static final Logger log = LoggerFactory.getLogger(Bf16TrainerContext.class);

    /** The two standard modes. */
    public enum Mode {
        AVERAGING, SHARED_GRADIENTS
    }

    private final ParallelWrapper wrapper;
    private final Mode mode;
    private final Bf16Options options;
    private final ReplicaRandomBits randomBits;
    private final Map<Integer, ReplicaHooks> trainers = new ConcurrentHashMap<>();

    private volatile CountDownLatch replicasBuilt = new CountDownLatch(0);
    private long averagingRounds;
    private long averagingNanos;
    private AveragingPhases averagingPhases = AveragingPhases.NONE;
    /** What the averaging keeps between rounds (its threads, a result array if needed); rounds run one at a time. */
    private final Bf16Averaging.Scratch averagingScratch;
    private long resyncChecks;
    private long resyncs;
    private long maxDifferingParams;
    /** A worker's run ended with an exception during this fit: its replica may be half-trained or already released. */
    private volatile boolean workerFailed;
    private Consumer<Model> afterAveraging;

    Bf16TrainerContext(ParallelWrapper wrapper, Mode mode, Bf16Options options, ReplicaRandomBits randomBits) {
        this.wrapper = wrapper;
        this.mode = mode;
        this.options = options;
        this.averagingScratch = new Bf16Averaging.Scratch(options.getThreads());
        this.randomBits = randomBits;
    }

    @Override
    public void init(Model model, Object... args) {
        trainers.clear();
        workerFailed = false;
        replicasBuilt = new CountDownLatch(wrapper.getWorkers());
    }

    /** A worker failed: the fit fails too, and nothing is averaged or compared any more (see {@link #usable}). */
    void workerFailed(int threadId) {
        workerFailed = true;
        log.warn("ParallelWrapper worker {} failed; its replica is no longer averaged", threadId);
    }

    /**
     * False once a worker failed, or if a replica's arrays were released (DL4J frees a failed worker's replica, and the
     * failure can be seen here before the worker's own report): averaging them would read freed memory. The fit then
     * ends with the worker's error, and the user's network keeps what it had.
     */
    private boolean usable(List<Model> replicas) {
        if (workerFailed) {
            return false;
        }
        for (Model m : replicas) {
            INDArray state = Replicas.updaterState(m);
            if (m.params().data().wasClosed() || state != null && state.data().wasClosed()) {
                return false;
            }
        }
        return true;
    }

    /** A replica has been built (or its worker failed). */
    void replicaReady() {
        replicasBuilt.countDown();
    }

    /** Blocks until every worker has built its replica (see {@link ReplicaHooks#fed()}). */
    void awaitReplicas() {
        try {
            replicasBuilt.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the ParallelWrapper replicas to be built", e);
        }
    }

    @Override
    public Trainer create(String uuid, int threadId, Model model, int rootDevice, boolean useMDS,
                          ParallelWrapper wrapper, WorkspaceMode workspaceMode, int averagingFrequency) {
        return mode == Mode.AVERAGING
                ? new AveragingTrainer(this, uuid, threadId, model, wrapper, workspaceMode, useMDS, averagingFrequency)
                : new SharedGradientsTrainer(this, uuid, threadId, model, wrapper, workspaceMode, useMDS);
    }

    /** Called by each trainer when it is created. */
    ReplicaHooks register(int threadId, java.util.function.Supplier<Model> replica) {
        ReplicaHooks h = new ReplicaHooks(this, threadId, replica);
        trainers.put(threadId, h);
        return h;
    }

    @Override
    public void finalizeRound(Model originalModel, Model... models) {
        // never called by ParallelWrapper 1.0.0-M2.1; see the class comment
    }

    @Override
    public void finalizeTraining(Model originalModel, Model... models) {
        // never called by ParallelWrapper 1.0.0-M2.1
    }

    Bf16Options options() {
        return options;
    }

    /** Attaches a replica when its trainer has built it (on the trainer's thread, before it fits anything). */
    void attachReplica(Model replica, int threadId) {
        if (threadId > 0 && randomBits == ReplicaRandomBits.PER_WORKER) {
            Replicas.offsetSeeds(replica, threadId, options.getSeed());
        }
        Replicas.attachIfNeeded(replica, options);
        if (mode == Mode.SHARED_GRADIENTS) {
            Bf16Attachment.installedOn(replica).permitGradientSharing();
        }
    }

    /**
     * Called by replica 0's trainer on the wrapper's thread where ParallelWrapper would average (all workers idle).
     * AVERAGING: the plugin's averaging; SHARED_GRADIENTS: the re-synchronisation check.
     */
    void endOfRound(boolean finalRound) {
        if (mode == Mode.AVERAGING) {
            average();
        } else if (!finalRound) {
            checkIdentical();
        }
    }

    /** Averages the replicas that trained since the last averaging and gives the result to every built replica. */
    private void average() {
        List<ReplicaHooks> all = sortedTrainers();
        List<Model> trained = new ArrayList<>();
        List<Model> targets = new ArrayList<>();
        double score = 0;
        for (ReplicaHooks t : all) {
            if (t.everFed()) {
                targets.add(t.replica());
                if (t.takeFedSinceAveraging() > 0) {
                    trained.add(t.replica());
                    score += t.replica().score();
                }
            }
        }
        if (trained.isEmpty() || !usable(targets)) {
            return;
        }
        if (trained.size() == 1 && targets.size() == 1) {
            // the average of one replica is that replica, bit for bit (-0.0 + x = x, x / 1 = x, SR of a value on the
            // grid is that value): nothing to do
            averagingRounds++;
            Network.of(targets.get(0)).setScore(score);
            if (afterAveraging != null) {
                afterAveraging.accept(targets.get(0));
            }
            return;
        }
        long start = System.nanoTime();
        Model root = all.get(0).replica();
        int round = Network.of(root).iterationCount();
        Nd4j.getExecutioner().commit();
        averagingPhases = averagingPhases.plus(
                Bf16Averaging.averageInPlace(trained, targets, options.getSeed(), round, wrapper.isAverageUpdaters(),
                        averagingScratch));
        Nd4j.getExecutioner().commit();
        averagingNanos += System.nanoTime() - start;
        averagingRounds++;
        Network.of(root).setScore(score / trained.size());
        if (afterAveraging != null) {
            afterAveraging.accept(root);
        }
    }

    /**
     * Gradient sharing: every replica applies the same decoded updates through the same SR step with the same bits,
     * so replicas stay bit-identical as long as every replica's sum of the decoded messages is the same. With two
     * workers it always is (two FP32 summands commute); with more, messages decoded in a different arrival order can
     * round the sum differently. Replicas that trained every round since the last check are compared, and if they
     * differ they are re-synchronised by averaging their parameters with the plugin's rule (updater state stays per
     * replica, as in DL4J's gradient sharing). With {@link ReplicaRandomBits#PER_WORKER} differences are only
     * measured, never repaired.
     */
    private void checkIdentical() {
        List<ReplicaHooks> all = sortedTrainers();
        int[] fed = new int[all.size()];
        int most = 0;
        for (int i = 0; i < fed.length; i++) {
            fed[i] = all.get(i).takeFedSinceAveraging();
            most = Math.max(most, fed[i]);
        }
        List<Model> compared = new ArrayList<>();
        for (int i = 0; i < fed.length; i++) {
            // a replica given fewer minibatches (the last round of a fit can be short) missed some shared updates
            if (most > 0 && fed[i] == most) {
                compared.add(all.get(i).replica());
            }
        }
        if (compared.size() < 2 || !usable(compared)) {
            return;
        }
        resyncChecks++;
        long differing = differingParams(compared);
        maxDifferingParams = Math.max(maxDifferingParams, differing);
        if (differing > 0 && randomBits == ReplicaRandomBits.SHARED) {
            long start = System.nanoTime();
            Bf16Averaging.averageInPlace(compared, compared, options.getSeed(),
                    Network.of(compared.get(0)).iterationCount(), false, averagingScratch);
            averagingNanos += System.nanoTime() - start;
            resyncs++;
            log.info("Gradient sharing: {} parameters differed between replicas; re-synchronised", differing);
        }
    }

    /** Parameters whose bits differ between replica 0 and any other replica. */
    static long differingParams(List<Model> replicas) {
        int[] first = bits(replicas.get(0).params());
        boolean[] differ = new boolean[first.length];
        long n = 0;
        for (int r = 1; r < replicas.size(); r++) {
            int[] other = bits(replicas.get(r).params());
            for (int i = 0; i < first.length; i++) {
                if (!differ[i] && first[i] != other[i]) {
                    differ[i] = true;
                    n++;
                }
            }
        }
        return n;
    }

    private static int[] bits(INDArray a) {
        float[] f = a.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup().data().asFloat();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
    }

    private List<ReplicaHooks> sortedTrainers() {
        ReplicaHooks[] a = new ReplicaHooks[trainers.size()];
        for (ReplicaHooks t : trainers.values()) {
            a[t.threadId()] = t;
        }
        return Arrays.asList(a);
    }

    /** The replica networks of the current fit (replica 0 is the user's network), for inspection between rounds. */
    public List<Model> replicas() {
        List<Model> out = new ArrayList<>();
        for (ReplicaHooks t : sortedTrainers()) {
            if (t != null && t.everFed()) {
                out.add(t.replica());
            }
        }
        return out;
    }

    /** Runs {@code action} with the user's network after every averaging (AVERAGING mode), on the wrapper's thread. */
    public void setAfterAveraging(Consumer<Model> action) {
        this.afterAveraging = action;
    }

    public Mode getMode() {
        return mode;
    }

    public ReplicaRandomBits getRandomBits() {
        return randomBits;
    }

    /** Averaging rounds done (AVERAGING). */
    public long getAveragingRounds() {
        return averagingRounds;
    }

    /** Wall time spent averaging (and re-synchronising), nanoseconds. */
    public long getAveragingNanos() {
        return averagingNanos;
    }

    /** AVERAGING: the wall time of every averaging round so far, by phase (read, sum, round, write). */
    public AveragingPhases getAveragingPhases() {
        return averagingPhases;
    }

    /** SHARED_GRADIENTS: times the replicas were compared / found different and re-synchronised. */
    public long getResyncChecks() {
        return resyncChecks;
    }

    public long getResyncs() {
        return resyncs;
    }

    /** SHARED_GRADIENTS: the largest number of parameters that differed between replicas at a check. */
    public long getMaxDifferingParams() {
        return maxDifferingParams;
    }

    /** The wrapper's iteration number, used to recognise averaging rounds. */
    long wrapperRounds() {
        return wrapper.getIterationsCounter().get();
    }

    int wrapperAveragingFrequency() {
        return wrapper.getAveragingFrequency();
    }
}
