package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.LmConfig;
import org.dl4jsr.examples.lm.LmRun;
import org.dl4jsr.examples.lm.PrecisionStrategy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --resume}: the runs of an earlier sweep, read back from the CSV files it left in {@code --out}, so that a
 * sweep stopped part-way (a long seed sweep takes hours on 2 cores) continues where it ended instead of starting
 * again, or a strategy added to a finished sweep trains only its own runs. Only runs with the same settings are
 * reused (the first line of lm-seeds.csv records them), one run at a time (see {@link #recordedRuns}).
 */
public final class SweepResume {
    private final Map<String, LmRun.Result> runs;

    private SweepResume(Map<String, LmRun.Result> runs) {
        this.runs = runs;
    }

    /** Nothing to reuse: every run is trained. */
    public static SweepResume none() {
        return new SweepResume(Map.of());
    }

    /** The runs recorded in {@code c.out}; fails if they were made with other settings or the files are missing. */
    public static SweepResume read(LmConfig c) throws IOException {
        Path seeds = c.out.resolve(LmReport.SEEDS_CSV);
        Path summary = c.out.resolve(LmReport.SUMMARY_CSV);
        Path curves = c.out.resolve(LmReport.CURVES_CSV);
        for (Path p : List.of(seeds, summary, curves)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("--resume: no " + p + " (resume needs the files of an earlier run"
                        + " with --seeds 2 or more in the same --out directory)");
            }
        }
        String header = Files.readAllLines(seeds).get(0);
        String expected = "# " + c.runSettings() + " ";
        if (!header.startsWith(expected)) {
            throw new IllegalArgumentException("--resume: the runs in " + c.out + " were made with other settings.\n"
                    + "  there: " + header.substring(2) + "\n  now:   " + c.runSettings()
                    + "\nUse the same flags (--seeds and --lr-multipliers may differ) or another --out directory.");
        }
        Map<String, List<LmRun.Point>> points = new HashMap<>();
        for (Map<String, String> row : rows(curves)) {
            points.computeIfAbsent(key(Double.parseDouble(row.get("peak_lr")), row.get("strategy"),
                    Long.parseLong(row.get("seed"))), k -> new ArrayList<>()).add(new LmRun.Point(
                    Integer.parseInt(row.get("step")), number(row.get("lr")), number(row.get("train_loss")),
                    number(row.get("val_loss")), number(row.get("stalled_fraction")),
                    number(row.get("relative_update"))));
        }
        Map<String, LmRun.Result> runs = new HashMap<>();
        for (Map<String, String> row : rows(summary)) {
            double peakLr = Double.parseDouble(row.get("peak_lr"));
            PrecisionStrategy strategy = PrecisionStrategy.parse(row.get("strategy"));
            long seed = Long.parseLong(row.get("seed"));
            String key = key(peakLr, strategy.id(), seed);
            List<LmRun.Point> curve = points.get(key);
            if (curve == null) {
                throw new IllegalArgumentException("--resume: " + curves + " has no curve of the run " + key
                        + " listed in " + summary);
            }
            runs.put(key, new LmRun.Result(strategy, peakLr, seed, List.copyOf(curve), number(row.get("val_loss")),
                    number(row.get("tokens_per_s")), number(row.get("bytes_per_param")),
                    number(row.get("stalled_fraction")), -1, Long.parseLong(row.get("off_grid_weights")),
                    number(row.get("meter_ms_per_step")), number(row.get("training_seconds")),
                    Integer.parseInt(row.get("diverged_at_step")), null));
        }
        return new SweepResume(runs);
    }

    /** The earlier run of this strategy at this learning rate and seed, if recorded. */
    public Optional<LmRun.Result> run(PrecisionStrategy strategy, double peakLr, long seed) {
        return Optional.ofNullable(runs.get(key(peakLr, strategy.id(), seed)));
    }

    /**
     * How many runs of the sweep {@code c} are here. Runs are reused one by one, so a strategy added to a finished
     * sweep trains only its own runs; a group (one rate, one seed) may then mix runs of two sessions, which changes
     * nothing but the tokens/s column (runs are deterministic: the same settings give the same bits).
     */
    public int recordedRuns(LmConfig c) {
        int n = 0;
        for (double m : c.lrMultipliers) {
            for (int i = 0; i < c.seeds; i++) {
                for (PrecisionStrategy s : c.strategies) {
                    n += run(s, c.peakLr * m, c.seed + i).isPresent() ? 1 : 0;
                }
            }
        }
        return n;
    }

    public int size() {
        return runs.size();
    }

    private static String key(double peakLr, String strategy, long seed) {
        // peak rates are written with Double.toString and parsed back exactly
        return peakLr + "/" + strategy + "/" + seed;
    }

    private static List<Map<String, String>> rows(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        String[] names = lines.get(0).split(",", -1);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] values = line.split(",", -1);
            if (values.length != names.length) {
                throw new IllegalArgumentException("--resume: " + csv + ": " + values.length + " fields where the header"
                        + " has " + names.length + ": " + line);
            }
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < names.length; i++) {
                row.put(names[i], values[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    private static double number(String v) {
        return v.isEmpty() ? Double.NaN : Double.parseDouble(v);
    }
}
