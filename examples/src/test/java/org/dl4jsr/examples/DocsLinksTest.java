package org.dl4jsr.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The documentation a reader follows must lead somewhere: every relative link in README.md, CHANGELOG.md and docs/*.md
 * names a file that exists (and, for a {@code #anchor}, a heading of that page), and every {@code exec:exec@ID} they
 * tell the reader to run is an execution of examples/pom.xml. Also no HTML comment outside code blocks: it renders as
 * nothing (or, when broken, as stray text).
 */
class DocsLinksTest {
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern INLINE_CODE = Pattern.compile("`[^`]*`");
    private static final Pattern EXEC_ID = Pattern.compile("exec:exec@([A-Za-z0-9_.-]+)");
    private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");

    /** The repository root: surefire runs in the examples module's directory. */
    private static Path repoRoot() {
        Path root = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("README.md")), "no README.md in " + root);
        return root;
    }

    private static List<Path> documents() throws IOException {
        Path root = repoRoot();
        List<Path> docs = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("CHANGELOG.md")));
        try (Stream<Path> pages = Files.list(root.resolve("docs"))) {
            pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    /** The lines of a markdown file outside fenced code blocks, with inline code removed. */
    private static List<String> prose(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(file)) {
            if (line.stripLeading().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            out.add(fenced ? "" : INLINE_CODE.matcher(line).replaceAll(""));
        }
        return out;
    }

    /** GitHub's anchors for the headings of a page: lower case, punctuation dropped, spaces to '-', -1, -2 for repeats. */
    static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.stripLeading().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            Matcher h = HEADING.matcher(line);
            if (fenced || !h.matches()) {
                continue;
            }
            String slug = slug(h.group(2));
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        return anchors;
    }

    static String slug(String heading) {
        String text = heading.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1").toLowerCase(Locale.ROOT);
        StringBuilder slug = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                slug.appendCodePoint(c);
            } else if (c == ' ') {
                slug.append('-');
            }
        });
        return slug.toString();
    }

    @Test
    void slugsFollowGithub() {
        assertTrue(slug("Cluster: a walk-through").equals("cluster-a-walk-through"));
        assertTrue(slug("Measured (LM)").equals("measured-lm"));
        assertTrue(slug("Gradient sharing: not supported").equals("gradient-sharing-not-supported"));
        assertTrue(slug("DL4J's `ParallelWrapper`").equals("dl4js-parallelwrapper"));
    }

    @Test
    void everyRelativeLinkResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path doc : documents()) {
            List<String> lines = prose(doc);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = LINK.matcher(lines.get(i));
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                        continue;   // https:, mailto: ...
                    }
                    checked++;
                    String where = repoRoot().relativize(doc) + ":" + (i + 1) + ": " + target;
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                    if (!Files.exists(resolved)) {
                        broken.add(where + " (no such file)");
                    } else if (hash >= 0) {
                        String anchor = target.substring(hash + 1);
                        if (!resolved.toString().endsWith(".md") || !anchors(resolved).contains(anchor)) {
                            broken.add(where + " (no heading with anchor #" + anchor + ")");
                        }
                    }
                }
            }
        }
        assertTrue(checked > 20, "found only " + checked + " relative links: is the link pattern still right?");
        assertTrue(broken.isEmpty(), "broken links:\n" + String.join("\n", broken));
    }

    @Test
    void everyExampleIdNamedInTheDocsExists() throws Exception {
        Set<String> defined = execIds(repoRoot().resolve("examples/pom.xml"));
        assertTrue(defined.contains("lm"), "examples/pom.xml defines " + defined);
        Set<String> missing = new TreeSet<>();
        int named = 0;
        for (Path doc : documents()) {
            Matcher m = EXEC_ID.matcher(Files.readString(doc));
            while (m.find()) {
                if (m.group(1).equals(m.group(1).toUpperCase(Locale.ROOT))) {
                    continue;   // a placeholder: exec:exec@ID
                }
                named++;
                if (!defined.contains(m.group(1))) {
                    missing.add(repoRoot().relativize(doc) + ": exec:exec@" + m.group(1));
                }
            }
        }
        assertTrue(named > 10, "found only " + named + " exec:exec@ commands in the docs");
        assertTrue(missing.isEmpty(), "not executions of exec-maven-plugin in examples/pom.xml (defined: "
                + defined + "):\n" + String.join("\n", missing));
    }

    @Test
    void noHtmlCommentsOutsideCode() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path doc : documents()) {
            List<String> lines = prose(doc);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains("<!--") || lines.get(i).contains("-->")) {
                    found.add(repoRoot().relativize(doc) + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertTrue(found.isEmpty(), "HTML comments in the docs (invisible or stray when rendered):\n"
                + String.join("\n", found));
    }

    /** The execution ids of exec-maven-plugin in a POM (main build and profiles). */
    private static Set<String> execIds(Path pom) throws Exception {
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        Set<String> ids = new TreeSet<>();
        NodeList plugins = doc.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element plugin = (Element) plugins.item(i);
            NodeList artifact = plugin.getElementsByTagName("artifactId");
            if (artifact.getLength() == 0 || !artifact.item(0).getTextContent().trim().equals("exec-maven-plugin")) {
                continue;
            }
            NodeList executions = plugin.getElementsByTagName("execution");
            for (int j = 0; j < executions.getLength(); j++) {
                NodeList id = ((Element) executions.item(j)).getElementsByTagName("id");
                if (id.getLength() > 0) {
                    ids.add(id.item(0).getTextContent().trim());
                }
            }
        }
        return ids;
    }
}
