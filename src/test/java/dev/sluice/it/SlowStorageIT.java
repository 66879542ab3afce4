package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.peers.BlockingFileServlet;
import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Slow storage (a FUSE mount adding 5 ms to every read, {@link SlowFuse}): while more big downloads than the
 * container has threads keep both of Sluice's read threads busy and reads queued behind them, small files from the
 * same mount keep answering, byte-exact, and no container thread is seen waiting inside the servlet (not one per
 * download, not even a few). The control runs the same load on a blocking servlet, whose threads wait for the
 * storage: its held threads pass the same bound and its small requests starve.
 */
class SlowStorageIT {

    private static final int THREADS = 16;
    /** More downloads than container threads: a server holding a thread per download could not answer. */
    private static final int DOWNLOADS = 24;
    private static final int SMALL_REQUESTS = 20;
    /**
     * Container threads allowed to be seen held ({@link HeldThreads}) at once: none should ever wait for storage;
     * the slack is for a container lock contended for a moment inside a write. Far below {@link #THREADS}, which a
     * servlet that waits for storage holds.
     */
    private static final int HELD_SLACK = 2;
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

    /**
     * Samples every thread's stack until closed and keeps the most container threads seen <em>held</em> at once:
     * a request thread of the container's pool (Jetty's {@code QueuedThreadPool}, Tomcat's
     * {@code ThreadPoolExecutor}) that is inside the servlet under test ({@code dev.sluice} frames) and waits
     * there, either in a file operation or parked, waiting or blocked. A thread merely running a callback is not
     * held: on two cores under this load several callbacks can be descheduled at the same moment, which is why a
     * count of busy threads, which mixes running with waiting, once read 7 over idle and failed the test.
     */
    private static final class HeldThreads implements AutoCloseable {
        private static final Set<String> POOL_RUNNERS = Set.of(
                "org.eclipse.jetty.util.thread.QueuedThreadPool$Runner",
                "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker");
        private static final Set<String> FILE_OPERATIONS = Set.of(
                "sun.nio.ch.FileChannelImpl", "java.io.RandomAccessFile", "java.io.FileInputStream",
                "sun.nio.fs.UnixNativeDispatcher");

        private final AtomicInteger max = new AtomicInteger();
        private final AtomicReference<String> worst = new AtomicReference<>("none");
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        HeldThreads() {
            thread = new Thread(() -> {
                while (running.get()) {
                    sample();
                    LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
                }
            }, "held-thread-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        /** Container threads held now, in one snapshot. */
        static int heldNow() {
            return held().size();
        }

        /** One consistent snapshot (a thread's state and stack taken together, which {@code Thread}'s are not). */
        private static List<String> held() {
            List<String> held = new ArrayList<>();
            for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
                StackTraceElement[] stack = info.getStackTrace();
                if (isHeld(info.getThreadState(), stack)) {
                    held.add(info.getThreadName() + " " + info.getThreadState() + " at " + stack[0]);
                }
            }
            return held;
        }

        static boolean isHeld(Thread.State state, StackTraceElement[] stack) {
            boolean poolThread = false;
            boolean inServlet = false;
            boolean inFileOperation = false;
            for (StackTraceElement frame : stack) {
                poolThread |= POOL_RUNNERS.contains(frame.getClassName());
                inServlet |= frame.getClassName().startsWith("dev.sluice.");
                inFileOperation |= FILE_OPERATIONS.contains(frame.getClassName());
            }
            boolean waiting = state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING
                    || state == Thread.State.BLOCKED;
            return poolThread && inServlet && (inFileOperation || waiting);
        }

        private void sample() {
            List<String> now = held();
            if (now.size() > max.get()) {
                max.set(now.size());
                worst.set(String.join("; ", now));
            }
        }

        int max() {
            return max.get();
        }

        /** The threads of the sample that held the most. */
        String worst() {
            return worst.get();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    /** GETs small.bin on a connection of its own and checks its bytes, waiting up to {@link #DEADLINE}. */
    private void getSmall(ContainerKind.Running container, int request) throws IOException {
        try (TestClient quick = new TestClient(container.uri())) {
            quick.setReadTimeout((int) DEADLINE.toMillis());
            TestClient.Head head = quick.send("GET", "/small.bin", Map.of(), true);
            assertEquals(200, head.status());
            assertArrayEquals(small, quick.readBody(head), "small.bin, request " + request);
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
                    try (HeldThreads held = new HeldThreads()) {
                        for (int i = 0; i < SMALL_REQUESTS; i++) {
                            getSmall(container, i);
                            if (servlet.metrics().readQueueLength() > 0) {
                                queuedSeen++;
                            }
                        }
                        held.close();
                        assertTrue(held.max() <= HELD_SLACK, "container threads held at most: " + held.max()
                                + " (downloads: " + DOWNLOADS + "): " + held.worst());
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

    /**
     * A stalled mount holds no container thread: while a gate file exists the mount holds every metadata call and
     * open, as a stalled network mount does, and more new downloads than the container has threads wait for their
     * paths to resolve and their files to open. Meanwhile a small file whose bytes the cache holds answers,
     * byte-exact, every time; no container thread is seen held; and no download has its answer. Once the calls go
     * on, every download arrives byte-exact, and no file stays open (one more client went away while it waited). A
     * server that resolves and opens on its container threads (Sluice before {@code OpenAhead}: checked) holds one
     * per download there, and its small requests wait for the gate.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void newDownloadsWaitingForAStalledMountHoldNoContainerThread(ContainerKind kind) throws Exception {
        source = Files.createDirectories(dir.resolve("source"));
        mount = Files.createDirectories(dir.resolve("mount"));
        Path gate = dir.resolve("hold");
        java.util.Random random = new java.util.Random(24);
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < DOWNLOADS; i++) {
            byte[] body = new byte[(256 << 10) + i];
            random.nextBytes(body);
            bodies.add(body);
            Files.write(source.resolve("new" + i + ".bin"), body);
        }
        small = new byte[4096];
        random.nextBytes(small);
        Files.write(source.resolve("small.bin"), small);
        // settled: the cache keeps no bytes of a file modified a moment ago (it may be being written)
        Files.setLastModifiedTime(source.resolve("small.bin"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000L));
        Files.write(source.resolve("gone.bin"), bodies.get(0));
        try (SlowFuse fuse = SlowFuse.mount(source, mount, 0, 0, null, gate)) {
            SluiceServlet servlet = new SluiceServlet();
            // No revalidation of small.bin while the mount is held: its cache entry stays usable throughout.
            try (ContainerKind.Running container = kind.start(servlet,
                    Map.of("root", mount.toString(), "cacheRevalidate", "10m"), THREADS)) {
                assertArrayEquals(small, TestClient.get(container.uri(), "/small.bin").body());
                Await.until("small.bin's bytes in the cache (its requests then need no storage)", DEADLINE,
                        () -> servlet.fileCache().fileBytes() == small.length);
                Files.createFile(gate);
                ExecutorService clients = Executors.newFixedThreadPool(DOWNLOADS);
                List<java.util.concurrent.Future<TestClient.Response>> downloads = new ArrayList<>();
                try {
                    for (int i = 0; i < DOWNLOADS; i++) {
                        String path = "/new" + i + ".bin";
                        downloads.add(clients.submit(() -> TestClient.get(container.uri(), path)));
                    }
                    try (TestClient gone = new TestClient(container.uri())) {
                        gone.sendOnly("GET", "/gone.bin");
                        Await.until("calls waiting at the mount", DEADLINE, () -> callsWaiting(gate) > 0);
                        gone.abort(); // gone while the mount is held
                    }
                    try (HeldThreads held = new HeldThreads()) {
                        for (int i = 0; i < SMALL_REQUESTS; i++) {
                            getSmall(container, i);
                        }
                        held.close();
                        assertTrue(held.max() <= HELD_SLACK, "container threads held at most: " + held.max()
                                + " (downloads waiting for the mount: " + DOWNLOADS + "): " + held.worst());
                    }
                    assertTrue(callsWaiting(gate) > 0, "the calls went on before the gate was removed");
                    for (int i = 0; i < DOWNLOADS; i++) {
                        assertFalse(downloads.get(i).isDone(), "new" + i + ".bin answered while the mount was held");
                    }
                } finally {
                    Files.deleteIfExists(gate);
                }
                for (int i = 0; i < DOWNLOADS; i++) {
                    TestClient.Response response = downloads.get(i).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                    assertEquals(200, response.status(), "new" + i + ".bin");
                    assertArrayEquals(bodies.get(i), response.body(), "new" + i + ".bin");
                }
                clients.shutdown();
                Leaks.assertNothingHeld(servlet, mount);
            }
        }
    }

    private static int callsWaiting(Path gate) {
        try {
            return SlowFuse.callsWaiting(gate);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A fast client's spans come from slow storage in pieces: the whole file and a range across span boundaries of
     * another file (none of whose pages were read before) arrive byte-exact, on every container (Tomcat's sendfile
     * off, so the engine sends), and both transfers end completed, none failed. Twice: with a fixed read pool,
     * where one read thread asks for a span's pieces at once ({@code PageAdvice}: the tests open
     * {@code java.nio}, as the launcher's manifest does), and with a pool that may grow, where free read threads
     * load them side by side ({@code SpanLoad}, as in a WAR without that option).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileFromSlowStorageArrivesByteExactWhenItsSpansAreLoadedInPieces(ContainerKind kind) throws Exception {
        try (SlowFuse fuse = mountSlowStorage()) {
            byte[] random = new byte[12 << 20];
            new java.util.Random(12).nextBytes(random);
            for (String pool : List.of("advised", "shared")) {
                Files.write(source.resolve(pool + ".bin"), random);
                Files.write(source.resolve(pool + "2.bin"), random); // for the range: none of its pages read before
                SluiceServlet servlet = new SluiceServlet();
                Map<String, String> settings = pool.equals("advised")
                        ? Map.of("root", mount.toString(), "sendfile", "false")
                        : Map.of("root", mount.toString(), "sendfile", "false", "readThreads", "4",
                                "maxReadThreads", "5");
                try (ContainerKind.Running container = kind.start(servlet, settings, THREADS)) {
                    TestClient.Response whole = TestClient.get(container.uri(), "/" + pool + ".bin");
                    assertEquals(200, whole.status());
                    assertArrayEquals(random, whole.body(), pool);
                    TestClient.Response range = TestClient.exchange(container.uri(), "GET", "/" + pool + "2.bin",
                            Map.of("Range", "bytes=3000000-11000000"));
                    assertEquals(206, range.status());
                    assertArrayEquals(Arrays.copyOfRange(random, 3_000_000, 11_000_001), range.body(), pool);
                    Await.until("both transfers ended, completed", DEADLINE,
                            () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().completed() >= 2,
                            () -> servlet.metrics().toString());
                    assertEquals(0, servlet.metrics().failed(), servlet.metrics().toString());
                }
            }
        }
    }

    /** The control: a servlet that reads with blocking calls holds a container thread per download. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBlockingServletHoldsAThreadPerDownloadOnTheSameStorage(ContainerKind kind) throws Exception {
        try (SlowFuse fuse = mountSlowStorage()) {
            BlockingFileServlet blocking = new BlockingFileServlet();
            try (ContainerKind.Running container = kind.start(blocking, Map.of("root", mount.toString()), THREADS)) {
                assertEquals(200, TestClient.get(container.uri(), "/small.bin").status());
                ExecutorService readers = Executors.newFixedThreadPool(DOWNLOADS);
                List<TestClient> downloads = startDownloads(container, readers);
                try {
                    Await.until("held threads past the bound Sluice is held to", DEADLINE,
                            () -> HeldThreads.heldNow() > HELD_SLACK,
                            () -> "held " + HeldThreads.held());
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
                // as in NonBlockingIT: Jetty's stop must not meet a thread blocked in a write
                Await.until("every blocked request ended with its client gone", DEADLINE,
                        () -> blocking.inFlight() == 0, () -> blocking.inFlight() + " requests still in the servlet");
            }
        }
    }
}
