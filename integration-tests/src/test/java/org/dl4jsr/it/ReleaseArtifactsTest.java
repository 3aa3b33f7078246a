package org.dl4jsr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import javax.xml.parsers.DocumentBuilderFactory;
import org.dl4jsr.Bf16Training;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * What a user (and Maven Central) needs from the published library, checked on the jar this build produced and on the
 * POM it inherits: the license inside the jar, a stable module name, and the metadata a company checks before taking
 * a dependency. The release profile ({@code mvn -Prelease -DskipTests verify}) checks the -sources and -javadoc jars
 * exist; this test runs in every {@code mvn verify}.
 */
class ReleaseArtifactsTest {

    /** The repository root: surefire runs in the module's directory, one level below it. */
    private static Path repoRoot() {
        Path root = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "no pom.xml in " + root);
        return root;
    }

    /** The plugin's jar on this test's class path (Maven puts the packaged jar there from the package phase on). */
    private static Path pluginJar() throws Exception {
        Path location = Path.of(Bf16Training.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assumeTrue(Files.isRegularFile(location),
                "the plugin is on the class path as " + location + ", not as a jar: run `mvn verify` (package phase)");
        return location;
    }

    @Test
    void licenseFileIsApache2() throws Exception {
        String license = Files.readString(repoRoot().resolve("LICENSE"));
        assertTrue(license.contains("Apache License") && license.contains("Version 2.0, January 2004"),
                "LICENSE must hold the Apache License 2.0 text");
        assertTrue(license.contains("END OF TERMS AND CONDITIONS"), "LICENSE is truncated");
    }

    @Test
    void jarCarriesLicenseAndModuleName() throws Exception {
        String license = Files.readString(repoRoot().resolve("LICENSE"));
        try (JarFile jar = new JarFile(pluginJar().toFile())) {
            var entry = jar.getJarEntry("META-INF/LICENSE");
            assertNotNull(entry, "META-INF/LICENSE missing from " + jar.getName());
            try (InputStream in = jar.getInputStream(entry)) {
                assertEquals(license, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                        "META-INF/LICENSE differs from the repository's LICENSE");
            }
            Manifest manifest = jar.getManifest();
            assertNotNull(manifest, "no manifest in " + jar.getName());
            assertEquals("org.dl4jsr", manifest.getMainAttributes().getValue("Automatic-Module-Name"));
            assertNotNull(manifest.getMainAttributes().getValue("Implementation-Version"));
        }
    }

    @Test
    void parentPomDeclaresWhatCentralRequires() throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        Document pom = factory.newDocumentBuilder().parse(repoRoot().resolve("pom.xml").toFile());
        Element project = pom.getDocumentElement();
        for (String required : new String[] {"name", "description", "url"}) {
            assertFalse(text(project, required).isBlank(), "root pom.xml: <" + required + "> missing");
        }
        assertEquals("Apache-2.0", text(child(child(project, "licenses"), "license"), "name"));
        assertFalse(text(child(project, "scm"), "url").isBlank(), "root pom.xml: <scm><url> missing");
        assertFalse(text(child(project, "scm"), "connection").isBlank(), "root pom.xml: <scm><connection> missing");
        assertFalse(text(child(child(project, "developers"), "developer"), "name").isBlank(),
                "root pom.xml: <developers> missing");
        String version = text(project, "version");
        assertTrue(version.startsWith("0.1.0"), "version " + version + " (CHANGELOG.md's first entry is 0.1.0)");
        assertTrue(Files.readString(repoRoot().resolve("CHANGELOG.md")).contains("## [0.1.0]"),
                "CHANGELOG.md has no entry for 0.1.0");
    }

    /** The direct child element of that name. */
    private static Element child(Element parent, String name) {
        for (var n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("<" + parent.getTagName() + "> has no <" + name + ">");
    }

    private static String text(Element parent, String name) {
        return child(parent, name).getTextContent().trim();
    }
}
