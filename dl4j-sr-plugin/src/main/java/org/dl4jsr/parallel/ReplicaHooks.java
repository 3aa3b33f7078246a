package org.dl4jsr.parallel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The plugin's part of one ParallelWrapper worker, shared by both trainer classes (which must extend different DL4J
 * trainers): attaching the replica, noting when it was given data, turning ParallelWrapper's "averaging required?"
 * question into the plugin's end-of-round step, and leaving the user's network attached when a fit ends.
 */
final class ReplicaHooks {
    private final Bf16TrainerContext context;
    private final int threadId;
    private final Supplier<Model> replica;
    private final AtomicInteger fedSinceAveraging = new AtomicInteger();
    private final AtomicBoolean ready = new AtomicBoolean();
    private volatile boolean everFed;
    private volatile Thread workerThread;

    ReplicaHooks(Bf16TrainerContext context, int threadId, Supplier<Model> replica) {
        this.context = context;
        this.threadId = threadId;
        this.replica = replica;
    }

    int threadId() {
        return threadId;
    }

    Model replica() {
        return replica.get();
    }

    /**
     * The worker's thread: DL4J's trainer loop ({@code trainerLoop}, the trainer's {@code super.run}) between noting
     * the thread and marking the replica ready, which also happens when the replica could not be built (worker 0 must
     * not wait for it). A failed worker stops the averaging of this fit: its replica may be half-trained or released.
     */
    void run(Runnable trainerLoop) {
        workerThread = Thread.currentThread();
        try {
            trainerLoop.run();
        } catch (RuntimeException | Error e) {
            context.workerFailed(threadId);
            throw e;
        } finally {
            ready();
        }
    }

    /**
     * The worker's shutdown: DL4J's ({@code stop}, the trainer's {@code super.shutdown}) between the last averaging of
     * the fit and giving the user's network ({@code userNetwork}) its updater state and attachment back.
     */
    void shutdown(Runnable stop, Model userNetwork) {
        INDArray state = beforeShutdown();
        stop.run();
        afterShutdown(userNetwork, state);
    }

    /** On the worker's thread, once the replica is built (replica 0 is the user's network), before any fit. */
    void built(Model model) {
        try {
            context.attachReplica(model, threadId);
        } finally {
            ready();
        }
    }

    /** The replica is built (or its worker failed): it no longer reads the user's network. Idempotent. */
    void ready() {
        if (!ready.getAndSet(true)) {
            context.replicaReady();
        }
    }

    /**
     * On the wrapper's thread, when a minibatch is handed to this worker. Worker 0 trains the user's network itself,
     * while the other workers copy that network's parameters when they start: DL4J does not wait for those copies,
     * so the first minibatch could change the network in the middle of a copy (replicas would then start from a
     * mix of two states). Worker 0 therefore waits until every replica is built.
     */
    void fed() {
        if (threadId == 0 && !everFed) {
            context.awaitReplicas();
        }
        everFed = true;
        fedSinceAveraging.incrementAndGet();
    }

    boolean everFed() {
        return everFed;
    }

    /** Minibatches given to the replica since the last call (and resets the count). */
    int takeFedSinceAveraging() {
        return fedSinceAveraging.getAndSet(0);
    }

    /**
     * ParallelWrapper's question, asked of worker 0 on the wrapper's thread after every worker finished the round
     * (and, on backends without cross-device access, by each worker itself: ignored). Runs the plugin's end-of-round
     * step on averaging rounds; always answers false so that ND4J's averaging never runs.
     */
    boolean averagingRequired() {
        if (threadId != 0 || Thread.currentThread() == workerThread) {
            return false;
        }
        int frequency = context.wrapperAveragingFrequency();
        if (context.wrapperRounds() % frequency == 0) {
            context.endOfRound(false);
        }
        return false;
    }

    /**
     * Before worker 0 stops (the fit ends): a last averaging of what was trained since the previous one, then the
     * updater state of the user's network is kept, because DL4J's trainer calls {@code clear()} on it, which drops
     * the optimizer (and with it the state and the plugin's step function).
     */
    private INDArray beforeShutdown() {
        if (threadId != 0 || !everFed) {
            return null;
        }
        context.endOfRound(true);
        INDArray state = Replicas.updaterState(replica());
        return state == null ? null : state.dup();
    }

    /** After worker 0 stopped: the user's network gets its updater state back and is attached again. */
    private void afterShutdown(Model userNetwork, INDArray state) {
        if (threadId != 0 || userNetwork == null) {
            return;
        }
        Replicas.restoreUpdater(userNetwork, state);
        Replicas.attachIfNeeded(userNetwork, context.options());
    }
}
