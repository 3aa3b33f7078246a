package org.dl4jsr.examples;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The command line of every example and benchmark (picocli): each one declares its flags as {@code @Option} fields of
 * an options object, and this class parses them. A value that does not fit its flag ({@code --seed 1.5}, a negative
 * size, an unknown strategy) is refused with the flag's name; {@code --help} prints the generated usage.
 */
public final class Cli {
    private Cli() {
    }

    /**
     * Fills the {@code @Option}/{@code @Parameters} fields of {@code options} from {@code args}.
     *
     * @return true if the flags ask for the usage text ({@code --help}): the caller prints it and stops
     * @throws BadFlagException for an unknown flag or a value that does not fit its flag (the message names it)
     */
    public static boolean parse(Object options, String... args) {
        CommandLine cli = command(options);
        try {
            cli.parseArgs(args);
        } catch (ParameterException e) {
            throw new BadFlagException(e.getMessage(), e);
        }
        return cli.isUsageHelpRequested();
    }

    /** A flag the command line cannot take; the message names it (picocli's wording). */
    public static final class BadFlagException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        BadFlagException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Flags and values separated by a space ({@code --seeds 3}), as the examples always wrote them. */
    private static CommandLine command(Object options) {
        CommandLine cli = new CommandLine(options);
        cli.setSeparator(" ");
        cli.setOverwrittenOptionsAllowed(true); // a flag given twice: the last value wins, as before
        if (options instanceof Epochs e) {
            cli.setCommandName(e.name);
        }
        return cli;
    }

    /** The command line of the small examples: an optional number of epochs, and {@code --help}. */
    @Command(mixinStandardHelpOptions = true)
    public static final class Epochs {
        private final String name;
        @Parameters(index = "0", arity = "0..1", paramLabel = "EPOCHS", converter = Positive.class,
                description = "training epochs (default ${DEFAULT-VALUE})")
        public int epochs;

        public Epochs(String name, int defaultEpochs) {
            this.name = name;
            this.epochs = defaultEpochs;
        }
    }

    /**
     * For {@code main}: parses, prints the usage on {@code --help} (standard output) and returns false; prints the
     * error and the usage on standard error and exits with code 2 for bad flags. True: go on with the options.
     */
    public static boolean parseOrExit(Object options, String... args) {
        CommandLine cli = command(options);
        try {
            cli.parseArgs(args);
        } catch (ParameterException e) {
            PrintWriter err = cli.getErr();
            err.println("Error: " + e.getMessage());
            cli.usage(err);
            err.flush();
            System.exit(2);
        }
        if (cli.isUsageHelpRequested()) {
            cli.usage(System.out);
            return false;
        }
        return true;
    }

    /** The usage text of an options object (what {@code --help} prints). */
    public static String usage(Object options) {
        return command(options).getUsageMessage();
    }

    /** A whole number of at least 1 (sizes, counts, repetitions). */
    public static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = integer(value);
            if (n < 1) {
                throw new TypeConversionException("must be at least 1, got " + n);
            }
            return n;
        }
    }

    /** A whole number of at least 0. */
    public static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = integer(value);
            if (n < 0) {
                throw new TypeConversionException("must be at least 0, got " + n);
            }
            return n;
        }
    }

    /** A whole number (long) of at least 1, e.g. a parameter count. */
    public static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long n;
            try {
                n = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a whole number");
            }
            if (n < 1) {
                throw new TypeConversionException("must be at least 1, got " + n);
            }
            return n;
        }
    }

    /** A finite number greater than 0 (learning rates, multipliers). */
    public static final class PositiveReal implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double d = real(value);
            if (!(d > 0 && Double.isFinite(d))) {
                throw new TypeConversionException("must be a finite number > 0, got " + value);
            }
            return d;
        }
    }

    /** A finite number of at least 0. */
    public static final class NonNegativeReal implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double d = real(value);
            if (!(d >= 0 && Double.isFinite(d))) {
                throw new TypeConversionException("must be a finite number >= 0, got " + value);
            }
            return d;
        }
    }

    /** A number in [0, 1]. */
    public static final class Fraction implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double d = real(value);
            if (!(d >= 0 && d <= 1)) {
                throw new TypeConversionException("must be in [0, 1], got " + value);
            }
            return d;
        }
    }

    /** {@code true} or {@code false}, nothing else (picocli's own converter reads any other word as false). */
    public static final class StrictBoolean implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new TypeConversionException("must be true or false, got '" + value + "'");
            };
        }
    }

    private static int integer(String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a whole number");
        }
    }

    private static double real(String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a number");
        }
    }
}
