package org.dl4jsr.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Successful plugin calls print no native error text and log nothing at ERROR level. libnd4j prints with printf to
 * file descriptor 1, which System.setOut cannot catch, so the calls run in a child JVM ({@link QuietCallsMain}) whose
 * standard output and error are captured whole. A control run tries a rejected op on purpose and must show the
 * error text, so a capture that sees nothing cannot pass the test.
 */
class QuietCallsTest {
    private static Process start(Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("-Dorg.nd4j.versioncheck=false");
        cmd.add(QuietCallsMain.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private static String finish(Process p, Path out, Path err) throws Exception {
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        String text = "--- stdout\n" + Files.readString(out, StandardCharsets.UTF_8) + "--- stderr\n"
                + Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    private static boolean hasErrorText(String text) {
        return text.contains("ERROR") || text.toLowerCase().contains("failed") || text.contains("Validation error");
    }

    @Test
    void successfulCallsPrintNoErrors(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out"), err = dir.resolve("err");
        Path controlOut = dir.resolve("cout"), controlErr = dir.resolve("cerr");
        Process quiet = start(out, err);
        Process control = start(controlOut, controlErr, "control");
        String text = finish(quiet, out, err);
        String controlText = finish(control, controlOut, controlErr);
        assertTrue(text.contains("QUIET-CALLS-DONE"), text);
        assertFalse(hasErrorText(text), "error text from successful plugin calls:\n" + text);
        assertTrue(controlText.contains("tried: false") && hasErrorText(controlText),
                "the control run should show libnd4j's error (else the capture proves nothing):\n" + controlText);
    }
}
