package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 200 slow clients never push the chunk buffers past maxBufferMemory, and every one gets its bytes. With buffers
 * ({@code bufferKind=direct}): mapped chunks are pages of the file and use none.
 */
class MemoryBoundIT {

    private static final int CLIENTS = 200;
    /**
     * Small enough to be under pressure for sure: a parked slow client holds two 16 KiB chunks, so 200 of them
     * would hold 6.4 MB. (2 MiB was enough while slow clients' chunks grew during the refills of their socket
     * buffers; since they no longer do, 200 clients stayed just under 2 MiB and never waited.)
     */
    private static final long BUDGET = 512L * 1024;

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void slowClientsStayUnderTheBufferBudget(ContainerKind kind) throws Exception {
        byte[] data = randomFile("video.bin", 4 * 1024 * 1024);
        String expected = TestClient.sha256(data);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "chunkSize", "64KiB", "maxBufferMemory", Long.toString(BUDGET), "bufferKind", "direct"), 0)) {
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<String>> downloads = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    downloads.add(pool.submit(() -> slowDownload(container)));
                }
                for (Future<String> download : downloads) {
                    assertEquals(expected, download.get());
                }
            } finally {
                pool.shutdownNow();
            }
            Await.until("every download ended and released its buffers", Duration.ofSeconds(30),
                    () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().bufferBytesInUse() == 0,
                    () -> servlet.metrics().toString());
            TransferMetrics m = servlet.metrics();
            assertEquals(CLIENTS, m.completed());
            assertTrue(m.bufferBytesHighWater() <= BUDGET, "over the budget: " + m);
            assertTrue(m.bufferWaits() > 0, "the budget was never under pressure, so this proved nothing: " + m);
        }
    }

    /**
     * A client that reads a megabyte and then stops (a paused player): within a few seconds its download holds
     * the one chunk the container is writing, not its {@code readAhead} of eight, and it still gets every byte
     * once it reads again.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientThatStopsReadingKeepsOnlyTheChunkBeingWritten(ContainerKind kind) throws Exception {
        byte[] data = randomFile("film.bin", 32 * 1024 * 1024);
        long chunk = 16 * 1024;
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "chunkSize", "16KiB", "readAhead", "8", "bufferKind", "direct"), 0)) {
            try (TestClient client = new TestClient(container.uri())) {
                TestClient.Head head = client.send("GET", "/film.bin", Map.of(), true);
                assertEquals(200, head.status());
                byte[] first = new byte[1024 * 1024];
                client.readFully(first);
                // Parked for its socket: nothing sent for over a second. Before that, a download whose reads lag its
                // writes may hold one chunk for a moment, which would prove nothing.
                long[] sent = {-1, 0};
                Await.until("the paused download holds one chunk", Duration.ofSeconds(20), () -> {
                    TransferMetrics m = servlet.metrics();
                    long now = System.nanoTime();
                    if (m.bytesSent() != sent[0]) {
                        sent[0] = m.bytesSent();
                        sent[1] = now;
                        return false;
                    }
                    return now - sent[1] > Duration.ofMillis(1500).toNanos() && m.activeTransfers() == 1
                            && m.bufferBytesInUse() == chunk;
                }, () -> servlet.metrics().toString());
                byte[] rest = new byte[data.length - first.length];
                client.readFully(rest);
                assertArrayEquals(Arrays.copyOf(data, first.length), first);
                assertArrayEquals(Arrays.copyOfRange(data, first.length, data.length), rest);
            }
            Await.until("the download ended and released its buffers", Duration.ofSeconds(30),
                    () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().bufferBytesInUse() == 0,
                    () -> servlet.metrics().toString());
            assertEquals(1, servlet.metrics().completed(), servlet.metrics().toString());
        }
    }

    /**
     * A client paused past {@code stallTimeout} is cut, and what it reads afterwards (what the kernel and the
     * container had queued before the cut) is a true prefix of the file: never bytes from further on.
     *
     * <p>On Tomcat 11.0.24 it failed in every run until Sluice waited, before it ended such a request, for Tomcat
     * to have sent what it held (see {@code AsyncEnd}): the client read, where the last chunk given to Tomcat began,
     * that chunk's last 8 KiB ("byte 12764136 is not the file's", the bytes found 56 KiB further on, the chunk being
     * 64 KiB). The access log is on, so that every listener between the engine and that wait passes on the
     * container's call that ends it.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientPausedPastTheStallTimeoutReadsAPrefixThenTheCut(ContainerKind kind) throws Exception {
        readsAPrefixAfterTheCut(kind, "3s", false);
    }

    /**
     * The same when the server stops between the cut and the client's next read. On Tomcat the cut waits there for
     * Tomcat to have sent what it holds, and a stopping web application times its requests out: that timeout's
     * own end of the request wrote ahead of the queue as the cut's had (found by review).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aServerStoppedAfterAStallCutLeavesAPrefix(ContainerKind kind) throws Exception {
        readsAPrefixAfterTheCut(kind, "3s", true);
    }

    /** The same when the server stops while the client pauses, before stallTimeout: the stop ends the download. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aServerStoppedWhileAClientPausesLeavesAPrefix(ContainerKind kind) throws Exception {
        readsAPrefixAfterTheCut(kind, "60s", true);
    }

    /**
     * A client reads 8 MiB and pauses; once the download ended by {@code stallTimeout} (or, if that is long, once
     * it sent nothing for a second and a half), the server stops if {@code stop}; then the client reads on.
     */
    private void readsAPrefixAfterTheCut(ContainerKind kind, String stallTimeout, boolean stop) throws Exception {
        byte[] data = randomFile("film.bin", 64 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "stallTimeout", stallTimeout, "bufferKind", "direct", "accessLog", "true"), 0);
        boolean stopped = false;
        try {
            int from = 1000;
            try (TestClient client = new TestClient(container.uri())) {
                TestClient.Head head = client.send("GET", "/film.bin", Map.of("Range", "bytes=" + from + "-"), true);
                assertEquals(206, head.status());
                byte[] first = new byte[8 * 1024 * 1024];
                client.readFully(first);
                assertArrayEquals(Arrays.copyOfRange(data, from, from + first.length), first);
                if (stallTimeout.equals("60s")) {
                    long[] sent = {-1, 0};
                    Await.until("the paused download sent nothing for a while", Duration.ofSeconds(20), () -> {
                        long now = System.nanoTime();
                        if (servlet.metrics().bytesSent() != sent[0]) {
                            sent[0] = servlet.metrics().bytesSent();
                            sent[1] = now;
                            return false;
                        }
                        return now - sent[1] > Duration.ofMillis(1500).toNanos();
                    }, () -> servlet.metrics().toString());
                } else {
                    Await.until("the stalled download ended", Duration.ofSeconds(30),
                            () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().aborted() == 1,
                            () -> servlet.metrics().toString());
                }
                if (stop) {
                    stopped = true;
                    container.close();
                }
                client.setReadTimeout(30_000);
                byte[] buffer = new byte[64 * 1024];
                long position = from + first.length;
                try {
                    for (int n; (n = client.read(buffer, 0, buffer.length)) > 0; position += n) {
                        for (int i = 0; i < n; i++) {
                            if (buffer[i] != data[(int) position + i]) {
                                throw new AssertionError("byte " + (position + i) + " is not the file's ("
                                        + (position - from) + " bytes read before this read)");
                            }
                        }
                    }
                } catch (java.net.SocketTimeoutException stillOpen) {
                    throw new AssertionError("the connection stayed open after the cut", stillOpen);
                } catch (java.io.IOException cut) {
                    // the cut may show as a reset
                }
                assertTrue(position < data.length, "not cut");
            }
        } finally {
            if (!stopped) {
                container.close();
            }
        }
    }

    private byte[] randomFile(String name, int size) throws java.io.IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(root.resolve(name), data);
        return data;
    }

    /** Reads 16 KiB at a time with a pause between reads, through an 8 KiB receive window. */
    private static String slowDownload(ContainerKind.Running container) throws Exception {
        try (TestClient client = new TestClient(container.uri(), 8 * 1024)) {
            TestClient.Head head = client.send("GET", "/video.bin", Map.of(), true);
            var digest = TestClient.newDigest();
            byte[] buffer = new byte[16 * 1024];
            long left = head.contentLength();
            while (left > 0) {
                int n = client.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new java.io.EOFException("cut off with " + left + " bytes to go");
                }
                digest.update(buffer, 0, n);
                left -= n;
                LockSupport.parkNanos(Duration.ofMillis(5).toNanos()); // a slow reader, not a wait for a condition
            }
            return java.util.HexFormat.of().formatHex(digest.digest());
        }
    }
}
