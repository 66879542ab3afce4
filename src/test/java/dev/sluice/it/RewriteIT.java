package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.FileChangedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A file changed in place while it is downloaded, through real containers: the body never ends cleanly (the
 * connection is cut short of its length), the transfer counts as failed, and one WARNING line says why. A file
 * replaced by a rename keeps being served whole. The engine's checks are tested one interleaving at a time in
 * {@code TransferTest}; here the containers must carry the cut to the client.
 */
class RewriteIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final int SIZE = 64 * 1024 * 1024;

    @TempDir
    Path work;

    private ContainerKind.Running container;
    private SluiceServlet servlet;
    private Path root;
    private final List<LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("dev.sluice");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    static Stream<Arguments> changes() {
        List<Arguments> all = new ArrayList<>();
        for (ContainerKind kind : ContainerKind.values()) {
            for (String change : List.of("rewrite", "overwrite", "append")) {
                all.add(Arguments.of(kind, change));
            }
        }
        return all.stream();
    }

    @AfterEach
    void stop() throws Exception {
        logger.removeHandler(capture);
        if (container != null) {
            try {
                Leaks.assertNothingHeld(servlet, root);
            } finally {
                container.close();
            }
        }
    }

    private byte[] start(ContainerKind kind, String name) throws Exception {
        root = Files.createDirectory(work.resolve("root"));
        byte[] data = new byte[SIZE];
        new Random(7).nextBytes(data);
        Files.write(root.resolve(name), data);
        servlet = new SluiceServlet();
        container = kind.start(servlet, Map.of("root", root.toString(), "chunkSize", "64KiB", "readAhead", "1"), 0);
        logger.addHandler(capture);
        return data;
    }

    @ParameterizedTest
    @MethodSource("changes")
    void aFileChangedInPlaceMidDownloadIsCutAndCountedAsFailed(ContainerKind kind, String change) throws Exception {
        kind.assumeInThisRun();
        byte[] data = start(kind, "served.bin");
        Path file = root.resolve("served.bin");
        try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
            client.setReadTimeout(20_000);
            TestClient.Head head = client.send("GET", "/served.bin", Map.of(), false); // keep-alive
            assertEquals(SIZE, head.contentLength());
            byte[] first = readFully(client, 1024 * 1024);
            assertArrayEquals(Arrays.copyOf(data, first.length), first);
            changeInPlace(file, change);
            long rest = client.drainToEnd(); // must end: a connection kept open would time out here
            assertTrue(first.length + rest < SIZE, "a body spliced from two versions was passed off as complete");
        }
        Await.until("the transfer failed", DEADLINE, () -> servlet.metrics().failed() == 1,
                () -> servlet.metrics().toString());
        assertEquals(0, servlet.metrics().aborted(), "the file's change was blamed on the client");
        Await.until("one warning", DEADLINE, () -> !warnings.isEmpty(), warnings::toString);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).getMessage().matches("Sluice: /served\\.bin \\(full\\) failed after \\d+ of "
                + SIZE + " bytes: .*(" + FileChangedException.class.getSimpleName() + "|FileShrankException).*"),
                warnings.get(0).getMessage());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aFileReplacedByARenameMidDownloadIsServedWhole(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        byte[] data = start(kind, "served.bin");
        try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
            client.setReadTimeout(20_000);
            TestClient.Head head = client.send("GET", "/served.bin", Map.of(), true);
            byte[] first = readFully(client, 1024 * 1024);
            Path next = root.resolve("served.bin.new");
            Files.write(next, new byte[SIZE]);
            Files.move(next, root.resolve("served.bin"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            String rest = client.sha256(head.contentLength() - first.length);
            assertEquals(TestClient.sha256(Arrays.copyOfRange(data, first.length, data.length)), rest);
        }
        Await.until("the transfer completed", DEADLINE, () -> servlet.metrics().completed() == 1,
                () -> servlet.metrics().toString());
        assertEquals(List.of(), warnings);
    }

    /**
     * A file rewritten in place over and over while it is requested, as a job that copies a new version over the
     * served file does: a download whose file changed before its first byte is answered 503 with
     * {@code Retry-After: 1} (asked again a moment later, the copy is done), never 500, and its access-log line says
     * 503. Any other download is a 200, whole or cut short. Its bytes are not compared here: a change within the
     * file system's timestamp tick (a few milliseconds before Linux 6.13's multigrain timestamps, or on other file
     * systems), with the size unchanged, is invisible to any check of size and time, and this loop rewrites far
     * faster than any deployment; the bytes of changes that are seen are {@code TransferTest}'s and the test above.
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void aFileRewrittenInPlaceBeforeItsFirstByteIsA503ToAskAgain(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        root = Files.createDirectory(work.resolve("root"));
        int size = 256 * 1024; // above cacheMaxFileSize: read from the file each time
        byte[][] versions = {new byte[size], new byte[size]};
        new Random(11).nextBytes(versions[0]);
        new Random(12).nextBytes(versions[1]);
        Path file = Files.write(root.resolve("copied.bin"), versions[0]);
        servlet = new SluiceServlet();
        try (LogCapture access = LogCapture.of("dev.sluice.access")) {
            container = kind.start(servlet, Map.of("root", root.toString(), "accessLog", "true", "sendfile", "false"),
                    0);
            logger.addHandler(capture);
            java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.concurrent.atomic.AtomicReference<IOException> writeFailed =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = new Thread(() -> {
                for (int i = 1; writing.get(); i++) {
                    try {
                        Files.write(file, versions[i % 2]);
                    } catch (IOException e) {
                        writeFailed.set(e);
                        return;
                    }
                }
            }, "rewriter");
            writer.start();
            Map<Integer, Integer> statuses = new java.util.TreeMap<>();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            try {
                while (statuses.getOrDefault(503, 0) < 3 && System.nanoTime() - deadline < 0) {
                    try (TestClient client = new TestClient(container.uri())) {
                        client.setReadTimeout(20_000);
                        TestClient.Head head = client.send("GET", "/copied.bin", Map.of(), true); // always a head
                        statuses.merge(head.status(), 1, Integer::sum);
                        assertTrue(head.status() == 200 || head.status() == 503, statuses.toString());
                        if (head.status() == 503) {
                            assertEquals("1", head.header("retry-after"));
                            assertEquals("Service Unavailable\n", new String(client.readBody(head),
                                    java.nio.charset.StandardCharsets.UTF_8));
                        } else {
                            // whole, or cut short (a close or a reset) when the change came after its first byte
                            assertTrue(client.drainOrCut() <= head.contentLength(), statuses.toString());
                        }
                    }
                }
            } finally {
                writing.set(false);
                writer.join();
            }
            assertNull(writeFailed.get(), "the rewrites stopped");
            assertTrue(statuses.getOrDefault(503, 0) >= 3, "no change seen before a first byte in "
                    + DEADLINE.toSeconds() + " s: " + statuses);
            // A line is written after its transfer's end has been answered: wait for every 503's line.
            int answered503 = statuses.get(503);
            java.util.function.Supplier<List<String>> failedUnsent = () -> access.messages(Level.INFO).stream()
                    .filter(m -> m.contains(" outcome=failed") && m.contains(" sent=0 ")).toList();
            Await.until("a line for every 503", DEADLINE, () -> failedUnsent.get().size() >= answered503,
                    () -> failedUnsent.get().toString());
            assertTrue(failedUnsent.get().stream().allMatch(m -> m.contains(" status=503 ")),
                    failedUnsent.get().toString());
        }
    }

    static Stream<ContainerKind> kinds() {
        return Stream.of(ContainerKind.values());
    }

    private static byte[] readFully(TestClient client, int length) throws IOException {
        byte[] bytes = new byte[length];
        int got = 0;
        while (got < length) {
            got += client.read(bytes, got, length - got);
        }
        return bytes;
    }

    /** {@code rewrite} empties the file and writes it again, as {@code cp new served} does. */
    private static void changeInPlace(Path file, String change) throws IOException {
        switch (change) {
            case "rewrite" -> {
                byte[] other = new byte[SIZE];
                new Random(8).nextBytes(other);
                Files.write(file, other);
            }
            case "overwrite" -> {
                try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    writer.write(ByteBuffer.wrap(new byte[4096]), SIZE - 8 * 1024 * 1024);
                }
            }
            case "append" -> Files.write(file, new byte[] {1}, StandardOpenOption.APPEND);
            default -> throw new IllegalArgumentException(change);
        }
    }
}
