package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.peers.BlockingFileServlet;
import dev.sluice.servlet.SluiceServlet;
import jakarta.servlet.Servlet;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Slow storage (a FUSE mount adding 5 ms to every read, {@link SlowFuse}): while more big downloads than the
 * container has threads keep both of Sluice's read threads busy and reads queued behind them, small files from the
 * same mount keep answering, byte-exact, and the container's busy threads stay few (a handful, not one per
 * download). The control runs the same load on a blocking servlet, whose threads wait for the storage: its busy
 * threads pass the same bound and its small requests starve.
 */
class SlowStorageIT {

    private static final int THREADS = 16;
    /** More downloads than container threads: a server holding a thread per download could not answer. */
    private static final int DOWNLOADS = 24;
    private static final int SMALL_REQUESTS = 20;
    /**
     * Busy container threads allowed over the idle count: the one small request in flight and callbacks the
     * container runs for a moment (write-possible, async completion); far below {@link #DOWNLOADS}.
     */
    private static final int BUSY_SLACK = 6;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Path source;
    private Path mount;
    private byte[] small;

    private SlowFuse mountSlowStorage() throws IOException {
        source = Files.createDirectories(dir.resolve("source"));
        mount = Files.createDirectories(dir.resolve("mount"));
        for (int i = 0; i < DOWNLOADS; i++) {
            // sparse: the storage's latency is what counts, not the disk's
            try (RandomAccessFile big = new RandomAccessFile(source.resolve("big" + i + ".bin").toFile(), "rw")) {
                big.setLength(8L << 30); // more than any download gets through during the test
            }
        }
        small = new byte[4096];
        new java.util.Random(16).nextBytes(small);
        Files.write(source.resolve("small.bin"), small);
        return SlowFuse.mount(source, mount, 5, 100);
    }

    /** Big downloads, each its own file, each read as fast as the server sends by a thread of {@code readers}. */
    private List<TestClient> startDownloads(ContainerKind.Running container, ExecutorService readers)
            throws IOException {
        List<TestClient> clients = new ArrayList<>();
        for (int i = 0; i < DOWNLOADS; i++) {
            TestClient client = new TestClient(container.uri());
            clients.add(client);
            client.sendOnly("GET", "/big" + i + ".bin");
            readers.execute(client::drainOrCut);
        }
        return clients;
    }

    /** The highest busy-thread count seen by a sampler thread while it runs. */
    private static final class BusySampler implements AutoCloseable {
        private final AtomicInteger max = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        BusySampler(IntSupplier busy) {
            thread = new Thread(() -> {
                while (running.get()) {
                    max.accumulateAndGet(busy.getAsInt(), Math::max);
                    LockSupport.parkNanos(Duration.ofMillis(1).toNanos());
                }
            }, "busy-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        int max() {
            return max.get();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    private static void abortAll(List<TestClient> clients, ExecutorService readers) throws Exception {
        for (TestClient client : clients) {
            client.abort();
        }
        readers.shutdown();
        Await.until("the download readers ended", DEADLINE, readers::isTerminated);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void containerThreadsStayFreeWhileEveryReadThreadWaitsForSlowStorage(ContainerKind kind) throws Exception {
        try (SlowFuse fuse = mountSlowStorage()) {
            SluiceServlet servlet = new SluiceServlet();
            // Two read threads that may not grow (maxReadThreads): every one of them busy is what this test needs.
            try (ContainerKind.Running container = kind.start(servlet,
                    Map.of("root", mount.toString(), "readThreads", "2", "maxReadThreads", "2"), THREADS)) {
                assertEquals(200, TestClient.get(container.uri(), "/small.bin").status());
                int idle = container.busyThreads();
                ExecutorService readers = Executors.newFixedThreadPool(DOWNLOADS);
                List<TestClient> downloads = startDownloads(container, readers);
                try {
                    Await.until("every download running, both read threads busy and reads queued", DEADLINE,
                            () -> servlet.metrics().activeTransfers() == DOWNLOADS
                                    && servlet.metrics().readQueueLength() > 0,
                            () -> servlet.metrics().toString());
                    int queuedSeen = 0;
                    long sentBefore = servlet.metrics().bytesSent();
                    long completedBefore = servlet.metrics().completed();
                    try (BusySampler busy = new BusySampler(container::busyThreads)) {
                        for (int i = 0; i < SMALL_REQUESTS; i++) {
                            try (TestClient quick = new TestClient(container.uri())) {
                                quick.setReadTimeout((int) DEADLINE.toMillis());
                                TestClient.Head head = quick.send("GET", "/small.bin", Map.of(), true);
                                assertEquals(200, head.status());
                                assertArrayEquals(small, quick.readBody(head), "small.bin, request " + i);
                            }
                            if (servlet.metrics().readQueueLength() > 0) {
                                queuedSeen++;
                            }
                        }
                        busy.close();
                        assertTrue(busy.max() <= idle + BUSY_SLACK, "container threads busy at most: " + busy.max()
                                + " (idle: " + idle + ", downloads: " + DOWNLOADS + ")");
                    }
                    assertTrue(queuedSeen > 0, "reads were never queued behind the busy read threads");
                    Await.until("the downloads moved on meanwhile", DEADLINE,
                            () -> servlet.metrics().bytesSent() > sentBefore + SMALL_REQUESTS * small.length);
                    Await.until("the small transfers ended, every download still running", DEADLINE,
                            () -> servlet.metrics().completed() == completedBefore + SMALL_REQUESTS
                                    && servlet.metrics().activeTransfers() == DOWNLOADS,
                            () -> servlet.metrics().toString());
                    assertEquals(0, servlet.metrics().failed(), servlet.metrics().toString());
                } finally {
                    abortAll(downloads, readers);
                }
                Await.until("every download released", DEADLINE,
                        () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().bufferBytesInUse() == 0,
                        () -> servlet.metrics().toString());
            }
        }
    }

    /** The control: a servlet that reads with blocking calls holds a container thread per download. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBlockingServletHoldsAThreadPerDownloadOnTheSameStorage(ContainerKind kind) throws Exception {
        try (SlowFuse fuse = mountSlowStorage()) {
            Servlet blocking = new BlockingFileServlet();
            try (ContainerKind.Running container = kind.start(blocking, Map.of("root", mount.toString()), THREADS)) {
                assertEquals(200, TestClient.get(container.uri(), "/small.bin").status());
                int idle = container.busyThreads();
                ExecutorService readers = Executors.newFixedThreadPool(DOWNLOADS);
                List<TestClient> downloads = startDownloads(container, readers);
                try {
                    Await.until("busy threads past the bound Sluice is held to", DEADLINE,
                            () -> container.busyThreads() > idle + BUSY_SLACK,
                            () -> "busy " + container.busyThreads() + ", idle " + idle);
                    boolean starved = false;
                    long end = System.nanoTime() + DEADLINE.toNanos();
                    while (!starved && System.nanoTime() < end) {
                        try (TestClient quick = new TestClient(container.uri())) {
                            quick.setReadTimeout(3_000);
                            TestClient.Head head = quick.send("GET", "/small.bin", Map.of(), true);
                            assertEquals(200, head.status());
                            assertArrayEquals(small, quick.readBody(head));
                        } catch (SocketTimeoutException e) {
                            starved = true;
                        }
                    }
                    assertTrue(starved, "the blocking servlet kept answering: the test would not catch blocking");
                } finally {
                    abortAll(downloads, readers);
                }
            }
        }
    }
}
