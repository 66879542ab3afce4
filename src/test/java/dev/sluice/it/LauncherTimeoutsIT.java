package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.launcher.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's one story of timeouts, with a short request-header deadline (1 s) so that it runs in seconds: a
 * connection with no request running is closed at that deadline, idle or trickling its head, over HTTP/1.1 and
 * HTTP/2, long before Jetty's idle timeout (stallTimeout + 5 s: 65 s by default); a running download has
 * {@code stallTimeout} (3 s in its test), which neither the deadline nor Jetty's idle timeout beats. Only lower
 * bounds that timers guarantee are asserted; every wait has a generous deadline (30 s, half Jetty's idle timeout).
 */
class LauncherTimeoutsIT {

    private static final Duration HEADER_DEADLINE = Duration.ofSeconds(1);
    private static final Duration STALL = Duration.ofSeconds(3);
    /** Far above every timeout here: what a loaded machine may add before a close is seen. */
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path root;

    private Launcher launcher;
    private URI base;

    @BeforeEach
    void files() throws IOException {
        ContainerKind.JETTY_EE11.assumeInThisRun(); // the launcher is Jetty ee11
        try (RandomAccessFile big = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            big.setLength(256L * 1024 * 1024);
        }
        Files.writeString(root.resolve("hello.txt"), "hello");
    }

    @AfterEach
    void stop() throws Exception {
        if (launcher != null) {
            launcher.stop();
        }
    }

    /** Starts the launcher with the 1 s request-header deadline and {@code extra} settings. */
    private void start(Map<String, String> extra) throws Exception {
        Map<String, String> settings = new HashMap<>(extra);
        settings.put("root", root.toString());
        launcher = Launcher.start("127.0.0.1", 0, true, Duration.ofSeconds(1), HEADER_DEADLINE, settings);
        base = URI.create(launcher.url().replace("localhost", "127.0.0.1"));
    }

    /**
     * A client that reads nothing of a download is ended by the stall check, with the stall as the recorded
     * cause: neither the request-header deadline (1 s, a third of the stall timeout), which ends with the complete
     * head, nor Jetty's idle timeout (stall + 5 s) cuts it first; then its connection is closed.
     */
    @Test
    void aDownloadThatTakesNothingIsEndedByTheStallCheckNotByAnIdleTimeout() throws Exception {
        start(Map.of("chunkSize", "64KiB", "stallTimeout", STALL.toSeconds() + "s"));
        Logger servletLog = Logger.getLogger("dev.sluice.servlet.SluiceSender"); // it logs how transfers end
        Level before = servletLog.getLevel();
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                lines.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        servletLog.setLevel(Level.FINE);
        servletLog.addHandler(capture);
        try (TestClient stuck = new TestClient(base, 4096)) {
            assertEquals(200, stuck.send("GET", "/big.bin", Map.of(), true).status());
            long sent = System.nanoTime();
            Await.until("the download ended", DEADLINE, () -> lines.stream().anyMatch(l -> l.contains("/big.bin")),
                    lines::toString);
            Duration took = Duration.ofNanos(System.nanoTime() - sent);
            String end = lines.stream().filter(l -> l.contains("/big.bin")).findFirst().orElseThrow();
            assertTrue(end.contains("aborted") && end.contains("StalledException"),
                    "the download must end as stalled, not cut by an idle timeout: " + end);
            assertTrue(took.compareTo(STALL.minusSeconds(1)) >= 0, "ended before the stall timeout: " + took);
            stuck.setReadTimeout((int) DEADLINE.toMillis());
            assertTrue(stuck.drainOrCut() < 256L * 1024 * 1024, "the connection must end after the stall");
        } finally {
            servletLog.removeHandler(capture);
            servletLog.setLevel(before);
        }
    }

    /**
     * Idle keep-alive connections and connections that never send a byte are closed at the request-header
     * deadline, long before Jetty's idle timeout (the default stallTimeout + 5 s, 65 s) would.
     */
    @Test
    void idleConnectionsAreClosed() throws Exception {
        start(Map.of());
        try (Socket silent = connect(); Socket afterGet = connect(); Socket afterHead = connect()) {
            afterGet.getOutputStream().write(request("GET", "/hello.txt"));
            assertTrue(readAnswer(afterGet.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
            afterHead.getOutputStream().write(request("HEAD", "/hello.txt")); // answered without startAsync
            assertTrue(readAnswer(afterHead.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            assertClosedByServer(silent, "a connection that sends nothing");
            assertClosedByServer(afterGet, "an idle keep-alive connection after a GET");
            assertClosedByServer(afterHead, "an idle keep-alive connection after a HEAD");
        }
        assertEquals(3, launcher.headerDeadlineCloses());
    }

    /**
     * A head that trickles in faster than the idle timeout could notice (a byte every 200 ms, the idle timeout
     * being 1 s) is cut at the header deadline: on a new connection, and for the next request of a keep-alive
     * connection. Requests that come in time, one after another on one connection, are served.
     */
    @Test
    void aHeadThatTricklesInIsCutAtTheDeadline() throws Exception {
        start(Map.of());
        try (Socket first = connect()) {
            assertClosedWhileTrickling(first, "a new connection trickling its first head");
        }
        try (Socket keptAlive = connect()) {
            for (int i = 0; i < 3; i++) {
                keptAlive.getOutputStream().write(request("GET", "/hello.txt"));
                assertTrue(readAnswer(keptAlive.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
                LockSupport.parkNanos(HEADER_DEADLINE.toNanos() / 4);
            }
            assertClosedWhileTrickling(keptAlive, "a keep-alive connection trickling its next head");
        }
        assertTrue(launcher.headerDeadlineCloses() >= 2, "closes counted: " + launcher.headerDeadlineCloses());
    }

    /**
     * HTTP/2 by prior knowledge, a connection that opens no stream but keeps sending PING frames (which keep
     * Jetty's idle timeout from expiring) gets GOAWAY and is closed; one whose stream runs longer than several
     * deadlines (a 4 MiB download at 1 MiB/s) is not cut.
     */
    @Test
    void overHttp2AConnectionWithoutStreamsIsClosedAndARunningStreamIsNot() throws Exception {
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(9).nextBytes(data);
        Files.write(root.resolve("mid.bin"), data);
        start(Map.of("limitRate", "1MiB"));

        // A small request upgrades the connection: the JDK's client mishandles a large body arriving with the 101
        // (see JettyModuleIT.h2cVersion); the download then goes over that h2c connection.
        HttpClient h2c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        Files.writeString(root.resolve("small.txt"), "small");
        assertEquals(HttpClient.Version.HTTP_2, h2c.send(HttpRequest.newBuilder(base.resolve("/small.txt"))
                .timeout(DEADLINE).build(), HttpResponse.BodyHandlers.discarding()).version(), "h2c by Upgrade");
        HttpResponse<byte[]> response = h2c.send(
                HttpRequest.newBuilder(base.resolve("/mid.bin")).timeout(DEADLINE).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
        assertEquals(200, response.statusCode());
        assertEquals(TestClient.sha256(data), TestClient.sha256(response.body()), "the slow HTTP/2 download");

        long closesBefore = launcher.headerDeadlineCloses();
        try (Socket h2 = connect()) {
            OutputStream out = h2.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS, empty
            h2.setSoTimeout(50);
            InputStream in = h2.getInputStream();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            long end = System.nanoTime() + DEADLINE.toNanos();
            boolean closed = false;
            while (!closed && System.nanoTime() < end) {
                try {
                    out.write(new byte[] {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}); // PING
                    for (int n = in.read(); n >= 0; n = in.read()) {
                        received.write(n);
                    }
                    closed = true;
                } catch (SocketTimeoutException nothingYet) {
                    LockSupport.parkNanos(Duration.ofMillis(150).toNanos());
                } catch (IOException reset) {
                    closed = true;
                }
            }
            assertTrue(closed, "an HTTP/2 connection that opens no stream must be closed");
            assertTrue(hasGoAway(received.toByteArray()), "GOAWAY before the close");
        }
        assertTrue(launcher.headerDeadlineCloses() > closesBefore, "the close must be counted");
    }

    /** Whether the server's frames (after its SETTINGS) include a GOAWAY (type 7). */
    private static boolean hasGoAway(byte[] frames) {
        for (int at = 0; at + 9 <= frames.length; ) {
            int length = (frames[at] & 0xff) << 16 | (frames[at + 1] & 0xff) << 8 | (frames[at + 2] & 0xff);
            if (frames[at + 3] == 7) {
                return true;
            }
            at += 9 + length;
        }
        return false;
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
        return socket;
    }

    /** A keep-alive request. */
    private static byte[] request(String method, String path) {
        return (method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads one answer, up to the end of its head and then to {@code bodyEnd}. */
    private static String readAnswer(InputStream in, String bodyEnd) throws IOException {
        StringBuilder answer = new StringBuilder();
        while (!(answer.indexOf("\r\n\r\n") >= 0 && answer.toString().endsWith(bodyEnd))) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed in the answer: " + answer);
            }
            answer.append((char) b);
        }
        return answer.toString();
    }

    /** Waits (without sending) until the server closes the connection. */
    private static void assertClosedByServer(Socket socket, String what) throws IOException {
        socket.setSoTimeout((int) DEADLINE.toMillis());
        try {
            assertEquals(-1, socket.getInputStream().read(), what + ": bytes instead of the close");
        } catch (SocketTimeoutException e) {
            throw new AssertionError(what + " was still open after " + DEADLINE.toSeconds() + " s");
        } catch (IOException reset) {
            // closed too
        }
    }

    /** Sends a never-ending head, a byte every 200 ms, until the server closes the connection. */
    private static void assertClosedWhileTrickling(Socket socket, String what) throws IOException {
        byte[] head = ("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000))
                .getBytes(StandardCharsets.ISO_8859_1);
        socket.setSoTimeout(1);
        long end = System.nanoTime() + DEADLINE.toNanos();
        for (int i = 0; System.nanoTime() < end; i++) {
            try {
                socket.getOutputStream().write(head[i % head.length]);
                if (socket.getInputStream().read() < 0) {
                    return;
                }
                throw new AssertionError(what + ": an answer to an unfinished head");
            } catch (SocketTimeoutException stillOpen) {
                LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            } catch (IOException reset) {
                return;
            }
        }
        throw new AssertionError(what + " was still open after " + DEADLINE.toSeconds() + " s");
    }
}
