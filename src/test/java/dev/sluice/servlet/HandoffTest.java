package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.TransferRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading a hand-off's options from response headers and request attributes; the path checks are FileResolver's. */
class HandoffTest {

    private static final EngineSettings ENGINE = EngineSettings.defaults().withLimitRate(2 << 20, 8 << 20);
    private static final Path INTERNAL = Path.of("/srv/internal");

    private static Handoff headers(String... pairs) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < pairs.length; i += 2) {
            headers.put(pairs[i], pairs[i + 1]);
        }
        return Handoff.fromHeaders(headers, ENGINE);
    }

    private static Handoff attributes(Object... pairs) {
        FakeExchange exchange = new FakeExchange();
        for (int i = 0; i < pairs.length; i += 2) {
            exchange.attributes.put((String) pairs[i], pairs[i + 1]);
        }
        return Handoff.fromAttributes(exchange.request(), INTERNAL, ENGINE);
    }

    private static String headerError(String... pairs) {
        return assertThrows(IllegalArgumentException.class, () -> headers(pairs)).getMessage();
    }

    @Test
    void theFileHeaderIsTheRawPathForTheResolverAndEveryOptionIsRead() {
        Handoff handoff = headers("X-Sluice-File", "reports/Q1%202024.pdf",
                "x-sluice-filename", "r%C3%A9sum%C3%A9+1.pdf",
                "X-Sluice-Content-Type", "application/pdf", "X-Sluice-Cache-Control", "private, max-age=60",
                "X-Sluice-Limit-Rate", "1MiB", "X-Sluice-User-Key", "alice", "X-Sluice-Precompressed", "TRUE");
        assertEquals("reports/Q1%202024.pdf", handoff.rawPath(), "decoded once, by the resolver");
        SendOptions options = handoff.options();
        assertEquals("r\u00e9sum\u00e9+1.pdf", options.filename(), "percent-decoded once, + kept");
        assertEquals("application/pdf", options.contentType());
        assertEquals("private, max-age=60", options.cacheControl());
        assertEquals(new TransferRequest.RateLimit(1 << 20, 8 << 20), options.rate(), "limitRateAfter from settings");
        assertEquals("alice", options.userKey());
        assertTrue(options.precompressed());
    }

    @Test
    void withoutRateOptionsTheSettingsApply() {
        SendOptions options = headers("X-Sluice-File", "a.bin").options();
        assertNull(options.rate());
        assertNull(options.filename());
        assertFalse(options.precompressed());
        assertEquals(new TransferRequest.RateLimit(2 << 20, 65536),
                headers("X-Sluice-File", "a.bin", "X-Sluice-Limit-Rate-After", "64KiB").options().rate());
        assertEquals(new TransferRequest.RateLimit(1048576, 0),
                headers("X-Sluice-File", "a.bin", "X-Sluice-Limit-Rate", "1048576", "X-Sluice-Limit-Rate-After", "0")
                        .options().rate());
        assertNull(headers("X-Sluice-File", "a.bin", "X-Sluice-Limit-Rate", "").options().rate(),
                "empty, as an empty setting: the settings apply");
        assertNull(attributes("dev.sluice.file", "a.bin", "dev.sluice.limitRate", " ").options().rate());
        assertEquals(new TransferRequest.RateLimit(2 << 20, 0), attributes("dev.sluice.file", "a.bin",
                "dev.sluice.limitRate", "", "dev.sluice.limitRateAfter", 0).options().rate());
        SendOptions empty = headers("X-Sluice-File", "a.bin", "X-Sluice-Content-Type", "",
                "X-Sluice-Precompressed", " ").options();
        assertNull(empty.contentType(), "empty: the type by the file's name");
        assertFalse(empty.precompressed(), "empty: the default, false");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "X-Sluice-Limit-Rate|fast|expected a size",
        "X-Sluice-Limit-Rate|-1|expected a size",
        "X-Sluice-Limit-Rate-After|1TB|expected a size",
        "X-Sluice-Content-Type|text|media type",
        "X-Sluice-Precompressed|yes|true or false",
        "X-Sluice-Fiel|a.bin|unknown hand-off option",
    })
    void badHeaderValuesAreRefusedNamingTheHeader(String header, String value, String expected) {
        String message = headerError("X-Sluice-File", "a.bin", header, value);
        assertTrue(message.contains(expected), message);
        assertTrue(message.contains(header), message);
    }

    @Test
    void valuesThatWouldSplitTheHeadAreRefusedAndNeverLoggedRaw() {
        for (String[] bad : new String[][] {
            {"X-Sluice-Content-Type", "text/html\r\nSet-Cookie: a=b"},
            {"X-Sluice-Cache-Control", "no-store\nX-Injected: 1"},
            {"X-Sluice-Limit-Rate", "1\r\nX-Injected: 1"},
        }) {
            String message = headerError("X-Sluice-File", "a.bin", bad[0], bad[1]);
            assertTrue(message.contains(bad[0]), message);
            assertFalse(message.contains("\r") || message.contains("\n"), "a message is one log line: " + message);
        }
    }

    @Test
    void attributesTakeJavaValues() {
        Handoff handoff = attributes("dev.sluice.file", Path.of("reports", "Q1 100%.pdf"), "dev.sluice.limitRate",
                65536, "dev.sluice.limitRateAfter", 1L << 20, "dev.sluice.userKey", 42L, "dev.sluice.precompressed",
                Boolean.TRUE, "dev.sluice.filename", "100% r\u00e9sum\u00e9.pdf");
        assertEquals("reports/Q1%20100%25.pdf", handoff.rawPath(), "names encoded so that decoding gives them back");
        assertEquals(new TransferRequest.RateLimit(65536, 1 << 20), handoff.options().rate());
        assertEquals(42L, handoff.options().userKey());
        assertTrue(handoff.options().precompressed());
        assertEquals("100% r\u00e9sum\u00e9.pdf", handoff.options().filename(), "attributes are not decoded");
        assertEquals("a%252Fb/..%5Cc", attributes("dev.sluice.file", "a%2Fb/..\\c").rawPath(),
                "a String is a plain path: its % and \\ are encoded, so the resolver sees no escape");
        assertEquals("../x", attributes("dev.sluice.file", "../x").rawPath(), "the resolver refuses the dot segment");
    }

    @Test
    void anAbsolutePathAttributeMustBeUnderTheInternalRoot() {
        assertEquals("a/b.pdf", attributes("dev.sluice.file", INTERNAL.resolve("a/b.pdf")).rawPath());
        Handoff outside = attributes("dev.sluice.file", Path.of("/etc/passwd"));
        assertNull(outside.rawPath());
        assertTrue(outside.refusal().contains("outside internalRoot"), outside.refusal());
        assertEquals("../../etc/passwd", attributes("dev.sluice.file", INTERNAL.resolve("../../etc/passwd")).rawPath(),
                "lexically under the root: the resolver refuses the dot segments");
    }

    @Test
    void badAttributesAreRefusedNamingTheAttribute() {
        for (Object[] bad : new Object[][] {
            {"dev.sluice.file", 42},
            {"dev.sluice.limitRate", 1.5},
            {"dev.sluice.limitRate", -1},
            {"dev.sluice.filename", new StringBuilder("a")},
            {"dev.sluice.precompressed", 1},
            {"dev.sluice.limitRat", "1MiB"},
        }) {
            String message = assertThrows(IllegalArgumentException.class, () -> attributes("dev.sluice.file", "a.bin",
                    bad[0], bad[1])).getMessage();
            assertTrue(message.contains((String) bad[0]), message);
        }
        String message = assertThrows(IllegalArgumentException.class, () -> attributes("dev.sluice.filename", "a"))
                .getMessage();
        assertTrue(message.contains("dev.sluice.file is missing"), message);
    }

    @Test
    void sluicesOwnAttributesAreNotTakenForMisspeltOptions() {
        assertEquals("a.bin", attributes("dev.sluice.file", "a.bin", SluiceSender.CUT_OFF, "x",
                "dev.sluice.servlet.Other.thing", 1).rawPath());
    }

    @Test
    void percentDecodingIsStrictAndOnce() {
        assertEquals("a b+c%2e", Handoff.percentDecode("a%20b+c%252e"));
        assertEquals("\u00e9\u00e9", Handoff.percentDecode("%C3%A9\u00e9"));
        assertThrows(IllegalArgumentException.class, () -> Handoff.percentDecode("%2"));
        assertThrows(IllegalArgumentException.class, () -> Handoff.percentDecode("%ff"));
        // a filename is only shown: one that is no escaped UTF-8 is the name as it is
        assertEquals("100% done.pdf", Handoff.decodeFilename("100% done.pdf"));
        assertEquals("50%ff off.txt", Handoff.decodeFilename("50%ff off.txt"));
        assertEquals("%C0%AE", Handoff.decodeFilename("%C0%AE"));
        assertEquals("%\u0663\u0663", Handoff.decodeFilename("%\u0663\u0663"));
        assertEquals("\u00e9t\u00e9 1.pdf", Handoff.decodeFilename("%C3%A9t%C3%A9%201.pdf"));
    }

    @Test
    void logTextEscapesWhatCouldForgeALine() {
        assertEquals("'a\\u000d\\u000aWARNING: x\\u00e9\\u0027'", LogText.quote("a\r\nWARNING: x\u00e9'"));
        assertEquals(LogText.MAX + 5, LogText.quote("x".repeat(10_000)).length());
        assertEquals("null", LogText.quote(null));
    }
}
