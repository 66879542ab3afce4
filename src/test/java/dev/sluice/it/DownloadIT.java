package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.EntityTag;
import dev.sluice.http.HttpDate;
import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Downloads through real containers: bytes, headers, concurrency, huge files, and files that change. */
class DownloadIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path work;

    private ContainerKind.Running container;
    private SluiceServlet servlet;
    private Path root;

    private void start(ContainerKind kind, Map<String, String> extra) throws Exception {
        root = Files.createDirectory(work.resolve("root"));
        servlet = new SluiceServlet();
        Map<String, String> params = new java.util.HashMap<>(extra);
        params.put("root", root.toString());
        container = launch(kind, servlet, params);
    }

    /** Starts the container; {@link TomcatSendfileDownloadIT} starts Tomcat with sendfile instead. */
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        return kind.start(servlet, params, 0);
    }

    /**
     * Transfers that ended as {@code counter} counts them; where the container sends bodies itself, the bodies
     * handed to it instead (how those end only the container knows).
     */
    long transfers(java.util.function.ToLongFunction<dev.sluice.stream.TransferMetrics> counter) {
        return counter.applyAsLong(servlet.metrics());
    }

    @AfterEach
    void stop() throws Exception {
        if (container != null) {
            try {
                Leaks.assertNothingHeld(servlet, root);
            } finally {
                container.close();
            }
        }
    }

    private byte[] write(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(name.hashCode()).nextBytes(data);
        Files.write(root.resolve(name), data);
        return data;
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void downloadsAreByteExactWithTheHeadersOfTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "64KiB"));
        byte[] big = write("big.bin", 24 * 1024 * 1024 + 17);
        byte[] one = write("one.bin", 1);
        Files.writeString(root.resolve("notes.txt"), "plain text\n", StandardCharsets.UTF_8);
        Files.setLastModifiedTime(root.resolve("big.bin"), FileTime.fromMillis(1_700_000_000_123L));

        TestClient.Response response = TestClient.get(container.uri(), "/big.bin");
        assertEquals(200, response.status());
        assertEquals(TestClient.sha256(big), TestClient.sha256(response.body()));
        assertEquals(Long.toString(big.length), response.header("content-length"));
        assertEquals("application/octet-stream", response.header("content-type"));
        assertEquals(HttpDate.format(1_700_000_000_123L), response.header("last-modified"));
        assertEquals("Tue, 14 Nov 2023 22:13:20 GMT", response.header("last-modified"));
        assertEquals(EntityTag.strong(big.length, 1_700_000_000_123L).toHeaderValue(), response.header("etag"));
        assertTrue(response.header("etag").startsWith("\""), "ETag must be strong");
        assertEquals("bytes", response.header("accept-ranges"));

        assertArrayEquals(one, TestClient.get(container.uri(), "/one.bin").body());
        TestClient.Response text = TestClient.get(container.uri(), "/notes.txt");
        assertEquals("plain text\n", text.text());
        assertTrue(text.header("content-type").startsWith("text/plain"), text.header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void headAnswersTheSameHeadersWithoutABody(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        write("a.bin", 3 * 1024 * 1024);
        TestClient.Response get = TestClient.get(container.uri(), "/a.bin");
        // The client can hold the last byte before the server's transfer has ended: it ends when the container
        // confirms that write, which it does after the bytes went out (once in a clean-clone run, on Jetty ee10).
        Await.until("the GET's transfer ended", DEADLINE, () -> transfers(m -> m.completed()) == 1,
                () -> servlet.metrics().toString());
        TestClient.Response head = TestClient.exchange(container.uri(), "HEAD", "/a.bin", Map.of());
        assertEquals(200, head.status());
        for (String name : List.of("content-length", "content-type", "last-modified", "etag", "accept-ranges")) {
            assertEquals(get.header(name), head.header(name), name);
        }
        assertEquals(0, servlet.metrics().activeTransfers(), "the HEAD started a transfer");
        assertEquals(1, transfers(m -> m.completed()), "the HEAD sent a body");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aDirectoryRedirectsToItsSlashAndServesItsIndex(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.createDirectories(root.resolve("docs/empty"));
        Files.writeString(root.resolve("docs/index.html"), "<h1>docs</h1>");

        TestClient.Response redirect = TestClient.get(container.uri(), "/docs?x=1");
        assertEquals(302, redirect.status());
        assertTrue(redirect.header("location").endsWith("/docs/?x=1"), redirect.header("location"));
        TestClient.Response index = TestClient.get(container.uri(), "/docs/");
        assertEquals(200, index.status());
        assertEquals("<h1>docs</h1>", index.text());
        assertTrue(index.header("content-type").startsWith("text/html"), index.header("content-type"));
        assertEquals(403, TestClient.get(container.uri(), "/docs/empty/").status());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anEmptyFileIsAnEmptyBody(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        write("empty.bin", 0);
        TestClient.Response response = TestClient.get(container.uri(), "/empty.bin");
        assertEquals(200, response.status());
        assertEquals("0", response.header("content-length"));
        assertEquals(0, response.body().length);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void missingFilesAndPathsOutsideTheRootAreRefusedPlainly(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.writeString(work.resolve("secret.txt"), "TOP-SECRET");
        Files.createSymbolicLink(root.resolve("link-out"), work.resolve("secret.txt"));
        Files.writeString(root.resolve(".hidden"), "hidden");

        TestClient.Response missing = TestClient.get(container.uri(), "/nope.bin");
        assertEquals(404, missing.status());
        assertFalse(missing.text().contains("Exception"), missing.text());
        for (String path : List.of("/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2e/secret.txt",
                "/.%2e/secret.txt", "/..%2fsecret.txt", "/..%5csecret.txt", "/..;/secret.txt",
                "/%252e%252e/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/link-out", "/.hidden",
                "/secret.txt%00", "/%00")) {
            TestClient.Response response = TestClient.get(container.uri(), path);
            assertTrue(response.status() >= 400 && response.status() < 500, path + " -> " + response.status());
            assertFalse(response.text().contains("TOP-SECRET"), path);
            assertFalse(response.text().contains("hidden"), path);
            assertFalse(response.text().contains("at dev.sluice"), path + " leaked a stack trace");
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void hundredConcurrentDownloadsAreAllByteExact(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "32KiB", "maxBufferMemory", "4MiB"));
        byte[] data = write("shared.bin", 4 * 1024 * 1024 + 3);
        String expected = TestClient.sha256(data);
        ExecutorService clients = Executors.newFixedThreadPool(100);
        try {
            List<Future<String>> downloads = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                downloads.add(clients.submit(() -> {
                    try (TestClient client = new TestClient(container.uri())) {
                        TestClient.Head head = client.send("GET", "/shared.bin", Map.of(), true);
                        return client.sha256(head.contentLength());
                    }
                }));
            }
            for (Future<String> download : downloads) {
                assertEquals(expected, download.get());
            }
        } finally {
            clients.shutdownNow();
        }
        Await.until("100 completed", DEADLINE, () -> transfers(m -> m.completed()) == 100,
                () -> servlet.metrics().toString());
        assertTrue(servlet.metrics().bufferBytesHighWater() <= 4 * 1024 * 1024);
    }

    /** 5 GiB, sparse: lengths and offsets past 2^31 and 2^32 must survive every int on the way. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFiveGibFileHasItsExactLengthAndItsBytesPastFourGib(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "1MiB"));
        long size = 5L << 30;
        long marker = (4L << 30) + 12345;
        byte[] pattern = "sluice-marker-past-4GiB".getBytes(StandardCharsets.US_ASCII);
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("huge.bin").toFile(), "rw")) {
            file.setLength(size);
            file.seek(marker);
            file.write(pattern);
        }

        TestClient.Response head = TestClient.exchange(container.uri(), "HEAD", "/huge.bin", Map.of());
        assertEquals(Long.toString(size), head.header("content-length"));

        try (TestClient client = new TestClient(container.uri())) {
            TestClient.Head response = client.send("GET", "/huge.bin", Map.of(), true);
            assertEquals(size, response.contentLength());
            assertTrue(client.skip(marker - 100));
            byte[] window = new byte[100 + pattern.length + 100];
            client.readFully(window);
            byte[] expected = new byte[window.length];
            System.arraycopy(pattern, 0, expected, 100, pattern.length);
            assertArrayEquals(expected, window);
            client.abort();
        }
        Await.until("the aborted transfer ended", DEADLINE, () -> transfers(m -> m.aborted()) == 1,
                () -> servlet.metrics().toString());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileThatShrinksMidDownloadCutsTheConnection(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "64KiB", "readAhead", "1"));
        byte[] data = write("shrinking.bin", 64 * 1024 * 1024);
        try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
            client.setReadTimeout(20_000);
            TestClient.Head head = client.send("GET", "/shrinking.bin", Map.of(), false); // keep-alive
            assertEquals(data.length, head.contentLength());
            byte[] first = new byte[1024 * 1024];
            client.readFully(first);
            assertArrayEquals(java.util.Arrays.copyOf(data, first.length), first);
            try (RandomAccessFile file = new RandomAccessFile(root.resolve("shrinking.bin").toFile(), "rw")) {
                file.setLength(8 * 1024 * 1024);
            }
            long rest = client.drainToEnd(); // must end: a connection kept open would time out here
            assertTrue(first.length + rest < data.length, "the short body was passed off as complete");
        }
        Await.until("the transfer failed", DEADLINE, () -> transfers(m -> m.failed()) == 1,
                () -> servlet.metrics().toString());
        TestClient.Response after = TestClient.get(container.uri(), "/shrinking.bin");
        assertEquals(8 * 1024 * 1024, after.body().length, "the server is still healthy afterwards");
    }

    /**
     * A file truncated below what a paused client's download has already read ahead: the write that sends those
     * chunks is the first to touch their pages since. A container that copies the part of a write its socket did
     * not take into buffers of its own (Tomcat) would copy from pages the truncation took away, a fault the JVM
     * reports later, as an {@code InternalError} in whatever that thread does next: with mapped chunks on Tomcat,
     * later downloads of other files failed, a read thread died and a transfer stayed stuck for good. Only the
     * truncated download may fail, on every container.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileTruncatedUnderItsReadAheadFailsThatDownloadAlone(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "64KiB", "limitRate", "8MiB"));
        byte[] data = write("cut.bin", 32 * 1024 * 1024);
        byte[] other = write("other.bin", 4 * 1024 * 1024);
        try (LogCapture log = LogCapture.of("dev.sluice.servlet.SluiceSender");
             TestClient client = new TestClient(container.uri(), 16 * 1024)) {
            client.setReadTimeout(20_000);
            client.send("GET", "/cut.bin", Map.of(), false); // keep-alive
            byte[] first = new byte[2 * 1024 * 1024];
            client.readFully(first);
            assertArrayEquals(java.util.Arrays.copyOf(data, first.length), first);
            try (RandomAccessFile file = new RandomAccessFile(root.resolve("cut.bin").toFile(), "rw")) {
                file.setLength(512 * 1024);
            }
            long rest = client.drainToEnd(); // must end: a connection kept open would time out here
            assertTrue(first.length + rest < data.length, "the short body was passed off as complete");
            // under a limit, never handed to Tomcat's sendfile: the engine's own count, here and in the subclass
            Await.until("the transfer failed", DEADLINE, () -> servlet.metrics().failed() == 1,
                    () -> servlet.metrics().toString());
            Supplier<List<String>> failures = () -> log.messages(Level.WARNING).stream()
                    .filter(m -> m.contains("/cut.bin")).toList();
            Await.until("its failure logged", DEADLINE, () -> !failures.get().isEmpty(), failures::toString);
            assertEquals(1, failures.get().size(), failures.get().toString());
            assertFalse(failures.get().get(0).contains("InternalError"), "a fault in a copy from the mapping: "
                    + failures.get());
        }
        // Tomcat is given no slices of a mapping (it copies what its socket does not take); Jetty is (Servlet 6.1).
        assertEquals(ServletApiIT.BYTE_BUFFER_WRITE && kind != ContainerKind.TOMCAT,
                servlet.metrics().mappedWindows() > 0, "mapped windows: " + servlet.metrics().mappedWindows());
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(other, TestClient.get(container.uri(), "/other.bin").body(), "download " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileDeletedMidDownloadIsStillServedWhole(ContainerKind kind) throws Exception {
        start(kind, Map.of("chunkSize", "64KiB"));
        byte[] data = write("doomed.bin", 32 * 1024 * 1024);
        try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
            TestClient.Head head = client.send("GET", "/doomed.bin", Map.of(), true);
            byte[] first = new byte[1024 * 1024];
            client.readFully(first);
            Files.delete(root.resolve("doomed.bin"));
            String rest = client.sha256(head.contentLength() - first.length);
            assertEquals(TestClient.sha256(java.util.Arrays.copyOfRange(data, first.length, data.length)), rest);
        }
        assertEquals(404, TestClient.get(container.uri(), "/doomed.bin").status());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBadSettingStopsStartUpNamingTheSettingAndValue(ContainerKind kind) throws IOException {
        kind.assumeInThisRun();
        Files.writeString(work.resolve("public.txt"), "must not be served");
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.sluice");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try {
            SluiceServlet bad = new SluiceServlet();
            assertThrows(Exception.class, () -> kind.start(bad, Map.of("root", work.toString(),
                    "chunkSize", "lots"), 0).close(), "the container started despite a bad setting");
        } finally {
            log.removeHandler(capture);
        }
        assertTrue(logged.stream().anyMatch(m -> m.contains("'chunkSize'") && m.contains("'lots'")),
                "no log line names the setting and the value: " + logged);
    }
}
