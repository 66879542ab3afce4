package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferListener;
import dev.sluice.stream.TransferSummary;
import dev.sluice.stream.Waits;
import jakarta.servlet.ServletConnection;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-connection memory of what a client earned: keys, what is kept, what is forgotten, and the bound. */
class ConnectionHistoryTest {

    private static final int FULL = 256 * 1024;

    private static TransferSummary ended(Outcome outcome, int earned) {
        return new TransferSummary(outcome, 10, 10, outcome == Outcome.COMPLETED ? null : new IOException("gone"), 1,
                Waits.NONE, 16 * 1024, earned);
    }

    private static HttpServletRequest request(String connectionId, int localPort, int remotePort) {
        ServletConnection connection = connectionId == null ? null : new ServletConnection() {
            @Override
            public String getConnectionId() {
                return connectionId;
            }

            @Override
            public String getProtocol() {
                return "HTTP/1.1";
            }

            @Override
            public String getProtocolConnectionId() {
                return "";
            }

            @Override
            public boolean isSecure() {
                return false;
            }
        };
        return (HttpServletRequest) Proxy.newProxyInstance(ConnectionHistoryTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getServletConnection" -> connection;
                    case "getLocalPort" -> localPort;
                    case "getRemotePort" -> remotePort;
                    case "getRemoteAddr" -> "192.0.2.7";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aConnectionIsNamedByTheContainersIdAndBothPorts() {
        assertEquals("1f 8080 192.0.2.7:50000", ConnectionHistory.key(request("1f", 8080, 50000)));
        assertNotEquals(ConnectionHistory.key(request("1f", 8080, 50000)),
                ConnectionHistory.key(request("1f", 8443, 50001)), "Tomcat counts per connector: two can have 1f");
        assertNull(ConnectionHistory.key(request(null, 8080, 50000)));
        assertNull(ConnectionHistory.key(request("", 8080, 50000)));
    }

    @Test
    void aCompletedDownloadLeavesWhatItEarnedForTheNextOnTheSameConnection() {
        ConnectionHistory history = new ConnectionHistory();
        assertEquals(0, history.startChunk("a"));
        history.remember("a", ended(Outcome.COMPLETED, FULL));
        assertEquals(FULL, history.startChunk("a"));
        assertEquals(0, history.startChunk("b"), "another connection knows nothing of it");
        assertEquals(0, history.startChunk(null));
    }

    @Test
    void aDownloadThatEarnedNothingOrDidNotCompleteForgetsTheConnection() {
        ConnectionHistory history = new ConnectionHistory();
        history.remember("a", ended(Outcome.COMPLETED, FULL));
        history.remember("a", ended(Outcome.COMPLETED, 0));
        assertEquals(0, history.startChunk("a"));
        history.remember("b", ended(Outcome.COMPLETED, FULL));
        history.remember("b", ended(Outcome.ABORTED, FULL));
        assertEquals(0, history.startChunk("b"));
        assertEquals(0, history.size());
    }

    @Test
    void theLeastRecentlyUsedConnectionsGoBeyondTheBound() {
        ConnectionHistory history = new ConnectionHistory();
        for (int i = 0; i < ConnectionHistory.MAX_CONNECTIONS; i++) {
            history.remember("c" + i, ended(Outcome.COMPLETED, FULL));
        }
        assertEquals(FULL, history.startChunk("c0")); // used: now the most recent
        history.remember("new", ended(Outcome.COMPLETED, FULL));
        assertEquals(ConnectionHistory.MAX_CONNECTIONS, history.size());
        assertEquals(0, history.startChunk("c1"), "the least recently used one stayed");
        assertEquals(FULL, history.startChunk("c0"));
        assertEquals(FULL, history.startChunk("new"));
    }

    /** The wrapped listener completes the response; the next request on the connection must find the history. */
    @Test
    void theHistoryIsWrittenBeforeTheListenerRuns() {
        ConnectionHistory history = new ConnectionHistory();
        List<Integer> seen = new ArrayList<>();
        TransferListener completes = (outcome, bytes, cause) -> seen.add(history.startChunk("a"));
        history.recording("a", completes).ended(ended(Outcome.COMPLETED, FULL));
        assertEquals(List.of(FULL), seen);
        assertEquals(completes, history.recording(null, completes), "no connection: nothing to record");
    }

    /**
     * The container's error: the listener completes the response inside onError, before the end is told, so the
     * connection's next request (a new HTTP/2 stream) could come first. The history is forgotten before that.
     */
    @Test
    void theContainersErrorForgetsTheConnectionBeforeTheListenerCompletes() {
        ConnectionHistory history = new ConnectionHistory();
        history.remember("a", ended(Outcome.COMPLETED, FULL));
        List<Integer> seen = new ArrayList<>();
        TransferListener completes = new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
            }

            @Override
            public void containerEnding(Throwable cause) {
                seen.add(history.startChunk("a"));
            }
        };
        history.recording("a", completes).containerEnding(new IOException("reset"));
        assertEquals(List.of(0), seen);
    }
}
