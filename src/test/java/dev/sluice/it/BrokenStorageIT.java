package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.logging.Level;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A disk that fails: every read of {@code broken.bin} past its first {@value #READABLE} bytes gives EIO (a FUSE
 * mount, {@link SlowFuse#mountFailing}). Each download of it must fail and end: its connection cut short of the
 * length announced, its transfer counted as failed, nothing held, and WARNINGs that name the read error (at most
 * one a second).
 * Until the pages missing from memory were read through the file, the default {@code bufferKind=mapped} loaded
 * them by touching the mapping: the JVM reports that fault (SIGBUS) from compiled code only later, outside any
 * handler, so after a few downloads (once the loading code was compiled) a read thread died and its transfer
 * waited for a read that never ended, the client's connection held for good.
 */
class BrokenStorageIT {

    private static final int SIZE = 20 << 20;
    private static final int READABLE = 5_000_000;
    private static final int DOWNLOADS = 16;
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final String PAGE = "<!DOCTYPE html><title>Sorry</title><p>Something broke on our side.</p>\n";

    @TempDir
    Path dir;
    private Path mount;
    private byte[] good;

    private static byte[] randomFile(Path file, int size, long seed) throws java.io.IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        Files.write(file, bytes);
        return bytes;
    }

    /**
     * Mounts at {@link #mount} a source (with whatever it holds already) of broken.bin ({@link #SIZE} bytes,
     * unreadable past {@link #READABLE}) and good.bin ({@code goodSize} bytes, kept in {@link #good}).
     */
    private SlowFuse mountBrokenAndGood(int goodSize) throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        mount = Files.createDirectories(dir.resolve("mount"));
        randomFile(source.resolve("broken.bin"), SIZE, 9);
        good = randomFile(source.resolve("good.bin"), goodSize, 10);
        return SlowFuse.mountFailing(source, mount, READABLE);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void everyDownloadOfAFileTheDiskCannotReadFailsAndEnds(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (SlowFuse fuse = mountBrokenAndGood(3 << 20);
             LogCapture log = LogCapture.of("dev.sluice.servlet.SluiceSender");
             ContainerKind.Running container = kind.start(servlet, Map.of("root", mount.toString()), 0)) {
            for (int i = 0; i < DOWNLOADS; i++) {
                try (TestClient client = new TestClient(container.uri())) {
                    client.setReadTimeout(30_000);
                    TestClient.Head head = client.send("GET", "/broken.bin", Map.of(), true);
                    assertEquals(200, head.status());
                    long got = client.drainUntilEnded();
                    assertTrue(got >= 0, "download " + i + " still open after 30 s: " + servlet.metrics());
                    assertTrue(got < SIZE, "download " + i + " passed off as complete");
                }
            }
            Await.until("every download failed", DEADLINE, () -> servlet.metrics().failed() == DOWNLOADS,
                    () -> servlet.metrics().toString());
            Leaks.assertNothingHeld(servlet, mount);
            assertArrayEquals(good, TestClient.get(container.uri(), "/good.bin").body(), "the server serves on");

            List<String> failures = log.messages(Level.WARNING).stream().filter(m -> m.contains("/broken.bin"))
                    .toList();
            // At most a line a second, each saying how many were held back before it: no more than one per failure.
            long told = failures.size() + failures.stream().mapToLong(BrokenStorageIT::heldBack).sum();
            assertTrue(!failures.isEmpty() && told <= DOWNLOADS, failures.toString());
            assertTrue(failures.stream().allMatch(m -> m.contains("Input/output error")), failures.toString());
        }
    }

    private static long heldBack(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\((\\d+) more such lines were held back")
                .matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * A body whose first read fails (a range that starts where the disk fails) has sent nothing: the client gets a
     * plain 500, not the container's page naming the exception it was cut off with (Tomcat closes the connection
     * after a 500, as after any), the access log says 500, and the server serves on.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBodyWhoseFirstReadFailsIsAPlain500(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (SlowFuse fuse = mountBrokenAndGood(1 << 20);
             LogCapture access = LogCapture.of("dev.sluice.access");
             ContainerKind.Running container = kind.start(servlet, Map.of("root", mount.toString(),
                     "accessLog", "true", "sendfile", "false"), 0)) {
            for (String range : List.of("bytes=6000000-6999999", "bytes=7000000-")) {
                TestClient.Response failed = TestClient.exchange(container.uri(), "GET", "/broken.bin",
                        Map.of("Range", range));
                assertEquals(500, failed.status(), range);
                assertEquals("Internal Server Error\n", failed.text(), range);
                assertNull(failed.header("content-range"), range);
                assertNull(failed.header("etag"), range);
            }
            assertArrayEquals(good, TestClient.get(container.uri(), "/good.bin").body(), "the server serves on");
            Await.until("two failed", DEADLINE, () -> servlet.metrics().failed() == 2,
                    () -> servlet.metrics().toString());
            Await.until("three access-log lines", DEADLINE, () -> access.messages(Level.INFO).size() == 3,
                    () -> access.messages(Level.INFO).toString());
            List<String> failures = access.messages(Level.INFO).stream().filter(m -> m.contains("outcome=failed"))
                    .toList();
            assertEquals(2, failures.size(), access.messages(Level.INFO).toString());
            assertTrue(failures.stream().allMatch(m -> m.contains(" status=500 ") && m.contains(" sent=0 ")),
                    failures.toString());
            Leaks.assertNothingHeld(servlet, mount);
        }
    }

    /**
     * The same with the webapp's error page for 500, a file Sluice serves: the client gets the page under 500 (the
     * page's own dispatch once made the answer an empty 200).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBodyWhoseFirstReadFailsShowsTheWebappsPageFor500(ContainerKind kind) throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("source/errors")).resolve("500.html"), PAGE);
        SluiceServlet servlet = new SluiceServlet();
        try (SlowFuse fuse = mountBrokenAndGood(1 << 20);
             ContainerKind.Running container = kind.start(List.of(new ContainerKind.ServletSpec("sluice", servlet,
                     Map.of("root", mount.toString(), "sendfile", "false"), true, List.of("/"))), List.of(),
                     Map.of(500, "/errors/500.html"))) {
            TestClient.Response failed = TestClient.exchange(container.uri(), "GET", "/broken.bin",
                    Map.of("Range", "bytes=6000000-"));
            assertEquals(500, failed.status());
            assertEquals(PAGE, failed.text());
            Await.until("one failed", DEADLINE, () -> servlet.metrics().failed() == 1,
                    () -> servlet.metrics().toString());
            Leaks.assertNothingHeld(servlet, mount);
        }
    }

    /**
     * A file that is there but cannot be opened now, as in a process with no descriptor left (the mount's open
     * answers EMFILE): 503 with {@code Retry-After}, Sluice's plain line, nothing of the server's paths or of the
     * exception (Jetty's default page showed both), a WARNING that says why, and the server serves on.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileThatCannotBeOpenedForWantOfDescriptorsIs503(ContainerKind kind) throws Exception {
        Files.write(Files.createDirectories(dir.resolve("source")).resolve("unopenable.bin"), new byte[1 << 20]);
        SluiceServlet servlet = new SluiceServlet();
        try (SlowFuse fuse = mountBrokenAndGood(1 << 20);
             LogCapture log = LogCapture.of("dev.sluice.servlet.SluiceSender");
             ContainerKind.Running container = kind.start(servlet, Map.of("root", mount.toString()), 0)) {
            for (int i = 0; i < 3; i++) {
                TestClient.Response refused = TestClient.get(container.uri(), "/unopenable.bin");
                assertEquals(503, refused.status());
                assertEquals("5", refused.header("retry-after"));
                assertEquals("Service Unavailable\n", refused.text());
            }
            assertArrayEquals(good, TestClient.get(container.uri(), "/good.bin").body(), "the server serves on");
            List<String> warnings = log.messages(Level.WARNING);
            assertTrue(!warnings.isEmpty() && warnings.stream().allMatch(w -> w.contains("unopenable.bin")
                    && w.contains("Too many open files")), warnings.toString());
            Leaks.assertNothingHeld(servlet, mount);
        }
    }
}
