package org.dl4jsr.kernel;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Remembers the host views of the last few arrays by identity. Training passes the same parameter, gradient and
 * state arrays every step, so after the first step no buffer view is created again.
 *
 * <p>Safe for concurrent calls: {@link #get} is synchronized (a scan of a few slots; the passes themselves run
 * outside the lock), and a view is immutable, so a caller may keep using one after another call replaced its slot.
 */
final class HostArrayCache {
    private static final int SLOTS = 32;
    private final HostArray[] slots = new HostArray[SLOTS];
    private int next;

    synchronized HostArray get(INDArray array) {
        for (HostArray h : slots) {
            if (h != null && h.isViewOf(array)) {
                return h;
            }
        }
        HostArray h = HostArray.of(array);
        slots[next] = h;
        next = (next + 1) % SLOTS;
        return h;
    }
}
