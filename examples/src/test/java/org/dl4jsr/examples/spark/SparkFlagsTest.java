package org.dl4jsr.examples.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dl4jsr.examples.Cli;
import org.junit.jupiter.api.Test;

/** The Spark example's and benchmark's flags (parsed only: no Spark is started). */
class SparkFlagsTest {
    @Test
    void compressTakesTrueOrFalseOnly() {
        SparkAveragingBenchmark.Options o = new SparkAveragingBenchmark.Options();
        Cli.parse(o, "--rounds", "20", "--compress", "true", "--master", "local[2]");
        assertEquals(20, o.rounds);
        assertTrue(o.compress);
        assertEquals("local[2]", o.masterUrl);
        Cli.BadFlagException e = assertThrows(Cli.BadFlagException.class,
                () -> Cli.parse(new SparkAveragingBenchmark.Options(), "--compress", "yes"));
        assertTrue(e.getMessage().contains("--compress"), e.getMessage());
    }

    @Test
    void epochsMustBePositive() {
        Cli.BadFlagException e = assertThrows(Cli.BadFlagException.class,
                () -> Cli.parse(new SparkIris.Options(), "--epochs", "-1"));
        assertTrue(e.getMessage().contains("--epochs"), e.getMessage());
    }
}
