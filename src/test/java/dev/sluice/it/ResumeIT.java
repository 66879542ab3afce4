package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A download cut half-way and resumed the way browsers and download managers do it: {@code Range: bytes=<got>-}
 * with {@code If-Range}. The join must be the file, and when the file changed in between the server must send
 * the new file whole, never a part of it that would be glued onto the old half.
 */
class ResumeIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final long MTIME = 1_700_000_000_000L;
    private static final int SIZE = 8 * 1024 * 1024 + 13;

    @TempDir
    Path root;

    private ContainerKind.Running container;
    private SluiceServlet servlet;

    private void start(ContainerKind kind) throws Exception {
        servlet = new SluiceServlet();
        Map<String, String> params = new HashMap<>();
        params.put("root", root.toString());
        params.put("chunkSize", "64KiB");
        container = launch(kind, servlet, params);
    }

    /** Starts the container; {@link TomcatSendfileResumeIT} starts Tomcat with sendfile instead. */
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        return kind.start(servlet, params, 0);
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

    private byte[] writeFile(long seed, long mtime) throws IOException {
        byte[] data = new byte[SIZE];
        new Random(seed).nextBytes(data);
        Path file = root.resolve("movie.bin");
        Files.write(file, data);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime));
        return data;
    }

    /** The first half of a download, read through a small receive window, then the socket is closed. */
    private record FirstHalf(byte[] bytes, String etag, String lastModified) {
    }

    private FirstHalf downloadHalfThenHangUp(byte[] expected) throws IOException {
        try (TestClient client = new TestClient(container.uri(), 64 * 1024)) {
            TestClient.Head head = client.send("GET", "/movie.bin", Map.of(), false);
            assertEquals(200, head.status());
            assertEquals(SIZE, head.contentLength());
            byte[] half = new byte[SIZE / 2];
            int got = 0;
            while (got < half.length) {
                int n = client.read(half, got, half.length - got);
                if (n < 0) {
                    throw new IOException("connection closed after " + got + " bytes");
                }
                got += n;
            }
            assertArrayEquals(Arrays.copyOf(expected, half.length), half, "the first half");
            return new FirstHalf(half, head.header("etag"), head.header("last-modified"));
        } // closed mid-body, as a client that loses its network
    }

    private void awaitTheCutDownloadEnded() {
        Await.until("the cut download ended", DEADLINE, () -> servlet.metrics().activeTransfers() == 0,
                () -> servlet.metrics().toString());
    }

    private TestClient.Response resume(long from, String ifRange) throws IOException {
        return TestClient.exchange(container.uri(), "GET", "/movie.bin",
                Map.of("Range", "bytes=" + from + "-", "If-Range", ifRange));
    }

    private static byte[] join(byte[] first, byte[] second) {
        byte[] joined = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        return joined;
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aCutDownloadResumedWithIfRangeJoinsIntoTheWholeFile(ContainerKind kind) throws Exception {
        start(kind);
        byte[] data = writeFile(1, MTIME);
        FirstHalf first = downloadHalfThenHangUp(data);
        awaitTheCutDownloadEnded();

        TestClient.Response rest = resume(first.bytes().length, first.etag());
        assertEquals(206, rest.status());
        assertEquals("bytes " + first.bytes().length + "-" + (SIZE - 1) + "/" + SIZE, rest.header("content-range"));
        assertEquals(Long.toString(SIZE - first.bytes().length), rest.header("content-length"));
        assertEquals(first.etag(), rest.header("etag"));
        assertEquals(TestClient.sha256(data), TestClient.sha256(join(first.bytes(), rest.body())),
                "the joined download is not the file");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileRewrittenBetweenTheHalvesIsSentWholeInsteadOfAPart(ContainerKind kind) throws Exception {
        start(kind);
        byte[] old = writeFile(1, MTIME);
        FirstHalf first = downloadHalfThenHangUp(old);
        awaitTheCutDownloadEnded();
        // Same length, other bytes, ten seconds newer: only the modification time tells the versions apart.
        byte[] fresh = writeFile(2, MTIME + 10_000);

        TestClient.Response reply = resume(first.bytes().length, first.etag());
        assertEquals(200, reply.status(), "a 206 here would be glued onto the old half");
        assertNull(reply.header("content-range"));
        assertEquals(Long.toString(SIZE), reply.header("content-length"));
        assertNotEquals(first.etag(), reply.header("etag"));
        assertEquals(TestClient.sha256(fresh), TestClient.sha256(reply.body()), "the body is not the new file");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileRewrittenBetweenTheHalvesIsSentWholeWhenIfRangeIsADate(ContainerKind kind) throws Exception {
        start(kind);
        byte[] old = writeFile(1, MTIME);
        FirstHalf first = downloadHalfThenHangUp(old);
        awaitTheCutDownloadEnded();
        assertEquals(206, resume(SIZE - 1, first.lastModified()).status(), "the date validates the unchanged file");
        byte[] fresh = writeFile(2, MTIME + 10_000);

        TestClient.Response reply = resume(first.bytes().length, first.lastModified());
        assertEquals(200, reply.status(), "a 206 here would be glued onto the old half");
        assertNull(reply.header("content-range"));
        assertEquals(TestClient.sha256(fresh), TestClient.sha256(reply.body()), "the body is not the new file");
    }
}
