package org.dl4jsr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package structure README's architecture section describes, read from the plugin's sources: package
 * dependencies (imports and fully qualified names) form no cycle, and no package below the user API imports it.
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\b(org\\.dl4jsr(?:\\.[a-z]\\w*)*)\\.[A-Z]\\w*");

    /** package -> packages of org.dl4jsr it refers to. */
    private static Map<String, Set<String>> dependencies() {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String text = code(Files.readString(f));
                Matcher pm = PACKAGE.matcher(text);
                assertTrue(pm.find(), f + " has no package");
                String pkg = pm.group(1);
                Set<String> out = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(text.substring(pm.end()));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        out.add(m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return deps;
    }

    /** The source without comments and string literals (a class named in a message is not a dependency). */
    private static String code(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "")
                .replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"");
    }

    @Test
    void packagesFormNoCycle() {
        Map<String, Set<String>> deps = dependencies();
        assertTrue(deps.keySet().containsAll(List.of("org.dl4jsr", "org.dl4jsr.rounding", "org.dl4jsr.kernel",
                "org.dl4jsr.network", "org.dl4jsr.training")), "packages found: " + deps.keySet());
        List<String> cycles = new ArrayList<>();
        for (String start : deps.keySet()) {
            findCycle(start, start, deps, new ArrayList<>(List.of(start)), new TreeSet<>(), cycles);
        }
        assertEquals(List.of(), cycles, "package cycles");
    }

    private static void findCycle(String start, String at, Map<String, Set<String>> deps, List<String> path,
                                  Set<String> seen, List<String> cycles) {
        for (String next : deps.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                cycles.add(String.join(" -> ", path) + " -> " + start);
            } else if (seen.add(next)) {
                path.add(next);
                findCycle(start, next, deps, path, seen, cycles);
                path.remove(path.size() - 1);
            }
        }
    }

    @Test
    void theEngineNeverDependsOnTheUserApi() {
        Map<String, Set<String>> deps = dependencies();
        for (String lower : List.of("org.dl4jsr.rounding", "org.dl4jsr.kernel", "org.dl4jsr.network",
                "org.dl4jsr.training")) {
            assertTrue(!deps.get(lower).contains("org.dl4jsr"), lower + " imports the user API: " + deps.get(lower));
        }
        assertEquals(Set.of(), deps.get("org.dl4jsr.rounding"), "rounding depends on nothing of the plugin");
    }

    private static final String API = "org.dl4jsr";
    private static final List<String> ENGINE = List.of("org.dl4jsr.rounding", "org.dl4jsr.kernel",
            "org.dl4jsr.network", "org.dl4jsr.training");

    /** The architecture table (docs): each package and the plugin packages it may use. */
    private static Map<String, Set<String>> allowedDependencies() {
        Map<String, Set<String>> allowed = new TreeMap<>();
        allowed.put("org.dl4jsr.rounding", Set.of());
        allowed.put("org.dl4jsr.kernel", Set.of("org.dl4jsr.rounding"));
        allowed.put("org.dl4jsr.network", Set.of());
        allowed.put("org.dl4jsr.training", Set.of("org.dl4jsr.network", "org.dl4jsr.kernel", "org.dl4jsr.rounding"));
        allowed.put(API, new TreeSet<>(ENGINE));
        Set<String> apiAndEngine = new TreeSet<>(ENGINE);
        apiAndEngine.add(API);
        allowed.put("org.dl4jsr.convert", apiAndEngine);
        allowed.put("org.dl4jsr.diagnostics", apiAndEngine);
        Set<String> checkpoint = new TreeSet<>(apiAndEngine);
        checkpoint.add("org.dl4jsr.convert"); // a checkpoint restores through the converter's state carrying
        allowed.put("org.dl4jsr.checkpoint", checkpoint);
        allowed.put("org.dl4jsr.averaging", new TreeSet<>(ENGINE)); // the rule and the wire format: no user API
        Set<String> onAveraging = new TreeSet<>(apiAndEngine);
        onAveraging.add("org.dl4jsr.averaging");
        allowed.put("org.dl4jsr.spark", onAveraging);
        allowed.put("org.dl4jsr.parallel", onAveraging); // never spark: ParallelWrapper runs without Spark
        return allowed;
    }

    @Test
    void everyPackageUsesOnlyWhatTheArchitectureTableAllows() {
        Map<String, Set<String>> allowed = allowedDependencies();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : dependencies().entrySet()) {
            Set<String> permitted = allowed.get(e.getKey());
            if (permitted == null) {
                problems.add(e.getKey() + " is not in the architecture table");
                continue;
            }
            for (String used : e.getValue()) {
                if (!permitted.contains(used)) {
                    problems.add(e.getKey() + " uses " + used);
                }
            }
        }
        assertEquals(List.of(), problems, "dependencies the architecture table does not list (change the code, or"
                + " the table here and in the docs)");
    }
}
