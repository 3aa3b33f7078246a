package org.dl4jsr.spark;

import java.io.Serializable;
import org.dl4jsr.Bf16Options;
import org.dl4jsr.NonFiniteGradients;
import org.dl4jsr.kernel.KernelPath;
import org.dl4jsr.rounding.Rounding;

/**
 * The {@link Bf16Options} a Spark training master gives its workers, in a form Spark and DL4J's JSON can carry.
 * Workers attach their networks with these options, so they round with the same seeds as the driver.
 */
public final class SparkBf16Options implements Serializable {
    private static final long serialVersionUID = 1L;

    private Rounding initialRounding;
    private Rounding weightRounding;
    private long seed;
    /** Kernel threads per worker task, at most the executor's cores. */
    private int threads;
    private KernelPath kernels;
    private NonFiniteGradients nonFiniteGradients;

    /** For JSON. */
    private SparkBf16Options() {
    }

    static SparkBf16Options of(Bf16Options o) {
        SparkBf16Options s = new SparkBf16Options();
        s.initialRounding = o.getInitialRounding();
        s.weightRounding = o.getWeightRounding();
        s.seed = o.getSeed();
        s.threads = o.getThreads();
        s.kernels = o.getKernels();
        s.nonFiniteGradients = o.getNonFiniteGradients();
        return s;
    }

    /** The options in this JVM (kernel threads capped at its processors; results do not depend on them). */
    public Bf16Options toOptions() {
        return Bf16Options.builder().initialRounding(initialRounding).weightRounding(weightRounding).seed(seed)
                .threads(Math.max(1, Math.min(threads, Runtime.getRuntime().availableProcessors())))
                .kernels(kernels).nonFiniteGradients(nonFiniteGradients).build();
    }

    public long getSeed() {
        return seed;
    }

    @Override
    public String toString() {
        return "SparkBf16Options(initialRounding=" + initialRounding + ", weightRounding=" + weightRounding + ", seed="
                + seed + ", threads=" + threads + ", kernels=" + kernels + ", nonFiniteGradients=" + nonFiniteGradients
                + ")";
    }
}
