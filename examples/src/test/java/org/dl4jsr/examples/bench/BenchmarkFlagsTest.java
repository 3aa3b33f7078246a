package org.dl4jsr.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.examples.Cli;
import org.junit.jupiter.api.Test;

/** The benchmarks' flags: the old names still work, bad sizes are refused with the flag's name. */
class BenchmarkFlagsTest {
    @Test
    void updateStepFlags() {
        UpdateStepBenchmark.Options o = new UpdateStepBenchmark.Options();
        Cli.parse(o, "--sizes", "1000,2000", "--reps", "3", "--threads", "1");
        assertArrayEquals(new long[] {1000, 2000}, o.sizes);
        assertEquals(3, o.reps);
        assertEquals(1, o.threads);
        UpdateStepBenchmark.Options defaults = new UpdateStepBenchmark.Options();
        Cli.parse(defaults);
        assertArrayEquals(new long[] {1_000_000, 10_000_000, 50_000_000}, defaults.sizes);
    }

    @Test
    void negativeSizesAndBadCountsAreRefusedByName() {
        Cli.BadFlagException e = assertThrows(Cli.BadFlagException.class,
                () -> Cli.parse(new UpdateStepBenchmark.Options(), "--sizes", "1000,-5"));
        assertTrue(e.getMessage().contains("--sizes") && e.getMessage().contains("at least 1"), e.getMessage());
        e = assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new StagnationMeterBenchmark.Options(), "--reps", "0"));
        assertTrue(e.getMessage().contains("--reps"), e.getMessage());
        e = assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new MatmulBenchmark.Options(), "--sizes", "256,x"));
        assertTrue(e.getMessage().contains("--sizes") && e.getMessage().contains("'x'"), e.getMessage());
        e = assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new SoakRun.Options(), "--steps", "1.5"));
        assertTrue(e.getMessage().contains("--steps"), e.getMessage());
        e = assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new SoakRun.Options(), "--stepz", "10"));
        assertTrue(e.getMessage().contains("--stepz"), e.getMessage());
    }

    @Test
    void helpListsTheFlags() {
        String usage = Cli.usage(new MatmulBenchmark.Options());
        assertTrue(usage.contains("--sizes N[,N...]") && usage.contains("--reps R") && usage.contains("--help"), usage);
    }
}
