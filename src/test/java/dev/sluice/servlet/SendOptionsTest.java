package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.stream.TransferRequest;
import org.junit.jupiter.api.Test;

class SendOptionsTest {

    @Test
    void eachWitherChangesOnePart() {
        TransferRequest.RateLimit rate = new TransferRequest.RateLimit(1 << 20, 4 << 20);
        SendOptions options = SendOptions.defaults().withFilename("a.pdf").withContentType("application/pdf")
                .withCacheControl("no-store").withRate(rate).withUserKey("alice").withPrecompressed(true);
        assertEquals(new SendOptions("a.pdf", "application/pdf", "no-store", rate, "alice", true), options);
        assertEquals(new SendOptions(null, null, null, null, null, false), SendOptions.defaults());
        assertEquals("text/csv; charset=utf-8", SendOptions.defaults().withContentType("text/csv; charset=utf-8")
                .contentType());
    }

    @Test
    void valuesThatWouldBreakTheHeadAreRefused() {
        for (String type : new String[] {"", "text", "text/", "text/html\r\nX: 1", "te xt/html", "text/html;\n"}) {
            assertThrows(IllegalArgumentException.class, () -> SendOptions.defaults().withContentType(type), type);
        }
        assertThrows(IllegalArgumentException.class, () -> SendOptions.defaults().withCacheControl("a\r\nb"));
    }

    /** Tomcat drops such a header without a word and Jetty mangles it: refused where the caller can see it. */
    @Test
    void valuesBeyondVisibleAsciiAreRefused() {
        for (String value : new String[] {"max-age=1, x=\u2028", "private, \u00e9", "x=\u0085", "x=\u007f"}) {
            assertThrows(IllegalArgumentException.class, () -> SendOptions.defaults().withCacheControl(value), value);
            assertThrows(IllegalArgumentException.class,
                    () -> SendOptions.defaults().withContentType("text/plain;" + value), value);
        }
        assertEquals("private,\tmax-age=5", SendOptions.defaults().withCacheControl("private,\tmax-age=5")
                .cacheControl(), "a tab is allowed");
        assertEquals("text/plain; x=\"a b\"", SendOptions.defaults().withContentType("text/plain; x=\"a b\"")
                .contentType());
        assertThrows(IllegalArgumentException.class, () -> new TransferRequest.RateLimit(-1, 0));
    }
}
