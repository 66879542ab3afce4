package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's settings table is what users read: it must list every setting with its real default. */
class ReadmeTest {

    @Test
    void theSettingsTableListsEverySettingWithItsDefault() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        for (Setting<?> setting : Setting.values()) {
            String expected = "| `" + setting.key() + "` | "
                    + (setting.defaultValue() == null ? "(required)"
                    : setting.defaultValue().isEmpty() ? "(none)" : "`" + setting.defaultValue() + "`") + " |";
            assertTrue(readme.contains(expected), "README lacks the row " + expected);
        }
    }

    @Test
    void ciRunsTheReadmesTestCommand() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String ci = Files.readString(Path.of(".ci/run"));
        assertTrue(readme.contains("\nmvn -B clean verify\n") && ci.contains("\nmvn -B clean verify\n"),
                "README and .ci/run disagree on the test command");
    }
}
