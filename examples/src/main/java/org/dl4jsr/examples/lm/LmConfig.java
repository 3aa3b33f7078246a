package org.dl4jsr.examples.lm;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.dl4jsr.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Settings of the LM experiment, from command-line flags. {@code --preset default} is sized to finish in about ten
 * minutes on 2 CPU cores; {@code --preset large} is the configuration of docs/lm-experiment.md's first table.
 */
@Command(name = "lm", mixinStandardHelpOptions = false, sortOptions = false,
        description = "Byte-level GPT trained four ways (FP32, mixed precision, vanilla BF16, BF16 + SR).",
        footer = "A run whose training loss becomes NaN or exceeds 1.5 ln 256 nats/byte stops and is reported as diverged.")
public final class LmConfig {
    /** System property with the default corpus (the examples pom sets it to the -sources.jar it downloads). */
    public static final String CORPUS_PROPERTY = "dl4jsr.lm.corpus";

    @Option(names = "--corpus", paramLabel = "FILE", description = "text file, or a .jar/.zip whose text entries are"
            + " used (default: the -sources.jar the examples build downloads, system property " + CORPUS_PROPERTY + ")")
    public Path corpus;
    @Option(names = "--preset", paramLabel = "NAME",
            description = "default (about 10 min on 2 cores) | large (docs/lm-experiment.md) | tiny (smoke test); other flags override it")
    public String presetName = "default";
    @Option(names = "--steps", paramLabel = "N", converter = Cli.Positive.class, description = "training steps")
    public int steps = 400;
    @Option(names = "--batch", paramLabel = "N", converter = Cli.Positive.class, description = "sequences per minibatch")
    public int batch = 32;
    @Option(names = "--length", paramLabel = "N", converter = Cli.Positive.class, description = "context length in bytes (at least 2)")
    public int length = 64;
    @Option(names = "--width", paramLabel = "N", converter = Cli.Positive.class, description = "model width (a multiple of --heads)")
    public int width = 64;
    @Option(names = "--heads", paramLabel = "N", converter = Cli.Positive.class, description = "attention heads")
    public int heads = 4;
    @Option(names = "--blocks", paramLabel = "N", converter = Cli.Positive.class, description = "transformer blocks")
    public int blocks = 2;
    @Option(names = "--lr", paramLabel = "X", converter = Cli.PositiveReal.class,
            description = "peak learning rate (warm-up then cosine decay to floor * peak)")
    public double peakLr = 2e-3;
    @Option(names = "--warmup", paramLabel = "N", converter = Cli.NonNegative.class, description = "warm-up steps (fewer than --steps)")
    public int warmup = 40;
    /** Final learning rate of the cosine decay as a fraction of the peak. */
    @Option(names = "--floor", paramLabel = "F", converter = Cli.Fraction.class,
            description = "final learning rate as a fraction of the peak, in [0, 1]")
    public double floor = 0.1;
    @Option(names = "--weight-decay", paramLabel = "X", converter = Cli.NonNegativeReal.class,
            description = "decoupled weight decay")
    public double weightDecay = 0.1;
    @Option(names = "--eval-every", paramLabel = "N", converter = Cli.Positive.class, description = "steps between validation losses")
    public int evalEvery = 20;
    @Option(names = "--val-windows", paramLabel = "N", converter = Cli.Positive.class, description = "validation windows")
    public int validationWindows = 256;
    @Option(names = "--seed", paramLabel = "N", description = "first seed (initial weights, data order, rounding bits)")
    public long seed = 42;
    /** Runs per strategy and learning rate, with seeds seed, seed + 1, ... (initial weights, data order, rounding). */
    @Option(names = "--seeds", paramLabel = "N", converter = Cli.Positive.class, description = "train every strategy and rate with"
            + " seeds seed, seed+1, ..., seed+N-1 and report mean, standard deviation and the difference from FP32"
            + " paired by seed")
    public int seeds = 1;
    @Option(names = "--strategies", paramLabel = "LIST", split = ",", converter = StrategyConverter.class,
            completionCandidates = StrategyIds.class, description = "comma-separated subset of ${COMPLETION-CANDIDATES}")
    public List<PrecisionStrategy> strategies; // null until parse: the paper's four
    @Option(names = "--lr-sweep", description = "train at 1x, 2x and 4x the peak learning rate (one table per rate)")
    public boolean lrSweep;
    @Option(names = "--lr-multipliers", paramLabel = "LIST", split = ",", converter = Cli.PositiveReal.class,
            description = "e.g. 0.25,1,4 (instead of --lr-sweep)")
    public List<Double> lrMultipliers; // null until parse: 1x
    @Option(names = "--out", paramLabel = "DIR", description = "where the CSV and PNG files go (default target/lm)")
    public Path out = Path.of("target", "lm");
    /** Reuse the runs an earlier sweep with the same settings left in {@link #out} (see {@link SweepResume}). */
    @Option(names = "--resume", description = "with --seeds: keep the runs an earlier sweep with the same settings"
            + " left in --out and train only the missing ones; the files then hold this sweep's runs, so list every"
            + " rate to keep (more seeds or rates may be added)")
    public boolean resume;
    @Option(names = "--report-only", description = "with --resume: train nothing, write the tables and files of the"
            + " recorded runs (a sweep stopped part-way; missing runs are listed and left out)")
    public boolean reportOnly;
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "this text")
    public boolean help;

    /** The strategies' ids, for the usage text. */
    static final class StrategyIds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Arrays.stream(PrecisionStrategy.values()).map(PrecisionStrategy::id).iterator();
        }
    }

    /** Strategy ids (fp32, mixed, ...) to strategies; an unknown id is refused with the valid ones. */
    static final class StrategyConverter implements ITypeConverter<PrecisionStrategy> {
        @Override
        public PrecisionStrategy convert(String id) {
            try {
                return PrecisionStrategy.parse(id);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** The usage text ({@code --help}). */
    public static String usage() {
        return Cli.usage(new LmConfig());
    }

    /** True when the flags ask for the usage text (printed on standard output, exit code 0). */
    public static boolean wantsHelp(String... args) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses flags. Throws {@link Cli.BadFlagException} (naming the flag) for anything unknown or malformed, and
     * IllegalArgumentException for settings that do not fit together.
     */
    public static LmConfig parse(String... args) {
        LmConfig c = new LmConfig();
        String corpus = System.getProperty(CORPUS_PROPERTY);
        c.corpus = corpus == null ? null : Path.of(corpus);
        // The preset goes first so that explicit flags override it wherever they are: it sets the defaults that
        // picocli then keeps for every flag not given.
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--preset")) {
                c.preset(args[i + 1]);
            }
        }
        Cli.parse(c, args);
        if (c.lrSweep) {
            if (c.lrMultipliers != null) {
                throw new IllegalArgumentException("--lr-sweep and --lr-multipliers: give one of them");
            }
            c.lrMultipliers = List.of(1.0, 2.0, 4.0);
        }
        c.strategies = c.strategies == null ? PrecisionStrategy.PAPER : List.copyOf(c.strategies);
        c.lrMultipliers = c.lrMultipliers == null ? List.of(1.0) : List.copyOf(c.lrMultipliers);
        if (c.corpus == null) {
            throw new IllegalArgumentException("No corpus: pass --corpus FILE (or run through Maven, which sets -D"
                    + CORPUS_PROPERTY + " to the downloaded -sources.jar).");
        }
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
            default -> throw new IllegalArgumentException("--preset: unknown preset '" + name + "', use default, large or tiny");
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

    public GptModel.Shape shape() {
        return new GptModel.Shape(width, heads, blocks, length);
    }

    /** One line with every setting, printed at the start and written into the CSV header. */
    public String describe() {
        return runSettings() + " seeds=" + seeds + " lr_multipliers=" + lrMultipliers + " strategies="
                + Arrays.toString(strategies.stream().map(PrecisionStrategy::id).toArray());
    }

    /** The settings that make one run what it is (everything but the sweep's seeds, rates and strategies). */
    public String runSettings() {
        return "corpus=" + corpus.getFileName() + " width=" + width + " heads=" + heads + " blocks=" + blocks + " length="
                + length + " batch=" + batch + " steps=" + steps + " warmup=" + warmup + " peak_lr=" + peakLr
                + " floor=" + floor + " weight_decay=" + weightDecay + " eval_every=" + evalEvery + " val_windows="
                + validationWindows + " seed=" + seed;
    }
}
