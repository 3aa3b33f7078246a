package org.dl4jsr.examples.bench;

import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.TreeMap;
import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Can BF16 arithmetic be faster than FP32 on this CPU with ND4J 1.0.0-M2.1? FLOAT against BFLOAT16 square matrix
 * products, two ways:
 * <ul>
 *   <li>{@code mmul-f}: {@code INDArray.mmuli} into an f-order (column-major) result, as DL4J's layers call it
 *       ({@code BaseLayer.preOutput}); {@code mmul}/{@code mmuli} always run their GEMM into an f-order array (a
 *       temporary one, then copied, when the result given is c-order);</li>
 *   <li>{@code matmul-c}: the {@code matmul} op ({@code Mmul}) writing into a c-order (row-major) result: the one
 *       route on which the oneDNN build runs its BF16 GEMM (AVX512_BF16 instructions where the CPU has them).</li>
 * </ul>
 * GFLOP/s are {@code 2 n^3} over the median time; the BF16/FP32 ratio comes from the same run; the relative error
 * (Frobenius norm) is against a DOUBLE product of the same FP32 inputs, so BF16's figure includes rounding the
 * inputs to BF16.
 *
 * <p>Which backend build runs is chosen by the nd4j-native classifier on the classpath: the default
 * {@code linux-x86_64}, or oneDNN with {@code -Ponednn} ({@code linux-x86_64-onednn}) or
 * {@code -Dnd4j.native.classifier=linux-x86_64-onednn-avx512}. Run:
 * {@code OMP_NUM_THREADS=1 mvn -q -pl examples -am package -DskipTests exec:exec@matmul-bench [-Ponednn]}
 * (optionally {@code -Dargs="--sizes 256,512,1024 --reps 5"}).
 */
public final class MatmulBenchmark {
    /** Once a case has this many timed repetitions and has run for MAX_NANOS, it stops (the slow BF16 loop). */
    private static final int MIN_REPS = 3;
    private static final long MAX_NANOS = 20_000_000_000L;

    /** The two ways of multiplying. */
    enum Route {
        MMUL_F("mmuli (f-order out)"),
        MATMUL_C("matmul op (c-order out)");

        final String label;

        Route(String label) {
            this.label = label;
        }

        String id() {
            return this == MMUL_F ? "mmul-f" : "matmul-c";
        }
    }

    /** One measured case. */
    record Case(Route route, DataType type, int n, double medianSeconds, int reps, double relativeError, char order) {
        double gflops() {
            return 2.0 * n * n * n / medianSeconds / 1e9;
        }
    }

    @Command(name = "matmul-bench", mixinStandardHelpOptions = true,
            description = "FLOAT vs BFLOAT16 matrix products on the ND4J backend in use.",
            footer = {"Threads: ND4J's (OMP_NUM_THREADS=N in the environment). Backend build: the nd4j-native classifier",
                "(default linux-x86_64; -Ponednn for linux-x86_64-onednn; -Dnd4j.native.classifier=... for others)."})
    static final class Options {
        @Option(names = "--sizes", paramLabel = "N", split = ",", converter = Cli.Positive.class,
                description = "square sizes n (n x n times n x n), default 256,512,1024")
        int[] sizes = {256, 512, 1024};
        @Option(names = "--reps", paramLabel = "R", converter = Cli.Positive.class,
                description = "timed rounds per case (one FP32 and one BF16 product each; medians), default 5;"
                        + " a case stops after " + MIN_REPS + " rounds once it has run " + (MAX_NANOS / 1_000_000_000L) + " s")
        int reps = 5;
    }

    private MatmulBenchmark() {
    }

    public static void main(String[] args) {
        Options o = new Options();
        if (!Cli.parseOrExit(o, args)) {
            return;
        }
        int[] sizes = o.sizes;
        int reps = o.reps;
        String build = describeBackend();
        System.out.println("Matrix products, FLOAT vs BFLOAT16, median of " + reps + " runs; " + build);
        System.out.printf(Locale.ROOT, "%-26s %6s %12s %12s %9s %12s %12s %6s%n", "route", "n", "FP32 GFLOP/s",
                "BF16 GFLOP/s", "BF16/FP32", "FP32 rel err", "BF16 rel err", "reps");
        for (int n : sizes) {
            for (Route route : Route.values()) {
                List<Case> pair = measure(route, n, reps);
                Case f = pair.get(0);
                Case b = pair.get(1);
                System.out.printf(Locale.ROOT, "%-26s %6d %12.2f %12.2f %9.3f %12.2e %12.2e %3d/%-3d%n", route.label, n,
                        f.gflops(), b.gflops(), b.gflops() / f.gflops(), f.relativeError(), b.relativeError(), f.reps(),
                        b.reps());
                System.out.printf(Locale.ROOT, "RESULT matmul route=%s n=%d fp32_gflops=%.2f bf16_gflops=%.2f"
                                + " bf16_over_fp32=%.3f fp32_rel_err=%.2e bf16_rel_err=%.2e out_order=%c %s%n",
                        route.id(), n, f.gflops(), b.gflops(), b.gflops() / f.gflops(), f.relativeError(),
                        b.relativeError(), b.order(), build.replace(", ", " ").replace(": ", "="));
            }
        }
    }

    /**
     * FLOAT and BFLOAT16 of one route and size, on the same random inputs. The two types alternate, one timed product
     * each per round, so that a machine shared with other jobs slows both alike and the ratio stays meaningful.
     */
    static List<Case> measure(Route route, int n, int reps) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n).subi(0.5);
        INDArray b = Nd4j.rand(DataType.FLOAT, n, n).subi(0.5);
        INDArray exact = a.castTo(DataType.DOUBLE).mmul(b.castTo(DataType.DOUBLE));
        DataType[] types = {DataType.FLOAT, DataType.BFLOAT16};
        INDArray[] x = new INDArray[2];
        INDArray[] y = new INDArray[2];
        INDArray[] out = new INDArray[2];
        double[] error = new double[2];
        List<List<Long>> times = List.of(new ArrayList<>(), new ArrayList<>());
        for (int t = 0; t < 2; t++) {
            x[t] = a.castTo(types[t]);
            y[t] = b.castTo(types[t]);
            out[t] = Nd4j.createUninitialized(types[t], new long[] {n, n}, route == Route.MATMUL_C ? 'c' : 'f');
            error[t] = relativeError(multiply(route, x[t], y[t], out[t]), exact); // untimed: first use
        }
        long spent = 0;
        for (int r = 0; r < reps && !(r >= MIN_REPS && spent > MAX_NANOS); r++) {
            for (int t = 0; t < 2; t++) {
                long t0 = System.nanoTime();
                multiply(route, x[t], y[t], out[t]);
                long elapsed = System.nanoTime() - t0;
                times.get(t).add(elapsed);
                spent += elapsed;
            }
        }
        List<Case> cases = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            List<Long> sorted = new ArrayList<>(times.get(t));
            sorted.sort(null);
            cases.add(new Case(route, types[t], n, sorted.get(sorted.size() / 2) / 1e9, sorted.size(), error[t],
                    out[t].ordering()));
        }
        return cases;
    }

    static INDArray multiply(Route route, INDArray x, INDArray y, INDArray out) {
        if (route == Route.MMUL_F) {
            return x.mmuli(y, out);
        }
        Nd4j.exec(new Mmul(x, y, out, MMulTranspose.allFalse()));
        return out;
    }

    /** ||result - exact||_F / ||exact||_F, in DOUBLE. */
    static double relativeError(INDArray result, INDArray exact) {
        INDArray r = result.castTo(DataType.DOUBLE);
        return r.sub(exact).norm2Number().doubleValue() / exact.norm2Number().doubleValue();
    }

    /** The nd4j-native classifier jar on the class path, ND4J's thread count and the BLAS it reports. */
    static String describeBackend() {
        String classifier = "unknown";
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (name.startsWith("nd4j-native-") && !name.startsWith("nd4j-native-api")
                    && !name.startsWith("nd4j-native-preset") && name.matches(".*-\\d.*-[a-z].*\\.jar")) {
                classifier = name.replaceFirst("^nd4j-native-[^-]+(-M[0-9.]+)?-", "").replace(".jar", "");
            }
        }
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        TreeMap<String, Object> keep = new TreeMap<>();
        for (String key : env.stringPropertyNames()) {
            if (key.contains("blas") || key.contains("omp") || key.contains("cores")) {
                keep.put(key, env.get(key));
            }
        }
        return String.format(Locale.ROOT, "classifier: %s, threads: %d, %s", classifier,
                Nd4j.getEnvironment().maxThreads(), keep.toString().replace(", ", " ").replace("{", "").replace("}", ""));
    }
}
