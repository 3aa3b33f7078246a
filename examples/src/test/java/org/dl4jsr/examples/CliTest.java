package org.dl4jsr.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shared command line: values that do not fit are refused with the flag's name, --help is generated. */
class CliTest {
    static final class Steps {
        @picocli.CommandLine.Option(names = "--steps", converter = Cli.Positive.class)
        int steps = 1;
    }

    @Test
    void epochsArgument() {
        Cli.Epochs e = new Cli.Epochs("quickstart", 300);
        assertFalse(Cli.parse(e));
        assertEquals(300, e.epochs);
        assertFalse(Cli.parse(e, "20"));
        assertEquals(20, e.epochs);
        for (String bad : new String[] {"1.5", "-3", "0", "ten"}) {
            Cli.BadFlagException x = assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new Cli.Epochs("q", 3), bad));
            assertTrue(x.getMessage().contains("EPOCHS") && x.getMessage().contains(bad), x.getMessage());
        }
        assertThrows(Cli.BadFlagException.class, () -> Cli.parse(new Cli.Epochs("q", 3), "--epochz", "3"));
        Steps twice = new Steps();
        Cli.parse(twice, "--steps", "5", "--steps", "7");
        assertEquals(7, twice.steps, "a flag given twice: the last value wins");
    }

    @Test
    void helpIsGenerated() {
        assertTrue(Cli.parse(new Cli.Epochs("quickstart", 300), "--help"));
        String usage = Cli.usage(new Cli.Epochs("quickstart", 300));
        assertTrue(usage.contains("quickstart") && usage.contains("EPOCHS") && usage.contains("default 300")
                && usage.contains("--help"), usage);
    }

    @Test
    void convertersRefuseWhatDoesNotFit() {
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.NonNegative().convert("-1"));
        assertEquals(0, new Cli.NonNegative().convert("0"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.PositiveReal().convert("NaN"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.PositiveReal().convert("0"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.Fraction().convert("1.5"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.StrictBoolean().convert("yes"));
        assertTrue(new Cli.StrictBoolean().convert("TRUE"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new Cli.PositiveLong().convert("1e6"));
    }
}
