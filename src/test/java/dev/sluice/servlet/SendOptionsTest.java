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
        assertThrows(IllegalArgumentException.class, () -> new TransferRequest.RateLimit(-1, 0));
    }
}
