package org.dl4jsr.examples.lm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Settings of the LM experiment, from command-line flags. {@code --preset default} is sized to finish in about ten
 * minutes on 2 CPU cores; {@code --preset large} is the configuration of the README table.
 */
public final class LmConfig {
    /** System property with the default corpus (the examples pom sets it to the -sources.jar it downloads). */
    public static final String CORPUS_PROPERTY = "dl4jsr.lm.corpus";

    Path corpus;
    Path out = Path.of("target", "lm");
    int width = 64;
    int heads = 4;
    int blocks = 2;
    int length = 64;
    int batch = 32;
    int steps = 400;
    int warmup = 40;
    double peakLr = 2e-3;
    /** Final learning rate of the cosine decay as a fraction of the peak. */
    double floor = 0.1;
    double weightDecay = 0.1;
    int evalEvery = 20;
    int validationWindows = 256;
    long seed = 42;
    /** Runs per strategy and learning rate, with seeds seed, seed + 1, ... (initial weights, data order, rounding). */
    int seeds = 1;
    List<PrecisionStrategy> strategies = List.of(PrecisionStrategy.values());
    List<Double> lrMultipliers = List.of(1.0);
    /** Reuse the runs an earlier sweep with the same settings left in {@link #out} (see {@link SweepResume}). */
    boolean resume;
    /** With resume: train nothing, report the recorded runs. */
    boolean reportOnly;

    static final String USAGE = String.join("\n",
            "Byte-level GPT trained four ways (FP32, mixed precision, vanilla BF16, BF16 + SR). Flags:",
            "  --corpus FILE          text file, or a .jar/.zip whose text entries are used (default: the",
            "                         -sources.jar the examples build downloads, system property " + CORPUS_PROPERTY + ")",
            "  --preset NAME          default (about 10 min on 2 cores) | large (README table) | tiny (smoke test)",
            "  --steps N --batch N --length N --width N --heads N --blocks N",
            "  --lr X                 peak learning rate (warm-up then cosine decay to floor * peak)",
            "  --warmup N --floor F --weight-decay X --eval-every N --val-windows N --seed N",
            "  --seeds N              train every strategy and rate with seeds seed, seed+1, ..., seed+N-1 and report",
            "                         mean, standard deviation and the difference from FP32 paired by seed",
            "  --strategies LIST      comma-separated subset of fp32,mixed,bf16,bf16-sr,bf16-kahan",
            "  --lr-sweep             train at 1x, 2x and 4x the peak learning rate (one table per rate)",
            "  --lr-multipliers LIST  e.g. 0.25,1,4 (instead of --lr-sweep)",
            "  --out DIR              where the CSV and PNG files go (default target/lm)",
            "  --resume               with --seeds: keep the runs an earlier sweep with the same settings left in",
            "                         --out and train only the missing ones; the files then hold this sweep's",
            "                         runs, so list every rate to keep (more seeds or rates may be added)",
            "  --report-only          with --resume: train nothing, write the tables and files of the recorded runs",
            "                         (a sweep stopped part-way; missing runs are listed and left out)",
            "  --help                 this text",
            "A run whose training loss becomes NaN or exceeds 1.5 ln 256 nats/byte stops and is reported as diverged.");

    /** True when the flags ask for the usage text (printed on standard output, exit code 0). */
    public static boolean wantsHelp(String... args) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    /** Parses flags; throws IllegalArgumentException with the usage text for anything unknown or malformed. */
    public static LmConfig parse(String... args) {
        LmConfig c = new LmConfig();
        String corpus = System.getProperty(CORPUS_PROPERTY);
        // The preset goes first so that explicit flags override it wherever they are.
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--preset")) {
                c.preset(args[i + 1]);
            }
        }
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--lr-sweep")) {
                c.lrMultipliers = List.of(1.0, 2.0, 4.0);
                continue;
            }
            if (flag.equals("--resume")) {
                c.resume = true;
                continue;
            }
            if (flag.equals("--report-only")) {
                c.reportOnly = true;
                continue;
            }
            if (flag.equals("--help") || flag.equals("-h")) {
                throw new IllegalArgumentException(USAGE);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("Flag " + flag + " needs a value (or is unknown).\n" + USAGE);
            }
            String v = args[++i];
            switch (flag) {
                case "--preset" -> { }
                case "--corpus" -> corpus = v;
                case "--out" -> c.out = Path.of(v);
                case "--steps" -> c.steps = positive(flag, v);
                case "--batch" -> c.batch = positive(flag, v);
                case "--length" -> c.length = positive(flag, v);
                case "--width" -> c.width = positive(flag, v);
                case "--heads" -> c.heads = positive(flag, v);
                case "--blocks" -> c.blocks = positive(flag, v);
                case "--warmup" -> c.warmup = nonNegative(flag, v);
                case "--eval-every" -> c.evalEvery = positive(flag, v);
                case "--val-windows" -> c.validationWindows = positive(flag, v);
                case "--seed" -> c.seed = number(flag, v).longValue();
                case "--seeds" -> c.seeds = positive(flag, v);
                case "--lr" -> c.peakLr = positiveDouble(flag, v);
                case "--floor" -> c.floor = fraction(flag, v);
                case "--weight-decay" -> c.weightDecay = nonNegativeDouble(flag, v);
                case "--strategies" -> {
                    List<PrecisionStrategy> list = new ArrayList<>();
                    for (String s : v.split(",")) {
                        list.add(PrecisionStrategy.parse(s));
                    }
                    c.strategies = List.copyOf(list);
                }
                case "--lr-multipliers" -> {
                    List<Double> list = new ArrayList<>();
                    for (String s : v.split(",")) {
                        list.add(positiveDouble(flag, s.trim()));
                    }
                    c.lrMultipliers = List.copyOf(list);
                }
                default -> throw new IllegalArgumentException("Unknown flag " + flag + "\n" + USAGE);
            }
        }
        if (corpus == null) {
            throw new IllegalArgumentException("No corpus: pass --corpus FILE (or run through Maven, which sets -D"
                    + CORPUS_PROPERTY + " to the downloaded -sources.jar).\n" + USAGE);
        }
        c.corpus = Path.of(corpus);
        c.validate();
        return c;
    }

    private void preset(String name) {
        switch (name) {
            case "default" -> { }
            case "large" -> {
                // 2.9x the parameters and twice the steps of the default: about 45 minutes on 2 cores.
                width = 96;
                blocks = 3;
                steps = 800;
                warmup = 60;
                evalEvery = 40;
                validationWindows = 512;
            }
            case "tiny" -> {
                width = 32;
                heads = 2;
                blocks = 1;
                length = 32;
                batch = 16;
                steps = 60;
                warmup = 6;
                peakLr = 5e-3;
                evalEvery = 10;
                validationWindows = 32;
            }
            default -> throw new IllegalArgumentException("Unknown preset '" + name + "': default, large or tiny");
        }
    }

    void validate() {
        if (width % heads != 0) {
            throw new IllegalArgumentException("--width " + width + " must be a multiple of --heads " + heads);
        }
        if (length < 2) {
            throw new IllegalArgumentException("--length must be at least 2, got " + length);
        }
        if (resume && seeds < 2) {
            throw new IllegalArgumentException("--resume works with --seeds 2 or more (it reads lm-seeds.csv)");
        }
        if (warmup >= steps) {
            throw new IllegalArgumentException("--warmup " + warmup + " must be smaller than --steps " + steps);
        }
    }

    GptModel.Shape shape() {
        return new GptModel.Shape(width, heads, blocks, length);
    }

    /** One line with every setting, printed at the start and written into the CSV header. */
    String describe() {
        return runSettings() + " seeds=" + seeds + " lr_multipliers=" + lrMultipliers + " strategies="
                + Arrays.toString(strategies.stream().map(PrecisionStrategy::id).toArray());
    }

    /** The settings that make one run what it is (everything but the sweep's seeds, rates and strategies). */
    String runSettings() {
        return "corpus=" + corpus.getFileName() + " width=" + width + " heads=" + heads + " blocks=" + blocks + " length="
                + length + " batch=" + batch + " steps=" + steps + " warmup=" + warmup + " peak_lr=" + peakLr
                + " floor=" + floor + " weight_decay=" + weightDecay + " eval_every=" + evalEvery + " val_windows="
                + validationWindows + " seed=" + seed;
    }

    private static Number number(String flag, String v) {
        try {
            return v.contains(".") || v.contains("e") || v.contains("E") ? Double.parseDouble(v) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " needs a number, got '" + v + "'");
        }
    }

    private static int positive(String flag, String v) {
        int n = integer(flag, v);
        if (n < 1) {
            throw new IllegalArgumentException(flag + " must be at least 1, got " + n);
        }
        return n;
    }

    private static int nonNegative(String flag, String v) {
        int n = integer(flag, v);
        if (n < 0) {
            throw new IllegalArgumentException(flag + " must be at least 0, got " + n);
        }
        return n;
    }

    private static int integer(String flag, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " needs a whole number, got '" + v + "'");
        }
    }

    private static double positiveDouble(String flag, String v) {
        double d = number(flag, v).doubleValue();
        if (!(d > 0 && Double.isFinite(d))) {
            throw new IllegalArgumentException(flag + " must be a positive number, got '" + v + "'");
        }
        return d;
    }

    private static double nonNegativeDouble(String flag, String v) {
        double d = number(flag, v).doubleValue();
        if (!(d >= 0 && Double.isFinite(d))) {
            throw new IllegalArgumentException(flag + " must be a number >= 0, got '" + v + "'");
        }
        return d;
    }

    private static double fraction(String flag, String v) {
        double d = number(flag, v).doubleValue();
        if (!(d >= 0 && d <= 1)) {
            throw new IllegalArgumentException(flag + " must be in [0, 1], got '" + v + "'");
        }
        return d;
    }
}
