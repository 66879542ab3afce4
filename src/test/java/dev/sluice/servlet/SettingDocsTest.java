package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's settings table and the Jetty module's ini files are rendered from {@link Setting}: each must hold
 * exactly what {@link SettingDocs} renders. On a difference the expected text is printed and written to
 * {@code target/expected-*}, ready to paste.
 */
class SettingDocsTest {

    static final String TABLE_START = "<!-- settings-table: rendered from dev.sluice.servlet.Setting;"
            + " SettingDocsTest fails when it differs -->\n";
    static final String TABLE_END = "<!-- /settings-table -->\n";

    @Test
    void theReadmeTableIsTheOneRenderedFromTheSettings() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf(TABLE_START);
        int end = readme.indexOf(TABLE_END);
        assertTrue(start >= 0 && end > start, "README.md lacks the markers " + TABLE_START + " and " + TABLE_END);
        assertEquals(-1, readme.indexOf(TABLE_START, start + 1), "README.md has two settings tables");
        assertSame("readme-settings-table.md", SettingDocs.readmeTable(),
                readme.substring(start + TABLE_START.length(), end));
    }

    @Test
    void theModulesIniTemplateIsTheOneRenderedFromTheSettings() throws IOException {
        String mod = Files.readString(Path.of("jetty-base/modules/sluice.mod"));
        String section = "\n[ini-template]\n";
        int start = mod.indexOf(section);
        assertTrue(start >= 0, "sluice.mod has no [ini-template]");
        assertSame("ini-template.txt", SettingDocs.iniTemplate(), mod.substring(start + section.length()));
    }

    @Test
    void theReadyBasesStartIniIsTheTemplateWithTheRootSet() throws IOException {
        assertSame("sluice.ini", SettingDocs.startIni(), Files.readString(Path.of("jetty-base/start.d/sluice.ini")));
    }

    @Test
    void theRenderedTextsShowTheDeclaredBoundsAndDefaults() {
        assertTrue(SettingDocs.readmeTable().contains("\n| `chunkSize` | `256KiB` | Largest chunk per file read and"
                + " write (chunks adapt from 16KiB up to it): 1KiB to 16MiB. Each download sizes"), SettingDocs.readmeTable());
        assertTrue(SettingDocs.readmeTable().contains("\n| `root` | (required) | Directory to serve."),
                SettingDocs.readmeTable());
        assertTrue(SettingDocs.readmeTable().contains("\n| `cacheControl` | (none) | `Cache-Control` value sent with"
                + " files and with 304s, e.g. `public, max-age=3600`; empty: none. |\n"), SettingDocs.readmeTable());
        assertTrue(SettingDocs.iniTemplate().contains("\n## Chunk buffers one download may hold (being read, ready,"
                + " being written): 1 to 64.\n# sluice.readAhead=2\n"), SettingDocs.iniTemplate());
        assertTrue(SettingDocs.iniTemplate().contains("\n## Cache-Control value sent with files and with 304s, e.g."
                + " 'public, max-age=3600'; empty: none.\n# sluice.cacheControl=\n"), SettingDocs.iniTemplate());
        assertTrue(SettingDocs.startIni().contains("\n## CHANGE THIS to the directory to serve.\nsluice.root=/srv/files\n"),
                SettingDocs.startIni());
    }

    private static void assertSame(String name, String expected, String actual) throws IOException {
        if (!expected.equals(actual)) {
            Path file = Path.of("target", "expected-" + name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, expected);
            System.out.println("Expected " + name + " (also in " + file + "):\n" + expected);
        }
        assertEquals(expected, actual, name + " is out of step with Setting; the expected text is in target/expected-"
                + name);
    }
}
