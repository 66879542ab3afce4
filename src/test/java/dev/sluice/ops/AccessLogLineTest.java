package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.sluice.stream.FileShrankException;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferSummary;
import dev.sluice.stream.Waits;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccessLogLineTest {

    private static final Instant END = Instant.parse("2025-06-01T12:00:00.123456Z");
    private static final List<String> KEYS = List.of("time", "client", "user", "method", "path", "range", "status",
            "sent", "planned", "duration", "outcome", "etag", "wait_socket", "wait_read", "wait_buffer",
            "wait_throttle", "cause");

    @Test
    void aCompletedRangeHasEveryFieldInOrder() {
        AccessLogLine line = new AccessLogLine("127.0.0.1", null, "GET", "/dir/big%20file.iso",
                "bytes 0-1023/4096", 206, "\"1000-18f2a\"");
        String text = line.of(new TransferSummary(Outcome.COMPLETED, 1024, 1024, null, 1_234_567_890L,
                new Waits(100_000_000, 2_000_000, 0, 1_000_000_000)), END);
        assertEquals("time=2025-06-01T12:00:00.123Z client=127.0.0.1 user=- method=GET path=/dir/big%20file.iso"
                + " range=\"bytes 0-1023/4096\" status=206 sent=1024 planned=1024 duration=1.234 outcome=completed"
                + " etag=1000-18f2a wait_socket=0.100 wait_read=0.002 wait_buffer=0.000 wait_throttle=1.000 cause=-",
                text);
        Map<String, String> pairs = Logfmt.parse(text);
        assertEquals(KEYS, List.copyOf(pairs.keySet()));
        assertEquals("bytes 0-1023/4096", pairs.get("range"));
    }

    @Test
    void aFailureSaysWhyAndAWeakTagKeepsItsMark() {
        AccessLogLine line = new AccessLogLine("::1", "alice", "GET", "/f", "full", 200, "W/\"x\"");
        Map<String, String> pairs = Logfmt.parse(line.of(new TransferSummary(Outcome.FAILED, 10, 20,
                new FileShrankException(10), 5_000_000, Waits.NONE), END));
        assertEquals("failed", pairs.get("outcome"));
        assertEquals("alice", pairs.get("user"));
        assertEquals("W/x", pairs.get("etag"));
        assertEquals("0.005", pairs.get("duration"));
        assertEquals(new FileShrankException(10).toString(), pairs.get("cause"));
        assertEquals("200", pairs.get("status"), "ten bytes went: the client saw the 200 cut short");
        Map<String, String> unsent = Logfmt.parse(line.withStatus(503).of(new TransferSummary(Outcome.FAILED, 0,
                20, new FileShrankException(0), 5_000_000, Waits.NONE), END));
        assertEquals("503", unsent.get("status"), "nothing went: the status the client was answered instead");
        assertEquals("failed", unsent.get("outcome"));
        Map<String, String> aborted = Logfmt.parse(line.of(new TransferSummary(Outcome.ABORTED, 0, 20,
                new java.io.IOException("Broken pipe"), 5_000_000, Waits.NONE), END));
        assertEquals("200", aborted.get("status"), "a client gone is no server error");
    }

    @Test
    void aPathOrUserCannotForgeALineOrAField() {
        String forged = "/a\nINFO: time=x client=6.6.6.6 \"b\" c=d\\\u2028\u0085\u001b[31m";
        AccessLogLine line = new AccessLogLine("127.0.0.1", "eve outcome=completed", "GET", forged, "full", 200, null);
        String text = line.of(new TransferSummary(Outcome.ABORTED, 0, 5, new java.io.IOException("Broken pipe"), 0,
                Waits.NONE), END);
        assertFalse(text.contains("\n") || text.contains("\r") || text.contains("\u2028") || text.contains("\u0085")
                || text.contains("\u001b"), text);
        Map<String, String> pairs = Logfmt.parse(text);
        assertEquals(KEYS, List.copyOf(pairs.keySet()));
        assertEquals(forged, pairs.get("path"));
        assertEquals("eve outcome=completed", pairs.get("user"));
        assertEquals("aborted", pairs.get("outcome"));
        assertEquals("-", pairs.get("etag"));
        assertEquals("\"-\"", AccessLogLine.value("-"), "a value that is a dash must not read as none");
        assertEquals("\"\"", AccessLogLine.value(""));
    }

    @Test
    void aBodyHandedToTheContainerSaysWhatOnlyTheContainerKnowsIsUnknown() {
        Map<String, String> pairs = Logfmt.parse(new AccessLogLine("10.0.0.1", null, "GET", "/f", "full", 200,
                "\"t\"").handedOff(4096, END));
        assertEquals(KEYS, List.copyOf(pairs.keySet()));
        assertEquals("handed-off", pairs.get("outcome"));
        assertEquals("-", pairs.get("sent"));
        assertEquals("4096", pairs.get("planned"));
        assertEquals("-", pairs.get("wait_read"));
    }
}
