package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.HTTP2Stream;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Downloads over clear-text HTTP/2 (prior knowledge), many streams on one connection, driven frame by frame with
 * Jetty's low-level client: the test decides when each stream's data is consumed, and so when its flow-control
 * window reopens.
 *
 * <p>On Tomcat 11 these tests once failed intermittently: the write that reaches the Content-Length closes the
 * response, and Tomcat's HTTP/2 stream then ends with a blocking flush inside that {@code write()}; when the
 * write's non-blocking part had just run out of flow-control window, the blocking wait threw
 * {@code IllegalStateException: ... Already waiting}. The engine now ends every body with its last byte written
 * alone after a drained flush (see {@code Transfer.splitLastByte}).
 */
class Http2IT {

    private static final int SIZE = 16 * 1024 * 1024 + 4321;
    /** Small enough that a stream nobody reads stops the server after a few chunks. */
    private static final int STREAM_WINDOW = 256 * 1024;

    @TempDir
    Path root;

    private byte[] big;
    private HTTP2Client client;
    private final SessionEvents sessionEvents = new SessionEvents();

    @BeforeEach
    void setUp() throws Exception {
        big = new byte[SIZE];
        new Random(7).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        client = new HTTP2Client();
        client.setInitialStreamRecvWindow(STREAM_WINDOW);
        client.setInitialSessionRecvWindow(16 * 1024 * 1024);
        client.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        client.stop();
    }

    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void fullAndRangedDownloadsAreByteExact(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = start(kind, servlet)) {
            Session session = connect(container.uri());
            Download whole = startDownload(session, container.uri(), "/big.bin", Map.of(), false);
            Download range = startDownload(session, container.uri(), "/big.bin",
                    Map.of("Range", "bytes=1000000-5194303"), false);
            assertEquals(200, whole.status());
            assertEquals(Long.toString(SIZE), whole.header("content-length"));
            assertEquals(TestClient.sha256(big), whole.awaitSha256());
            assertEquals(206, range.status());
            assertEquals("bytes 1000000-5194303/" + SIZE, range.header("content-range"));
            assertEquals(TestClient.sha256(Arrays.copyOfRange(big, 1_000_000, 5_194_304)), range.awaitSha256());
            Leaks.assertNothingHeld(servlet, root);
            assertEquals(2, servlet.metrics().completed());
        }
    }

    /**
     * A body over 2 GiB (a sparse file): on Tomcat with sendfile, a short range of it goes to Tomcat's sendfile, but
     * not the whole file, since Tomcat's HTTP/2 sendfile maps its region at once and fails beyond
     * {@code Integer.MAX_VALUE} bytes (the head out, no byte of the body, and a GOAWAY for every stream of the
     * connection). Sluice's engine sends it instead, and the connection lives on after the client cancels it.
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void aBodyOverTwoGibIsSentAndItsConnectionLivesOn(ContainerKind kind) throws Exception {
        long size = (2L << 30) + 4096;
        byte[] start = Arrays.copyOf(big, 1 << 20);
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("huge.bin").toFile(), "rw")) {
            file.write(start);
            file.setLength(size);
        }
        boolean tomcat = kind == ContainerKind.TOMCAT;
        long handedOff = tomcat ? 1 : 0;
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = tomcat
                ? ContainerKind.startTomcatWithSendfile(servlet, Map.of("root", root.toString()), 0, true)
                : start(kind, servlet)) {
            Session session = connect(container.uri());
            Download range = startDownload(session, container.uri(), "/huge.bin",
                    Map.of("Range", "bytes=0-" + (start.length - 1)), false);
            assertEquals(206, range.status());
            assertEquals(TestClient.sha256(start), range.awaitSha256());
            assertEquals(handedOff, servlet.metrics().handedOff(), "short ranges go to Tomcat's sendfile");

            Download whole = startDownload(session, container.uri(), "/huge.bin", Map.of(), false)
                    .resetAfter(start.length);
            assertEquals(200, whole.status());
            assertEquals(Long.toString(size), whole.header("content-length"));
            assertTrue(whole.wasReset.get(60, TimeUnit.SECONDS) >= start.length);
            assertEquals(handedOff, servlet.metrics().handedOff(), "the whole file went by Sluice's engine");
            Await.until("the cancelled transfer ended", Duration.ofSeconds(60),
                    () -> servlet.metrics().aborted() == 1 && servlet.metrics().activeTransfers() == 0,
                    () -> servlet.metrics().toString());
            Leaks.assertNothingHeld(servlet, root);

            Download after = startDownload(session, container.uri(), "/huge.bin", Map.of("Range", "bytes=10-19"),
                    false);
            assertEquals(206, after.status(() -> servlet.metrics().toString()));
            assertEquals(TestClient.sha256(Arrays.copyOfRange(start, 10, 20)), after.awaitSha256());
            assertEquals("no session event", sessionEvents.toString(), "the connection stayed open");
        }
    }

    /**
     * When the first of 16 streams of one file ends, every other stream has received at least a quarter of the
     * mean: a proportion of progress, not a time, so a loaded machine cannot make it flake; a starved stream (one
     * served only after others finish) has received next to nothing at that moment.
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void concurrentStreamsOnOneConnectionProgressFairly(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = start(kind, servlet)) {
            Session session = connect(container.uri());
            List<Download> downloads = new ArrayList<>();
            CompletableFuture<long[]> atFirstEnd = new CompletableFuture<>();
            for (int i = 0; i < 16; i++) {
                Download download = startDownload(session, container.uri(), "/big.bin", Map.of(), false);
                downloads.add(download);
            }
            for (Download download : downloads) {
                download.body.sha256.thenRun(() -> atFirstEnd.complete(
                        downloads.stream().mapToLong(d -> d.body.received()).toArray()));
            }
            for (Download download : downloads) {
                assertEquals(TestClient.sha256(big), download.awaitSha256());
            }
            long[] received = atFirstEnd.get(1, TimeUnit.SECONDS);
            double mean = Arrays.stream(received).average().orElseThrow();
            for (long bytes : received) {
                assertTrue(bytes >= mean / 4, "a stream starved: " + bytes + " bytes received when the first "
                        + "ended, mean " + (long) mean + ", all " + Arrays.toString(received));
            }
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    /**
     * A stream whose data nobody reads closes its flow-control window; the server's write for it stays pending
     * (isReady false) while the others on the same connection finish. Then one slow stream is read to its end and
     * the other reset: both release everything.
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void aSlowStreamDoesNotBlockTheOthersOnItsConnection(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = start(kind, servlet)) {
            Session session = connect(container.uri());
            Download slowRead = startDownload(session, container.uri(), "/big.bin", Map.of(), true);
            Download slowReset = startDownload(session, container.uri(), "/big.bin", Map.of(), true);
            assertEquals(200, slowRead.status());
            assertEquals(200, slowReset.status());
            Await.until("the slow streams' windows closed", Duration.ofSeconds(30),
                    () -> slowRead.recvWindow() <= 0 && slowReset.recvWindow() <= 0,
                    () -> slowRead.recvWindow() + " / " + slowReset.recvWindow());

            List<Download> others = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                others.add(startDownload(session, container.uri(), "/big.bin", Map.of(), false));
            }
            for (Download other : others) {
                assertEquals(TestClient.sha256(big), other.awaitSha256());
            }
            assertFalse(slowRead.body.sha256.isDone() || slowReset.body.sha256.isDone(),
                    "a slow stream ended on its own");
            Await.until("only the slow transfers left", Duration.ofSeconds(30),
                    () -> servlet.metrics().activeTransfers() == 2, () -> servlet.metrics().toString());

            slowReset.reset();
            slowRead.resume();
            assertEquals(TestClient.sha256(big), slowRead.awaitSha256());
            Leaks.assertNothingHeld(servlet, root);
            assertEquals(5, servlet.metrics().completed());
            assertEquals(1, servlet.metrics().aborted());
        }
    }

    /**
     * A stream nobody reads is ended after stallTimeout, its transfer's resources given back, while the connection
     * serves the next stream. On Tomcat this waited for ever once a cut waited for the container to have sent what
     * it held: Tomcat's HTTP/2 {@code isReady()} only reports, so no {@code onWritePossible} came (found by review).
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void aStreamNobodyReadsIsEndedAfterTheStallTimeout(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "chunkSize", "64KiB", "stallTimeout", "2s"), 0, true)) {
            Session session = connect(container.uri());
            Download stalled = startDownload(session, container.uri(), "/big.bin", Map.of(), true);
            assertEquals(200, stalled.status());
            Await.until("the stalled transfer ended", Duration.ofSeconds(30),
                    () -> servlet.metrics().aborted() == 1 && servlet.metrics().activeTransfers() == 0,
                    () -> servlet.metrics().toString());
            ExecutionException ended = assertThrows(ExecutionException.class,
                    () -> stalled.body.sha256.get(30, TimeUnit.SECONDS), "the stalled stream was not ended");
            assertTrue(ended.getCause() instanceof AssertionError, ended.toString());

            Download next = startDownload(session, container.uri(), "/big.bin", Map.of(), false);
            assertEquals(TestClient.sha256(big), next.awaitSha256());
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    /**
     * As AbortIT over HTTP/1.1: 30 streams reset after their first MiB leave no transfer, buffer or file open.
     *
     * <p>Why 30: Jetty closes a connection (GOAWAY {@code ENHANCE_YOUR_CALM}) on which more than 128 rate-controlled
     * events happen in one second ({@code AbstractHTTP2ServerConnectionFactory}'s {@code WindowRateControl}), and
     * each reset here costs two or three: the client's {@code RST_STREAM}, Jetty's own {@code RST_STREAM} when the
     * aborted response completes, and any {@code WINDOW_UPDATE} the client sends for a stream the server has already
     * closed. Counted with a recording rate control: 50 resets made 102 events (100 resets, 2 SETTINGS) within one
     * second, so a run in which some late window updates landed could cross 128 and lose the connection: the likely
     * cause of this test's one CI failure, where the request after the resets never got a response (with Jetty's
     * limit set to 100, 50 resets lose the connection every run, GOAWAY {@code invalid_rst_stream_frame_rate}).
     * 30 resets make at most 92.
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = {"JETTY_EE11", "JETTY_EE10", "TOMCAT"})
    void streamsResetByTheClientLeaveNothingBehind(ContainerKind kind) throws Exception {
        int streams = 30;
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = start(kind, servlet)) {
            Session session = connect(container.uri());
            assertEquals(404, startDownload(session, container.uri(), "/missing", Map.of(), false).status());
            long baselineFds = OpenFiles.count();

            List<Download> downloads = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                downloads.add(startDownload(session, container.uri(), "/big.bin", Map.of(), false)
                        .resetAfter(1024 * 1024));
            }
            for (Download download : downloads) {
                assertTrue(download.wasReset.get(60, TimeUnit.SECONDS) >= 1024 * 1024);
            }

            Await.until("every reset transfer ended", Duration.ofSeconds(60),
                    () -> servlet.metrics().aborted() == streams && servlet.metrics().activeTransfers() == 0,
                    () -> servlet.metrics().toString());
            Leaks.assertNothingHeld(servlet, root);
            Await.until("file descriptors back at the baseline", Duration.ofSeconds(30),
                    () -> OpenFiles.count() <= baselineFds, () -> OpenFiles.count() + " open, baseline " + baselineFds);
            assertEquals(0, servlet.metrics().completed());
            // Tomcat counts every RST_STREAM a client sends against the connection (its rapid-reset protection,
            // Http2Protocol's overheadResetFactor) and may close a connection that reset many streams; whether it
            // does depends on how many DATA frames went out meanwhile. So on Tomcat the server must still serve,
            // on a new connection; on Jetty, within its rate (see above), the same connection must, never closed.
            if (kind != ContainerKind.TOMCAT) {
                assertEquals("no session event", sessionEvents.toString(), "Jetty kept the connection open");
            }
            Session next = kind == ContainerKind.TOMCAT ? connect(container.uri()) : session;
            Download after = startDownload(next, container.uri(), "/big.bin", Map.of("Range", "bytes=0-9"), false);
            assertEquals(206, after.status(() -> servlet.metrics().toString()),
                    "the server still serves after the resets");
            assertEquals(TestClient.sha256(Arrays.copyOf(big, 10)), after.awaitSha256());
        }
    }

    private ContainerKind.Running start(ContainerKind kind, SluiceServlet servlet) throws Exception {
        return kind.start(servlet, Map.of("root", root.toString(), "chunkSize", "64KiB"), 0, true);
    }

    private Session connect(URI uri) throws Exception {
        return client.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), sessionEvents)
                .get(10, TimeUnit.SECONDS);
    }

    private Download startDownload(Session session, URI base, String path, Map<String, String> headers,
            boolean paused) throws Exception {
        Download download = new Download();
        download.paused = paused;
        HttpFields.Mutable fields = HttpFields.build();
        headers.forEach(fields::put);
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from(base.resolve(path).toString()),
                HttpVersion.HTTP_2, fields);
        download.stream = session.newStream(new HeadersFrame(request, null, true), download)
                .get(10, TimeUnit.SECONDS);
        return download;
    }

    /**
     * What happened to the test's sessions, so that a download that waits in vain says whether its connection was
     * closed (and with which GOAWAY) or failed, rather than only timing out.
     */
    private static final class SessionEvents implements Session.Listener {
        private final Queue<String> events = new ConcurrentLinkedQueue<>();

        @Override
        public void onGoAway(Session session, GoAwayFrame frame) {
            events.add(session.getLocalSocketAddress() + " GOAWAY " + frame);
        }

        @Override
        public void onClose(Session session, GoAwayFrame frame, Callback callback) {
            events.add(session.getLocalSocketAddress() + " closed " + frame);
            callback.succeeded();
        }

        @Override
        public void onFailure(Session session, Throwable failure, Callback callback) {
            events.add(session.getLocalSocketAddress() + " failed " + failure);
            callback.succeeded();
        }

        @Override
        public String toString() {
            return events.isEmpty() ? "no session event" : String.join("; ", events);
        }
    }

    /** One stream's response: its headers and its body, read as it comes unless paused (until {@link #resume()}). */
    private final class Download implements Stream.Listener {
        final CompletableFuture<MetaData.Response> head = new CompletableFuture<>();
        final Http2Body body = new Http2Body();
        final CompletableFuture<Long> wasReset = new CompletableFuture<>();
        private volatile boolean paused;
        private volatile long resetAfter = Long.MAX_VALUE;
        private volatile Stream stream;

        Download resetAfter(long bytes) {
            resetAfter = bytes;
            return this;
        }

        int status() throws Exception {
            return status(() -> "");
        }

        /** The response's status; if none comes, a failure that says what the sessions and {@code server} saw. */
        int status(Supplier<String> server) throws Exception {
            try {
                return head.get(30, TimeUnit.SECONDS).getStatus();
            } catch (TimeoutException e) {
                throw new AssertionError("no response head on stream " + stream.getId() + " in 30 s; stream "
                        + stream + "; sessions: " + sessionEvents + "; server: " + server.get(), e);
            }
        }

        String header(String name) throws Exception {
            return head.get(30, TimeUnit.SECONDS).getHttpFields().get(name);
        }

        String awaitSha256() throws Exception {
            return body.sha256.get(120, TimeUnit.SECONDS);
        }

        int recvWindow() {
            return ((HTTP2Stream) stream).getRecvWindow();
        }

        void resume() {
            paused = false;
            stream.demand();
        }

        void reset() throws Exception {
            stream.reset(new ResetFrame(stream.getId(), ErrorCode.CANCEL_STREAM_ERROR.code))
                    .get(10, TimeUnit.SECONDS);
        }

        @Override
        public void onHeaders(Stream stream, HeadersFrame frame) {
            head.complete((MetaData.Response) frame.getMetaData());
            if (body.bodyFollows(frame) && !paused) {
                stream.demand();
            }
        }

        @Override
        public void onDataAvailable(Stream stream) {
            if (!body.takeData(stream)) {
                return;
            }
            long total = body.received();
            if (total >= resetAfter) {
                stream.reset(new ResetFrame(stream.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.from(
                        () -> wasReset.complete(total), wasReset::completeExceptionally));
            } else if (!paused) {
                stream.demand();
            }
        }

        @Override
        public void onReset(Stream stream, ResetFrame frame, Callback callback) {
            body.sha256.completeExceptionally(new AssertionError("the server reset stream " + stream.getId() + ": "
                    + frame));
            head.completeExceptionally(new AssertionError("reset before headers: " + frame));
            wasReset.completeExceptionally(new AssertionError("the server reset stream " + stream.getId() + ": "
                    + frame));
            callback.succeeded();
        }

        @Override
        public void onFailure(Stream stream, int error, String reason, Throwable failure, Callback callback) {
            AssertionError why = new AssertionError("stream " + stream.getId() + " failed: error " + error + ", "
                    + reason, failure);
            head.completeExceptionally(why);
            body.sha256.completeExceptionally(why);
            wasReset.completeExceptionally(why);
            callback.succeeded();
        }

        @Override
        public void onClosed(Stream stream) {
            head.completeExceptionally(new AssertionError("stream " + stream.getId() + " closed before headers"));
        }
    }
}
