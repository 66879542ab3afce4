package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A file's type: the setting's override, else the container's map, else Sluice's own table; and its charset. */
class MediaTypesTest {

    /** The container's map as Jetty's has it: none of these. */
    private static String jetty(String name) {
        return name.endsWith(".ogg") ? "application/ogg" : null;
    }

    @ParameterizedTest
    @CsvSource({
        "clip.webm, video/webm",
        "movie.MKV, video/x-matroska",
        "live/index.m3u8, application/vnd.apple.mpegurl",
        "seg-001.ts, video/mp2t",
        "subs.vtt, text/vtt",
        "song.flac, audio/flac",
        "backup.7z, application/x-7z-compressed",
        "pkg_1.0_amd64.deb, application/vnd.debian.binary-package",
        "data.parquet, application/vnd.apache.parquet",
        "photo.jxl, image/jxl",
        "song.ogg, application/ogg",
    })
    void aTypeTheContainerLacksComesFromTheTable(String name, String type) {
        assertEquals(type, MediaTypes.builtIn().of(name, MediaTypesTest::jetty));
    }

    /** Active content is no longer sent as octet-stream by a container that lacks a type: the table has none. */
    @Test
    void theTableNamesNoTypeABrowserWouldRunOrRender() {
        for (String name : List.of("a.html", "a.htm", "a.xhtml", "a.js", "a.mjs", "a.css", "a.svg", "a.svgz", "a.xml",
                "a.xsl", "a.atom", "a.rss", "a.mpd")) {
            assertNull(MediaTypes.builtIn().of(name, n -> null), name);
        }
    }

    @Test
    void anUnknownExtensionOrNoneHasNoType() {
        assertNull(MediaTypes.builtIn().of("core.dump0", n -> null));
        assertNull(MediaTypes.builtIn().of("README", n -> null));
        assertNull(MediaTypes.builtIn().of("trailing.", n -> null));
        assertNull(MediaTypes.builtIn().of("dir.d/file", n -> null), "the dot is the directory's");
    }

    @Test
    void theSettingWinsOverTheContainerAndTheContainerOverTheTable() {
        MediaTypes types = new MediaTypes(Map.of("LOG", "Text/Plain", "webm", "audio/webm"));
        assertEquals(Map.of("log", "text/plain", "webm", "audio/webm"), types.overrides(), "lower case");
        assertEquals("text/plain", types.of("app.Log", n -> "application/octet-stream"));
        assertEquals("audio/webm", types.of("a.webm", n -> "video/webm"));
        assertEquals("video/x-custom", types.of("a.mkv", n -> "video/x-custom"), "the container's, not the table's");
    }

    @Test
    void aBadPairIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MediaTypes(Map.of(".log", "text/plain")));
        assertThrows(IllegalArgumentException.class, () -> new MediaTypes(Map.of("log", "text")));
        assertThrows(IllegalArgumentException.class, () -> new MediaTypes(Map.of("log", "text/plain; charset=x")));
    }

    @ParameterizedTest
    @CsvSource({
        "text/plain, a.txt, text/plain;charset=utf-8",
        "application/json, a.json, application/json;charset=utf-8",
        "application/xml, a.xml, application/xml;charset=utf-8",
        "application/xhtml+xml, a.xhtml, application/xhtml+xml;charset=utf-8",
        "application/atom+xml, a.atom, application/atom+xml;charset=utf-8",
        "image/svg+xml, a.svg, image/svg+xml;charset=utf-8",
        "image/svg+xml, a.svgz, image/svg+xml",
        "text/html;charset=iso-8859-1, a.html, text/html;charset=iso-8859-1",
        "video/webm, a.webm, video/webm",
        "application/vnd.apple.mpegurl, a.m3u8, application/vnd.apple.mpegurl",
        "text/plain, README, text/plain;charset=utf-8",
    })
    void textTypesAnnounceTheCharsetButCompressedOnesDoNot(String type, String name, String expected) {
        assertEquals(expected, MediaTypes.withCharset(type, name, "utf-8"));
        assertEquals(type, MediaTypes.withCharset(type, name, null));
    }
}
