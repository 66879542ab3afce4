package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.HTTP2Session;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One h2c connection carries many downloads that nobody reads; then the client's TCP connection goes away, with a
 * FIN, an RST, or a GOAWAY and then a FIN. Every transfer, buffer and file descriptor must be released soon after:
 * nothing more can be sent on that connection. Two ways of not reading: each stream's HTTP/2 flow-control window
 * closed (Jetty's HTTP2Client, which reads the socket but never demands the data), or the TCP connection full (a
 * raw h2c client that never reads its socket, all windows open).
 *
 * <p>Measured times are printed ("Http2CloseIT ..." lines in the failsafe output), not asserted, except the
 * bounds: {@link #PROMPTLY} wherever the container notices the close, and for the two known delays, see
 * docs/http2-close.md, which also serves as the upstream reports: {@link #JETTY_STREAM_IDLE_BOUND} for Jetty (a
 * GOAWAY then a FIN on a connection whose streams' windows are closed) and {@link #TOMCAT_WRITE_TIMEOUT_BOUND} for
 * Tomcat (a congested connection, whose blocked frame write only its write timeout ends).
 */
class Http2CloseIT {

    private static final int STREAMS = 100;
    /** The client's window per stream: the server stops after a few frames of each. */
    private static final int STREAM_WINDOW = 64 * 1024;

    /** How the client's connection goes away. */
    enum Close {
        /** An orderly TCP close: the client's socket is closed with nothing unread, a FIN goes out. */
        FIN,
        /** An abortive close: SO_LINGER 0, an RST goes out. */
        RST,
        /**
         * What HTTP2Client's {@code Session.close} and a browser closing a tab do: a GOAWAY (NO_ERROR) first, then
         * the TCP close (FIN).
         */
        GOAWAY_FIN
    }

    @TempDir
    Path root;

    private HTTP2Client client;

    @BeforeEach
    void setUp() throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L * 1024 * 1024);
        }
        client = new HTTP2Client();
        client.setInitialStreamRecvWindow(STREAM_WINDOW);
        client.setInitialSessionRecvWindow(STREAMS * STREAM_WINDOW * 2);
        client.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        client.stop();
    }

    /**
     * Where Sluice or the container sees the close, the transfers end at once (tens of milliseconds measured);
     * generous for a loaded machine, yet far below any idle timeout.
     */
    private static final Duration PROMPTLY = Duration.ofSeconds(3);
    /**
     * Jetty's connector idleTimeout in the cases that wait for it ({@link #waitsForJettysIdleTimeout}): 12 s, not the
     * default 30, so that each waits that long; the streams must be open within 10 s of it (well under a second
     * measured), before any of them could time out.
     */
    private static final Duration JETTY_IDLE_TIMEOUT = Duration.ofSeconds(12);
    /**
     * Jetty's documented bound (docs/http2-close.md): a stream whose request was complete when the client sent
     * GOAWAY and closed is released only by the stream idle timeout, the connector's idleTimeout
     * ({@link #JETTY_IDLE_TIMEOUT} here) counted from the stream's last frame; plus a margin.
     */
    private static final Duration JETTY_STREAM_IDLE_BOUND = JETTY_IDLE_TIMEOUT.plusSeconds(15);

    /**
     * Tomcat's documented bound for a congested connection (docs/http2-close.md): when Tomcat closes the
     * connection (on a GOAWAY, a FIN, or at times an RST), the frame write that waits for the full socket is left
     * pending and blocks until Tomcat's HTTP/2 {@code writeTimeout} (5 s by default, counted from the start of that
     * write), and every other write of the connection behind it; plus a margin.
     */
    private static final Duration TOMCAT_WRITE_TIMEOUT_BOUND = Duration.ofSeconds(12);

    private Map<String, String> settings() {
        return Map.of("root", root.toString(), "chunkSize", "64KiB");
    }

    static Duration releaseBound(ContainerKind kind, Close close) {
        return waitsForJettysIdleTimeout(kind, close) ? JETTY_STREAM_IDLE_BOUND : PROMPTLY;
    }

    /** Whether the transfers of this case end only by Jetty's idle timeout (docs/http2-close.md). */
    private static boolean waitsForJettysIdleTimeout(ContainerKind kind, Close close) {
        return kind != ContainerKind.TOMCAT && close == Close.GOAWAY_FIN;
    }

    static Duration congestedReleaseBound(ContainerKind kind) {
        return kind == ContainerKind.TOMCAT ? TOMCAT_WRITE_TIMEOUT_BOUND : PROMPTLY;
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (ContainerKind kind : List.of(ContainerKind.JETTY_EE11, ContainerKind.JETTY_EE10, ContainerKind.TOMCAT)) {
            for (Close close : Close.values()) {
                cases.add(Arguments.of(kind, close));
            }
        }
        return cases.stream();
    }

    /** Windows closed by the client (it never demands the data); the server's writes wait with isReady() false. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void transfersEndSoonAfterTheirConnectionCloses(ContainerKind kind, Close close) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        Duration idleTimeout = waitsForJettysIdleTimeout(kind, close) ? JETTY_IDLE_TIMEOUT : null;
        try (ContainerKind.Running container = kind.start(servlet, settings(), 0, true, idleTimeout)) {
            warmUp(container.uri());
            long baselineFds = OpenFiles.count();

            CompletableFuture<GoAwayFrame> refused = new CompletableFuture<>();
            Session session = connect(container.uri(), refused);
            for (int i = 0; i < STREAMS; i++) {
                // One stream after another: Tomcat misreads a burst of HEADERS frames (docs/http2-close.md).
                headOf(get(session, container.uri(), "/big.bin"), refused, servlet);
            }
            Await.until(STREAMS + " transfers in progress",
                    idleTimeout == null ? Duration.ofSeconds(60) : idleTimeout.minusSeconds(2),
                    () -> servlet.metrics().activeTransfers() == STREAMS, () -> servlet.metrics().toString());
            long heldFds = OpenFiles.count();

            EndPoint endPoint = ((HTTP2Session) session).getEndPoint();
            SocketChannel channel = ((SocketChannelEndPoint) endPoint).getChannel();
            long closedAt = System.nanoTime();
            if (close == Close.GOAWAY_FIN) {
                FutureCallback goAwaySent = new FutureCallback();
                session.close(ErrorCode.NO_ERROR.code, "bye", goAwaySent);
                goAwaySent.get(10, TimeUnit.SECONDS);
                closedAt = System.nanoTime();
            }
            if (close == Close.RST) {
                // Through Jetty: the JDK closes a channel registered with a selector only at that selector's next
                // select, and with SO_LINGER 0 sends nothing before; an HTTP2Client whose every stream waits has an
                // idle selector, so channel.close() left the RST unsent for as long as the server sent nothing (3 s
                // and more, seen on a loaded machine). Jetty's close wakes its selector
                // (ManagedSelector.destroyEndPoint): the RST goes out at once.
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                endPoint.close();
            } else {
                // The JDK sends the FIN at once (shutdownOutput); the socket itself stays open until the client's
                // selector runs again, so it still takes the server's frames, as a client that half-closes does.
                channel.close();
            }

            Await.until("every transfer of the closed connection ended", releaseBound(kind, close),
                    () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
            long transfersEnded = System.nanoTime();
            Leaks.assertNothingHeld(servlet, root);
            Await.until("file descriptors back at the baseline", Duration.ofSeconds(30),
                    () -> OpenFiles.count() <= baselineFds, () -> OpenFiles.count() + " open, baseline " + baselineFds);
            long fdsBack = System.nanoTime();
            System.out.printf("Http2CloseIT %s %s: %d transfers, %d fds held (baseline %d); transfers ended %d ms,"
                    + " fds back %d ms after the close%n", kind, close, STREAMS, heldFds, baselineFds,
                    TimeUnit.NANOSECONDS.toMillis(transfersEnded - closedAt),
                    TimeUnit.NANOSECONDS.toMillis(fdsBack - closedAt));
            assertEquals(STREAMS, servlet.metrics().aborted());
        }
    }

    /**
     * A client that speaks h2c over a plain socket and never reads it: it opens {@code streams} GETs with every
     * flow-control window at its maximum, so the server writes until the TCP buffers are full and its flusher
     * waits for the socket to become writable (the state in which the reported delay was seen).
     */
    static final class RawH2c implements AutoCloseable {
        final java.net.Socket socket = new java.net.Socket();
        private final java.io.OutputStream out;

        RawH2c(URI uri, int streams, String path) throws java.io.IOException {
            socket.setReceiveBufferSize(64 * 1024);
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
            out = socket.getOutputStream();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            bytes.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // SETTINGS: INITIAL_WINDOW_SIZE (0x4) = 2^31-1; then an ACK of the server's SETTINGS, which this client
            // never reads; then the connection window opened to 2^31-1 too.
            frame(bytes, 0x4, 0, 0, new byte[] {0, 0x4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            frame(bytes, 0x4, 0x1, 0, new byte[0]);
            int increment = Integer.MAX_VALUE - 65535;
            frame(bytes, 0x8, 0, 0, new byte[] {(byte) (increment >>> 24), (byte) (increment >>> 16),
                    (byte) (increment >>> 8), (byte) increment});
            String authority = uri.getHost() + ":" + uri.getPort();
            for (int i = 0; i < streams; i++) {
                java.io.ByteArrayOutputStream block = new java.io.ByteArrayOutputStream();
                block.write(0x82); // :method GET (static table 2)
                block.write(0x86); // :scheme http (static table 6)
                literal(block, 0x04, path); // :path, name from static table 4, without indexing
                literal(block, 0x01, authority); // :authority, static table 1
                frame(bytes, 0x1, 0x4 | 0x1, 1 + 2 * i, block.toByteArray()); // HEADERS, END_HEADERS|END_STREAM
            }
            out.write(bytes.toByteArray());
            out.flush();
        }

        private static void literal(java.io.ByteArrayOutputStream block, int nameIndex, String value) {
            byte[] v = value.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            block.write(nameIndex);
            block.write(v.length); // < 127, no Huffman
            block.writeBytes(v);
        }

        private static void frame(java.io.ByteArrayOutputStream bytes, int type, int flags, int streamId,
                byte[] payload) {
            bytes.write(payload.length >>> 16);
            bytes.write(payload.length >>> 8);
            bytes.write(payload.length);
            bytes.write(type);
            bytes.write(flags);
            bytes.write(streamId >>> 24);
            bytes.write(streamId >>> 16);
            bytes.write(streamId >>> 8);
            bytes.write(streamId);
            bytes.writeBytes(payload);
        }

        /** A GOAWAY, NO_ERROR, last stream 0 (this client accepts no pushed stream). */
        void sendGoAway() throws java.io.IOException {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            frame(bytes, 0x7, 0, 0, new byte[8]);
            out.write(bytes.toByteArray());
            out.flush();
        }

        /** A FIN: the client's side of the connection ends; the socket stays open, unread, until {@link #close()}. */
        void sendFin() throws java.io.IOException {
            socket.shutdownOutput();
        }

        /** An RST: linger 0 and close. */
        void sendRst() throws java.io.IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() throws java.io.IOException {
            if (socket.isClosed()) {
                return;
            }
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    /**
     * TCP buffers full, windows open: the server's flusher waits for the socket. Here FIN is a half-close
     * (shutdownOutput, the client still holds its socket, unread), GOAWAY_FIN a GOAWAY then a close, which the
     * kernel turns into an RST because bytes are unread, as it would for any real client.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void transfersOfACongestedConnectionEndSoonAfterItCloses(ContainerKind kind, Close close) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, settings(), 0, true)) {
            warmUp(container.uri());
            long baselineFds = OpenFiles.count();
            try (RawH2c raw = new RawH2c(container.uri(), STREAMS, "/big.bin")) {
                Await.until(STREAMS + " transfers in progress", Duration.ofSeconds(60),
                        () -> servlet.metrics().activeTransfers() == STREAMS, () -> servlet.metrics().toString());
                awaitNoProgress(servlet);
                long heldFds = OpenFiles.count();
                long closedAt = System.nanoTime();
                if (close == Close.GOAWAY_FIN) {
                    raw.sendGoAway();
                    Thread.sleep(100);
                    closedAt = System.nanoTime();
                    raw.socket.close(); // with bytes unread, the kernel sends an RST, not a FIN
                } else if (close == Close.RST) {
                    raw.sendRst();
                } else {
                    raw.sendFin();
                }
                Await.until("every transfer of the closed connection ended",
                        congestedReleaseBound(kind),
                        () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
                long transfersEnded = System.nanoTime();
                Leaks.assertNothingHeld(servlet, root);
                raw.close();
                Await.until("file descriptors back at the baseline", Duration.ofSeconds(30),
                        () -> OpenFiles.count() <= baselineFds,
                        () -> OpenFiles.count() + " open, baseline " + baselineFds);
                long fdsBack = System.nanoTime();
                System.out.printf("Http2CloseIT congested %s %s: %d transfers, %d fds held (baseline %d), %d bytes"
                        + " sent; transfers ended %d ms, fds back %d ms after the close%n", kind, close, STREAMS,
                        heldFds, baselineFds, servlet.metrics().bytesSent(),
                        TimeUnit.NANOSECONDS.toMillis(transfersEnded - closedAt),
                        TimeUnit.NANOSECONDS.toMillis(fdsBack - closedAt));
            }
        }
    }

    /** Waits until the server's bytes sent stop growing for half a second: its writes wait on the socket. */
    static void awaitNoProgress(SluiceServlet servlet) {
        long[] last = {-1};
        long[] since = {System.nanoTime()};
        Await.until("the server's writes stalled", Duration.ofSeconds(60), () -> {
            long sent = servlet.metrics().bytesSent();
            if (sent != last[0]) {
                last[0] = sent;
                since[0] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - since[0] > TimeUnit.MILLISECONDS.toNanos(500);
        }, () -> servlet.metrics().toString());
    }

    /**
     * Waits for a stream's response head, which must be a 200; fails with the server's metrics and threads if it
     * does not come in 30 s, and with the server's GOAWAY if the server refuses the connection meanwhile.
     */
    private static void headOf(CompletableFuture<MetaData.Response> head, CompletableFuture<GoAwayFrame> refused,
            SluiceServlet servlet) throws Exception {
        try {
            CompletableFuture.anyOf(head, refused).get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no response head within 30 s; " + servlet.metrics() + "\nserver threads:\n"
                    + ThreadDump.server(), e);
        }
        if (refused.isDone()) {
            throw new AssertionError("the server refused the connection: " + refused.get());
        }
        assertEquals(200, head.get().getStatus());
    }

    /** One small request on a connection of its own, so the baseline counts the container's steady state. */
    private void warmUp(URI uri) throws Exception {
        Session session = connect(uri);
        assertEquals(404, get(session, uri, "/missing").get(30, TimeUnit.SECONDS).getStatus());
        session.close(ErrorCode.NO_ERROR.code, "warm", Callback.NOOP);
    }

    private Session connect(URI uri) throws Exception {
        return connect(uri, new CompletableFuture<>());
    }

    /** A session whose {@code refused} completes with the server's GOAWAY if it carries an error code. */
    private Session connect(URI uri, CompletableFuture<GoAwayFrame> refused) throws Exception {
        return client.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), refusals(refused))
                .get(10, TimeUnit.SECONDS);
    }

    /** A session listener that completes {@code refused} with a GOAWAY that carries an error code. */
    static Session.Listener refusals(CompletableFuture<GoAwayFrame> refused) {
        return new Session.Listener() {
            @Override
            public void onGoAway(Session session, GoAwayFrame frame) {
                if (frame.getError() != ErrorCode.NO_ERROR.code) {
                    refused.complete(frame);
                }
            }
        };
    }

    /** Starts a GET whose body is never read: the response headers complete the future, no data is demanded. */
    static CompletableFuture<MetaData.Response> get(Session session, URI base, String path) throws Exception {
        CompletableFuture<MetaData.Response> head = new CompletableFuture<>();
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from(base.resolve(path).toString()),
                HttpVersion.HTTP_2, HttpFields.EMPTY);
        session.newStream(new HeadersFrame(request, null, true), new org.eclipse.jetty.http2.api.Stream.Listener() {
            @Override
            public void onHeaders(org.eclipse.jetty.http2.api.Stream stream, HeadersFrame frame) {
                head.complete((MetaData.Response) frame.getMetaData());
            }
        }).get(10, TimeUnit.SECONDS);
        return head;
    }
}
