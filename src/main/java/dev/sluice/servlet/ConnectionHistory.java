package dev.sluice.servlet;

import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferListener;
import dev.sluice.stream.TransferSummary;
import jakarta.servlet.ServletConnection;
import jakarta.servlet.http.HttpServletRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the downloads on each keep-alive connection proved about its client: the chunk size the last one earned
 * ({@link TransferSummary#earnedChunk}), so that the next download on the same connection starts there instead of
 * at 16 KiB ({@code TransferRequest.withStartChunk}). A connection is one client, which one address is not (a
 * NAT, a proxy), so the history is kept per connection and never shared between connections.
 *
 * <p>The key is the container's connection id ({@code ServletConnection.getConnectionId()}) with the local port and
 * the client's address and port. Jetty's id names the connection's remote address and a JVM-wide counter; Tomcat's
 * is a counter per connector (hexadecimal), so two connectors can both have a connection "1f": the ports keep them
 * apart. Neither container reuses an id while the JVM runs, so a new connection never inherits a closed one's
 * history.
 *
 * <p>Bounded: the servlet API says nothing when a connection closes, so entries go in least-recently-used order
 * once {@link #MAX_CONNECTIONS} connections are remembered; a closed connection's entry is only a key and a number
 * until then. A download that did not complete forgets the connection's history (the connection is usually gone).
 * Thread-safe: downloads on different connections end on any thread.
 */
final class ConnectionHistory {

    /** Connections remembered at most: a key of some 60 characters and a number each, about 2 MB in all. */
    static final int MAX_CONNECTIONS = 10_000;

    private final Map<String, Integer> earned = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > MAX_CONNECTIONS;
        }
    };

    /** The request's connection, or {@code null} when the container does not name it. */
    static String key(HttpServletRequest request) {
        ServletConnection connection = request.getServletConnection();
        String id = connection == null ? null : connection.getConnectionId();
        if (id == null || id.isEmpty()) {
            return null;
        }
        return id + ' ' + request.getLocalPort() + ' ' + request.getRemoteAddr() + ':' + request.getRemotePort();
    }

    /** The chunk size the connection's last download earned; 0 if none did, or {@code key} is {@code null}. */
    synchronized int startChunk(String key) {
        Integer chunk = key == null ? null : earned.get(key);
        return chunk == null ? 0 : chunk;
    }

    /**
     * Wraps {@code listener} so that the connection's history is written before it runs. The order matters: the
     * listener completes the response, after which the container may already read the connection's next request,
     * and that request must find what this download earned.
     */
    TransferListener recording(String key, TransferListener listener) {
        if (key == null) {
            return listener;
        }
        return new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                listener.ended(outcome, bytesWritten, cause);
            }

            @Override
            public void ended(TransferSummary summary) {
                remember(key, summary);
                listener.ended(summary);
            }

            /**
             * The download is cut, and the listener completes the response now, before its end is told: forget
             * what the connection earned first, as the end would, so that its next request does not start there.
             */
            @Override
            public void containerEnding(Throwable cause) {
                forget(key);
                listener.containerEnding(cause);
            }

            @Override
            public void writePossibleAfterEnd() {
                listener.writePossibleAfterEnd();
            }

            @Override
            public void beforeFirstWrite() throws java.io.IOException {
                listener.beforeFirstWrite();
            }
        };
    }

    synchronized void remember(String key, TransferSummary summary) {
        if (summary.outcome() == Outcome.COMPLETED && summary.earnedChunk() > 0) {
            earned.put(key, summary.earnedChunk());
        } else {
            earned.remove(key);
        }
    }

    synchronized void forget(String key) {
        earned.remove(key);
    }

    synchronized int size() {
        return earned.size();
    }
}
