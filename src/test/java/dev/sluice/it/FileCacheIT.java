package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The file cache through real containers: answers from cached bytes are the answers without the cache, byte for
 * byte (bodies, ranges, conditional requests, HEAD, types, counters), they touch no storage within
 * {@code cacheRevalidate}, and a file rewritten on disk is served in its new version once that has passed, never
 * one version's bytes under the other's validators.
 */
class FileCacheIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final long MTIME = 1_700_000_000_000L;
    private static final int SIZE = 4096 + 7;
    private static final Pattern BOUNDARY = Pattern.compile("boundary=([^;\\s]+)");

    @TempDir
    Path root;

    private final List<ContainerKind.Running> containers = new ArrayList<>();
    private final List<SluiceServlet> servlets = new ArrayList<>();

    private SluiceServlet start(ContainerKind kind, Map<String, String> extra) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        Map<String, String> params = new LinkedHashMap<>();
        params.put("root", root.toString());
        params.putAll(extra);
        containers.add(kind.start(servlet, params, 0));
        servlets.add(servlet);
        return servlet;
    }

    @AfterEach
    void stop() throws Exception {
        try {
            for (SluiceServlet servlet : servlets) {
                Leaks.assertNothingHeld(servlet, root);
            }
        } finally {
            for (ContainerKind.Running container : containers) {
                container.close();
            }
        }
    }

    private byte[] write(String name, long seed, int size, long mtime) throws IOException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        Path file = root.resolve(name);
        Files.write(file, data);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime));
        return data;
    }

    private static void awaitCached(SluiceServlet servlet, long bytes) {
        Await.until("the file's bytes cached", DEADLINE, () -> servlet.fileCache().fileBytes() >= bytes,
                () -> "holds " + servlet.fileCache().fileBytes());
    }

    /** Status, headers but Date, and body; a multipart boundary (random per response) replaced by a fixed one. */
    private static String normalized(TestClient.Response response) {
        Map<String, String> headers = new LinkedHashMap<>(response.head().headers());
        headers.remove("date");
        headers.remove("keep-alive");
        headers.remove("connection");
        String body = new String(response.body(), StandardCharsets.ISO_8859_1);
        String type = headers.getOrDefault("content-type", "");
        Matcher m = BOUNDARY.matcher(type);
        if (m.find()) {
            headers.put("content-type", type.replace(m.group(1), "B"));
            body = body.replace(m.group(1), "B");
        }
        return response.status() + " " + headers + "\n" + body;
    }

    /** One exchange for {@code /small.txt}; a 304 has no body whatever its Content-Length says. */
    private static TestClient.Response exchange(java.net.URI base, String method, Map<String, String> headers)
            throws IOException {
        try (TestClient client = new TestClient(base)) {
            TestClient.Head head = client.send(method, "/small.txt", headers, true);
            byte[] body = method.equals("HEAD") || head.status() == 304 ? new byte[0] : client.readBody(head);
            return new TestClient.Response(head, body);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void cachedAnswersAreTheUncachedOnesAndTouchNoStorage(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        byte[] v1 = write("small.txt", 1, SIZE, MTIME);
        SluiceServlet cached = start(kind, Map.of("cacheRevalidate", "1h"));
        SluiceServlet uncached = start(kind, Map.of("cacheMaxMemory", "0"));
        var withCache = containers.get(0).uri();
        var without = containers.get(1).uri();

        assertArrayEquals(v1, TestClient.get(withCache, "/small.txt").body());
        awaitCached(cached, SIZE);
        String etag = TestClient.get(without, "/small.txt").header("etag");
        String lastModified = TestClient.get(without, "/small.txt").header("last-modified");
        Await.until("the first downloads counted", DEADLINE, () -> cached.metrics().completed() == 1
                && uncached.metrics().completed() == 2);
        TransferMetrics cachedBefore = cached.metrics();
        TransferMetrics uncachedBefore = uncached.metrics();

        List<Object[]> exchanges = List.of(
                new Object[] {"GET", Map.of()},
                new Object[] {"HEAD", Map.of()},
                new Object[] {"GET", Map.of("Range", "bytes=100-199")},
                new Object[] {"GET", Map.of("Range", "bytes=-10")},
                new Object[] {"GET", Map.of("Range", "bytes=0-0,4000-4002,10-20")},
                new Object[] {"GET", Map.of("Range", "bytes=5000-6000")},
                new Object[] {"GET", Map.of("If-None-Match", etag)},
                new Object[] {"GET", Map.of("If-Modified-Since", lastModified)},
                new Object[] {"GET", Map.of("If-Match", "\"other\"")},
                new Object[] {"GET", Map.of("Range", "bytes=0-99", "If-Range", etag)},
                new Object[] {"GET", Map.of("Range", "bytes=0-99", "If-Range", "\"other\"")});
        for (Object[] exchange : exchanges) {
            @SuppressWarnings("unchecked")
            Map<String, String> headers = (Map<String, String>) exchange[1];
            String method = (String) exchange[0];
            String expected;
            String actual;
            try {
                expected = normalized(exchange(without, method, headers));
                actual = normalized(exchange(withCache, method, headers));
            } catch (IOException e) {
                throw new AssertionError(method + " " + headers + ": " + e, e);
            }
            assertEquals(expected, actual, method + " " + headers);
        }
        long bodies = 6; // GET, two single ranges, the multipart one, both If-Range ones
        Await.until("every body went through the engine, with or without the cache", DEADLINE,
                () -> cached.metrics().completed() - cachedBefore.completed() == bodies
                        && uncached.metrics().completed() - uncachedBefore.completed() == bodies,
                () -> cached.metrics() + " / " + uncached.metrics());
        assertEquals(uncached.metrics().bytesSent() - uncachedBefore.bytesSent(),
                cached.metrics().bytesSent() - cachedBefore.bytesSent());

        byte[] v2 = write("small.txt", 2, SIZE, MTIME + 10_000); // same size, new bytes and time
        TestClient.Response fromCache = TestClient.get(withCache, "/small.txt");
        TestClient.Response fromDisk = TestClient.get(without, "/small.txt");
        assertArrayEquals(v1, fromCache.body(), "within cacheRevalidate the cached version, read from no storage");
        assertEquals(etag, fromCache.header("etag"), "with the validators it was read with");
        assertArrayEquals(v2, fromDisk.body());
        assertNotEquals(etag, fromDisk.header("etag"));
    }

    /**
     * A directory on a cached path swapped for a symlink leading out of the root (by someone who may rename
     * things under it): the cached real path now names a file outside the root. It is never served, within the
     * revalidation interval either: the file opened there is not the one the cache found, so the path is resolved
     * afresh, which refuses the symlink; nor is the directory listed. Before, the outside file was served, and the
     * outside directory listed, until the entries' revalidation.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aDirectorySwappedForASymlinkOutOfTheRootIsNeverServed(ContainerKind kind) throws Exception {
        Path outside = Files.createTempDirectory("sluice-outside");
        try {
            Files.createDirectories(root.resolve("e"));
            byte[] inside = new byte[200_000];
            new java.util.Random(1).nextBytes(inside);
            Files.write(root.resolve("e/big.bin"), inside);
            byte[] secret = new byte[300_000];
            new java.util.Random(2).nextBytes(secret);
            Files.write(outside.resolve("big.bin"), secret);
            Files.writeString(outside.resolve("only-outside.txt"), "x");
            SluiceServlet servlet = start(kind, Map.of("cacheRevalidate", "1h", "dirListing", "true"));
            java.net.URI base = containers.get(0).uri();
            TestClient.Response before = TestClient.get(base, "/e/big.bin");
            assertArrayEquals(inside, before.body());
            assertTrue(TestClient.get(base, "/e/").text().contains("big.bin"), "the listing, cached");
            assertTrue(servlet.fileCache().size() > 0);

            Files.move(root.resolve("e"), root.resolve("e.old"));
            Files.createSymbolicLink(root.resolve("e"), outside);
            TestClient.Response after = TestClient.get(base, "/e/big.bin");
            assertEquals(404, after.status(), "a file outside the root was served: " + after.body().length + " bytes");
            TestClient.Response listing = TestClient.get(base, "/e/");
            assertEquals(404, listing.status(), "a directory outside the root was listed: " + listing.text());
        } finally {
            if (Files.isSymbolicLink(root.resolve("e"))) {
                Files.delete(root.resolve("e"));
            }
            Files.deleteIfExists(outside.resolve("big.bin"));
            Files.deleteIfExists(outside.resolve("only-outside.txt"));
            Files.deleteIfExists(outside);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aRewrittenFileIsServedInItsNewVersionAfterTheInterval(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        byte[] v1 = write("small.txt", 1, SIZE, MTIME);
        SluiceServlet servlet = start(kind, Map.of("cacheRevalidate", "1s"));
        var uri = containers.get(0).uri();
        TestClient.Response first = TestClient.get(uri, "/small.txt");
        assertArrayEquals(v1, first.body());
        awaitCached(servlet, SIZE);

        byte[] v2 = write("small.txt", 2, SIZE + 100, MTIME + 10_000);
        String[] seen = new String[1];
        Await.until("the new version served", DEADLINE, () -> {
            try {
                TestClient.Response now = TestClient.get(uri, "/small.txt");
                boolean old = java.util.Arrays.equals(v1, now.body());
                boolean fresh = java.util.Arrays.equals(v2, now.body());
                assertTrue(old || fresh, "a body of one version or the other");
                assertEquals(old ? first.header("etag") : "\"" + Long.toHexString(SIZE + 100) + "-"
                        + Long.toHexString(MTIME + 10_000) + "\"", now.header("etag"), "its own validators");
                seen[0] = now.header("etag");
                return fresh;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, () -> "last ETag " + seen[0]);
        awaitCached(servlet, SIZE + 100);
        TestClient.Response cachedAgain = TestClient.get(uri, "/small.txt");
        assertArrayEquals(v2, cachedAgain.body());
    }

    /** Points the symlink {@code current} at {@code target} in one step, as {@code ln -sfn} and {@code mv -T} do. */
    private static void switchRelease(Path current, Path target) throws java.io.IOException {
        Path next = Files.createSymbolicLink(current.resolveSibling(current.getFileName() + ".next"), target);
        Files.move(next, current, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * A release deleted right after the symlink in front of it was switched ({@code current -> releases/b}): the
     * next request for a file the cache found in the old release gets the new release's file at once, not a 404
     * until the entry's next check (the cache checks every minute here).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileOfAReleaseDeletedJustAfterTheSwitchIsFoundInTheNewOne(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        Path a = Files.createDirectories(root.resolve("releases/a"));
        Path b = Files.createDirectories(root.resolve("releases/b"));
        byte[] inA = new byte[300 * 1024];
        byte[] inB = new byte[300 * 1024];
        new java.util.Random(1).nextBytes(inA);
        new java.util.Random(2).nextBytes(inB);
        Files.write(a.resolve("app.tar"), inA);
        Files.write(b.resolve("app.tar"), inB);
        Path current = Files.createSymbolicLink(root.resolve("current"), root.relativize(a));
        SluiceServlet servlet = new SluiceServlet();
        containers.add(kind.start(servlet, Map.of("root", root.toString(), "cacheRevalidate", "60s"), 0));
        servlets.add(servlet);
        var uri = containers.get(0).uri();
        assertArrayEquals(inA, TestClient.get(uri, "/current/app.tar").body());

        switchRelease(current, root.relativize(b));
        Files.delete(a.resolve("app.tar"));
        Files.delete(a);
        TestClient.Response after = TestClient.get(uri, "/current/app.tar");
        assertEquals(200, after.status());
        assertArrayEquals(inB, after.body());
    }

    /**
     * A root given as a symlink, switched to another release ({@code ln -sfn} and {@code mv -T}), is followed within
     * the cache's interval: the new release's files are served, the old one's are gone, and deleting the old
     * release changes nothing (it made every request a 404 when the root was resolved once at start-up).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aRootSymlinkSwitchedToAnotherReleaseIsFollowed(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        Path a = Files.createDirectories(root.resolve("releases/a"));
        Path b = Files.createDirectories(root.resolve("releases/b"));
        Files.writeString(a.resolve("v.txt"), "release a");
        Files.writeString(b.resolve("v.txt"), "release b");
        Files.writeString(b.resolve("only-b.txt"), "only in b");
        Path current = Files.createSymbolicLink(root.resolve("current"), a);
        SluiceServlet servlet = new SluiceServlet();
        containers.add(kind.start(servlet, Map.of("root", current.toString(), "cacheRevalidate", "1s"), 0));
        servlets.add(servlet);
        var uri = containers.get(0).uri();
        assertEquals("release a", TestClient.get(uri, "/v.txt").text());

        switchRelease(current, b);
        Await.until("the new release served", DEADLINE, () -> {
            try {
                return TestClient.get(uri, "/v.txt").text().equals("release b");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, () -> "still the old release");
        assertEquals("only in b", TestClient.get(uri, "/only-b.txt").text());
        Files.delete(a.resolve("v.txt"));
        Files.delete(a);
        assertEquals("release b", TestClient.get(uri, "/v.txt").text());
        assertEquals(403, TestClient.get(uri, "/").status(), "the root is a directory still (no listing: 403)");
    }
}
