package dev.sluice.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

/** A failing accept (descriptors spent) is one line, then a sum a minute, and Jetty's retry goes on. */
class LauncherConnectorTest {

    @Test
    void theFirstFailedAcceptIsSaidAtOnceAndTheRestSummedUpOnceAMinute() {
        AtomicLong nanos = new AtomicLong(5);
        LauncherConnector.AcceptFailures failures = new LauncherConnector.AcceptFailures(nanos::get);
        IOException spent = new IOException("Too many open files");
        String first = failures.count(spent);
        assertTrue(first.contains("cannot accept connections: Too many open files"), first);
        assertTrue(first.contains("ulimit -n"), first);
        for (int i = 0; i < 59; i++) {
            nanos.addAndGet(1_000_000_000L);
            assertNull(failures.count(spent), "within the minute: nothing");
        }
        nanos.addAndGet(1_000_000_000L);
        assertEquals("Sluice: 60 more failed accepts since the last such line, the last: Too many open files",
                failures.count(new IOException("Too many open files")));
        nanos.addAndGet(3_600_000_000_000L);
        assertEquals("Sluice: 1 more failed accepts since the last such line, the last: java.io.IOException",
                failures.count(new IOException()), "after a quiet hour, the next failure is said at once");
    }

    @Test
    void aRunningConnectorRetriesAfterAFailedAcceptAndAStoppedOneEnds() throws Exception {
        Server server = new Server();
        LauncherConnector connector = new LauncherConnector(server, 1, 1, new HttpConnectionFactory());
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.start();
        try {
            assertTrue(connector.handleAcceptFailure(new IOException("Too many open files")), "retried");
        } finally {
            server.stop();
        }
        assertFalse(connector.handleAcceptFailure(new IOException("Socket closed")), "stopped: the acceptor ends");
    }
}
