package org.dl4jsr.kernel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one chunked loop at a time on a fixed set of threads (the calling thread works too). Chunks are handed out
 * dynamically, which is safe for determinism because every element's result depends only on its own index.
 * The runner allocates nothing per call: per-thread scratch {@link Tile}s are created once, and the body is the
 * caller's (one small object per pass at most).
 */
public final class ParallelRunner {

    /** The body of a chunked loop: processes elements [from, to) using the executing thread's scratch tile. */
    public interface Body {
        void run(long from, long to, Tile tile);
    }

    /** Chunk length: large enough to amortise hand-out, small enough to balance two to a few dozen threads. */
    public static final long CHUNK = 1L << 15;

    private static final ConcurrentHashMap<Integer, ParallelRunner> SHARED = new ConcurrentHashMap<>();

    private final int threads;
    private final Tile[] tiles;
    private final Thread[] workers;

    private final AtomicLong nextChunk = new AtomicLong();
    private final AtomicInteger running = new AtomicInteger();
    private volatile int generation;
    private volatile Body body;
    private volatile long length;
    private volatile Throwable failure;
    private volatile Thread caller;

    private ParallelRunner(int threads) {
        this.threads = threads;
        this.tiles = new Tile[threads];
        for (int i = 0; i < threads; i++) {
            tiles[i] = new Tile();
        }
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            final int id = i + 1;
            Thread t = new Thread(() -> workerLoop(id), "dl4j-sr-kernel-" + threads + "-" + id);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** The process-wide runner with {@code threads} threads (created on first use, daemon threads). */
    public static ParallelRunner shared(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return SHARED.computeIfAbsent(threads, ParallelRunner::new);
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over [0, n) in chunks of {@link #CHUNK}; returns when every chunk is done. */
    public synchronized void run(long n, Body body) {
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n <= CHUNK) {
            body.run(0, n, tiles[0]);
            return;
        }
        this.body = body;
        this.length = n;
        this.failure = null;
        this.caller = Thread.currentThread();
        nextChunk.set(0);
        running.set(workers.length);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            drain(tiles[0]);
        } catch (Throwable t) {
            failure = t;
        }
        while (running.get() > 0) {
            LockSupport.park(this);
        }
        this.body = null;
        Throwable t = failure;
        if (t != null) {
            failure = null;
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new IllegalStateException(t);
        }
    }

    private void drain(Tile tile) {
        Body b = body;
        long n = length;
        long from;
        while ((from = nextChunk.getAndAdd(CHUNK)) < n) {
            b.run(from, Math.min(n, from + CHUNK), tile);
        }
    }

    private void workerLoop(int id) {
        int seen = 0;
        while (true) {
            while (generation == seen) {
                LockSupport.park(this);
            }
            seen = generation;
            try {
                drain(tiles[id]);
            } catch (Throwable t) {
                failure = t;
                nextChunk.set(Long.MAX_VALUE / 2); // stop handing out work
            }
            if (running.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }
}
