package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The declarations themselves: bounds rendered into help text, defaults that read back, types that parse. */
class SettingTest {

    @Test
    void helpTextStatesTheDeclaredBounds() {
        assertEquals("Largest chunk per file read and write (chunks adapt from 16KiB up to it): 1KiB to 16MiB.",
                Setting.CHUNK_SIZE.help());
        assertEquals("Chunk buffers one download may hold (being read, ready, being written): 1 to 64.",
                Setting.READ_AHEAD.help());
        assertEquals("Threads reading files: 1 to 1024, plus one for first reads of new downloads.",
                Setting.READ_THREADS.help());
        assertEquals("A download whose client accepts no byte for this long is ended: up to 24h (ms, s, m or h;"
                + " plain number: seconds).", Setting.STALL_TIMEOUT.help());
        assertEquals("Most ranges one request may ask for (1 to 1000); more are answered with the whole file (200).",
                Setting.MAX_RANGES.help());
        assertEquals("`direct`, `heap` or `mapped` chunk buffers (`mapped`: files longer than a chunk are sent from a"
                + " read-only mapping on Jetty, `direct` on Tomcat and over TLS; `heap` is forced on Servlet 6.0"
                + " containers).", Setting.BUFFER_KIND.help());
        assertEquals("Comma-separated codings (`br`, `gzip` or `zstd`), in order of preference, whose precompressed"
                + " files are served.", Setting.PRECOMPRESSED.help());
        for (Setting<?> setting : Setting.values()) {
            assertFalse(setting.help().contains("{range}") || setting.details().contains("{range}"), setting.key());
        }
    }

    @Test
    void everyChoiceIsNamedInItsHelp() {
        for (Setting<?> setting : Setting.values()) {
            if (setting.type() instanceof SettingType.OneOf<?> oneOf && !oneOf.choices().containsKey("true")) {
                for (String choice : oneOf.choices().keySet()) {
                    assertTrue(setting.help().contains("`" + choice + "`"), setting.key() + " lacks " + choice);
                }
            }
        }
    }

    @Test
    void theDescriptionIsTheHelpAsPlainText() {
        assertEquals("Cache-Control value sent with files and with 304s, e.g. 'public, max-age=3600'; empty: none.",
                Setting.CACHE_CONTROL.description());
        assertEquals("direct, heap or mapped chunk buffers (mapped: files longer than a chunk are sent from a"
                + " read-only mapping on Jetty, direct on Tomcat and over TLS; heap is forced on Servlet 6.0"
                + " containers).", Setting.BUFFER_KIND.description());
        for (Setting<?> setting : Setting.values()) {
            assertFalse(setting.description().contains("`"), setting.key());
        }
    }

    @Test
    void everyDefaultReadsBackAsTheDefaultAndOnlyTheRootHasNone() {
        for (Setting<?> setting : Setting.values()) {
            assertFalse(setting.help().isBlank(), setting.key());
            assertEquals(setting == Setting.ROOT, setting.defaultValue() == null, setting.key());
            if (setting != Setting.ROOT) {
                assertEquals(setting.read(null), setting.read(setting.defaultValue()), setting.key());
                assertEquals(setting.read(null), setting.read("  "), setting.key());
            }
        }
        assertEquals(List.of("256KiB", "2", "256MiB", "8", "60s", "mapped"), List.of(Setting.CHUNK_SIZE.defaultValue(),
                Setting.READ_AHEAD.defaultValue(), Setting.MAX_BUFFER_MEMORY.defaultValue(),
                Setting.READ_THREADS.defaultValue(), Setting.STALL_TIMEOUT.defaultValue(),
                Setting.BUFFER_KIND.defaultValue()));
    }

    @Test
    void keysAreUniqueAndFoundByName() {
        assertEquals(Setting.values().size(), Setting.values().stream().map(Setting::key).distinct().count());
        assertEquals(Setting.MAX_RANGES, Setting.byKey("maxRanges").orElseThrow());
        assertTrue(Setting.byKey("maxranges").isEmpty());
    }

    @Test
    void sizesAreWrittenInTheLargestExactBinaryUnit() {
        SettingType.Size size = new SettingType.Size(0, Long.MAX_VALUE / 2);
        Map<Long, String> forms = Map.of(0L, "0", 1000L, "1000", 1024L, "1KiB", 1536L, "1536", 262144L, "256KiB",
                16L << 20, "16MiB", 3L << 30, "3GiB", (1L << 30) + (1L << 20), "1025MiB");
        forms.forEach((bytes, text) -> {
            assertEquals(text, size.format(bytes));
            assertEquals(bytes, size.parse(text));
        });
        assertEquals("0 to 4611686018427387903", size.range());
    }

    @Test
    void durationsAreWrittenInHoursSecondsOrMilliseconds() {
        SettingType.Span span = new SettingType.Span(Duration.ofDays(1));
        Map<Duration, String> forms = Map.of(Duration.ofHours(2), "2h", Duration.ofSeconds(90), "90s",
                Duration.ofMillis(1500), "1500ms", Duration.ofDays(1), "24h");
        forms.forEach((duration, text) -> {
            assertEquals(text, span.format(duration));
            assertEquals(duration, span.parse(text));
        });
        assertEquals("up to 24h", span.range());
    }

    @Test
    void aRejectedValueIsReportedWithItsSettingAndWhatWasExpected() {
        assertEquals("Sluice setting 'readAhead' has invalid value '65': expected a whole number from 1 to 64",
                assertThrows(ConfigException.class, () -> Setting.READ_AHEAD.read(" 65 ")).getMessage());
        assertEquals("Sluice setting 'chunkSize' has invalid value '0': expected a size from 1KiB to 16MiB, in bytes"
                + " or with KiB, MiB or GiB, such as 65536, 64KiB or 1MiB", assertThrows(ConfigException.class,
                () -> Setting.CHUNK_SIZE.read("0")).getMessage());
        assertEquals("Sluice setting 'limitRate' has invalid value 'fast': expected a size in bytes or with KiB, MiB"
                + " or GiB, such as 65536, 64KiB or 1MiB", assertThrows(ConfigException.class,
                () -> Setting.LIMIT_RATE.read("fast")).getMessage());
        assertEquals("Sluice setting 'stallTimeout' has invalid value '25h': expected a positive duration up to 24h"
                + " such as 500ms, 60s, 5m or 1h", assertThrows(ConfigException.class,
                () -> Setting.STALL_TIMEOUT.read("25h")).getMessage());
        assertEquals("Sluice setting 'bufferKind' has invalid value 'mmap': expected one of direct, heap, mapped",
                assertThrows(ConfigException.class, () -> Setting.BUFFER_KIND.read("mmap")).getMessage());
        assertEquals("Sluice setting 'precompressed' has invalid value 'br, deflate': 'deflate' is not one of br,"
                + " gzip, zstd", assertThrows(ConfigException.class,
                () -> Setting.PRECOMPRESSED.read("br, deflate")).getMessage());
        assertEquals("Sluice setting 'welcomeFiles' has invalid value 'index.html,..': '..' is not a plain file name",
                assertThrows(ConfigException.class, () -> Setting.WELCOME_FILES.read("index.html,..")).getMessage());
        assertEquals("Sluice setting 'root' is empty: set it to the directory to serve",
                assertThrows(ConfigException.class, () -> Setting.ROOT.read(" ")).getMessage());
        assertEquals("Sluice setting 'root' is missing: set it to the directory to serve",
                assertThrows(ConfigException.class, () -> Setting.ROOT.read(null)).getMessage());
    }

    @Test
    void aNameMeantForSluiceUnderAMisspeltPrefixStopsStartUpWithTheNameMeant() {
        Map<String, String> meant = Map.of("sluise.limitRate", "sluice.limitRate", "Sluice.limitRate",
                "sluice.limitRate", "sluce.limtRate", "sluice.limitRate", "--sluice.limitRate", "sluice.limitRate",
                "slice.stallTimeout", "sluice.stallTimeout");
        meant.forEach((name, expected) -> {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> Setting.checkUnprefixed(name, "context init-param " + name), name);
            assertTrue(e.getMessage().contains("'" + name + "' (context init-param " + name + "): did you mean '"
                    + expected + "'?"), e.getMessage());
        });
    }

    @Test
    void aSettingsBareNameMayBeAnotherComponentsSoItIsOnlyWarnedOf() {
        assertEquals(java.util.Optional.of("Sluice does not read 'limitRate' (context init-param limitRate): if it is"
                + " meant for Sluice, name it 'sluice.limitRate'."),
                Setting.checkUnprefixed("limitRate", "context init-param limitRate"));
        assertEquals("Sluice does not read '--root' (property --root on the command line): if it is meant for Sluice,"
                + " name it 'sluice.root'.", Setting.checkUnprefixed("--root", "property --root on the command line")
                .orElseThrow());
        for (String other : List.of("sluice.limitRate", "jetty.http.port", "org.apache.catalina.x", "--module",
                "juice.limitRate", "javax.servlet.context.tempdir", "limitRates", "contextConfigLocation",
                "jetty.base", "STOP.PORT", "java.base/java.nio")) {
            assertEquals(java.util.Optional.empty(), Setting.checkUnprefixed(other, "somewhere"), other);
        }
    }
}
