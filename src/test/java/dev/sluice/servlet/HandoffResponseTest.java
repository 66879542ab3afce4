package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What of the application's response reaches the real one, before and after it asks for a hand-off. */
class HandoffResponseTest {

    private final FakeExchange real = new FakeExchange();
    private final HandoffResponse app = new HandoffResponse(real.request(), real.response());

    @Test
    void sluiceHeadersNeverReachTheRealResponseWhateverTheirCase() throws IOException {
        app.setHeader("X-Sluice-Limit-Rate", "1MiB");
        app.addHeader("x-sluice-user-key", "alice");
        app.setIntHeader("X-SLUICE-Limit-Rate-After", 5);
        app.setHeader("X-Other", "passes");
        assertEquals(List.of("setHeader X-Other"), real.calls);
        assertEquals("1MiB", app.getHeader("x-sluice-limit-rate"));
        assertEquals("5", app.options().get("X-Sluice-Limit-Rate-After"));
        assertTrue(app.containsHeader("X-Sluice-User-Key"));
        assertFalse(app.handoffRequested(), "no X-Sluice-File: no hand-off");
        app.setHeader("X-Sluice-", "even the bare prefix");
        assertEquals(List.of("setHeader X-Other"), real.calls);
    }

    /** Two header lines for one option (addHeader twice, other values) are ambiguous; setHeader replaces. */
    @Test
    void anOptionAddedTwiceWithAnotherValueIsNamed() {
        app.setHeader("X-Sluice-File", "a.bin");
        app.setHeader("X-Sluice-File", "b.bin");
        app.addHeader("X-Sluice-Limit-Rate", "1MiB");
        app.addHeader("x-sluice-limit-rate", "1MiB");
        assertNull(app.repeatedOption(), "replaced, or the same value again");
        app.addHeader("x-sluice-file", "c.bin");
        app.addHeader("X-Sluice-Limit-Rate", "2MiB");
        assertEquals("x-sluice-file", app.repeatedOption(), "the first one named");
    }

    @Test
    void beforeTheFileHeaderEverythingPassesAfterItNothingButCookies() throws IOException {
        app.setContentType("text/html");
        app.getOutputStream().write("before".getBytes(StandardCharsets.US_ASCII));
        app.setHeader("X-Sluice-File", "a.bin");
        assertTrue(app.handoffRequested());
        app.getOutputStream().write("after".getBytes(StandardCharsets.US_ASCII));
        app.getWriter().write("and more");
        app.getWriter().flush();
        app.setStatus(201);
        app.setHeader("X-After", "dropped");
        app.addHeader("Set-Cookie", "kept=1");
        app.sendError(404);
        app.sendRedirect("/elsewhere");
        app.flushBuffer();
        app.getOutputStream().flush();
        app.getOutputStream().close();
        assertEquals("before", real.body.toString(StandardCharsets.US_ASCII));
        assertEquals(List.of("setContentType", "write", "addHeader Set-Cookie"), real.calls);
        assertFalse(app.isCommitted(), "the real response stays uncommitted for Sluice");
        assertNull(real.header("X-Sluice-File"));
    }

    @Test
    void aFileHeaderOnACommittedResponseIsTooLateAndIgnored() throws IOException {
        app.getOutputStream().write(1);
        app.flushBuffer();
        app.setHeader("X-Sluice-File", "a.bin");
        assertFalse(app.handoffRequested());
        app.getOutputStream().write(2);
        assertEquals(2, real.body.size(), "the application's response stands");
    }

    @Test
    void aFileHeaderFromAnAsyncApplicationMakesAnEmpty500() throws IOException {
        real.asyncStarted = true;
        app.setStatus(200);
        app.setHeader("X-Sluice-File", "a.bin");
        assertFalse(app.handoffRequested());
        app.getOutputStream().write(1);
        app.setStatus(200);
        assertEquals(500, real.status);
        assertEquals("0", real.header("Content-Length"));
        assertEquals(0, real.body.size());
    }
}
