package org.dl4jsr.parallel;

/** Which stochastic-rounding bits the replicas of a ParallelWrapper draw. */
public enum ReplicaRandomBits {
    /**
     * Every replica uses the network's seed (the default, the paper's "shared randomness"): replicas that apply the
     * same update round it identically.
     */
    SHARED,
    /**
     * Replica k > 0 rounds with seed + k (replica 0, the user's network, keeps its seed). For measuring the drift the
     * paper warns about; do not train with it.
     */
    PER_WORKER
}
