package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.resource.FileResolver.Checked;
import dev.sluice.resource.FileResolver.Looked;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on a real directory, with its clock, its background threads and its calls to the file system in the
 * test's hands: looks and reads are counted, background tasks run when the test says, time moves when it says.
 */
class FileCacheTest {

    private static final Duration INTERVAL = Duration.ofSeconds(5);
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path root;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    /** The wall clock the storage tells a file's age by: an hour after {@link #T0}. */
    private final AtomicLong wallMillis = new AtomicLong(T0 + 3_600_000L);
    private final Queue<Runnable> background = new ArrayDeque<>();
    private final AtomicInteger looks = new AtomicInteger();
    private final AtomicInteger reads = new AtomicInteger();
    private Runnable afterRead = () -> { };

    /** Counts what reaches the file system; {@link #afterRead} runs inside each read, before its last check. */
    private final class CountingStorage implements FileCache.Storage {
        private final DiskStorage disk;

        CountingStorage(FileResolver resolver) {
            this.disk = new DiskStorage(resolver, () -> afterRead.run(), wallMillis::get);
        }

        @Override
        public Looked look(Checked checked) {
            looks.incrementAndGet();
            return disk.look(checked);
        }

        @Override
        public Optional<FileCache.Content> read(Looked looked) throws IOException {
            reads.incrementAndGet();
            return disk.read(looked);
        }
    }

    private FileCache cache(long maxMemory, long maxFileSize) {
        FileResolver resolver = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, false);
        return FileCache.of(resolver, new FileCache.Settings(maxMemory, maxFileSize, INTERVAL),
                new CountingStorage(resolver), nanos::get, background::add);
    }

    private FileCache cache() {
        return cache(1 << 20, 64 * 1024);
    }

    private Path write(String name, String text, long mtime) throws IOException {
        Path file = root.resolve(name);
        Files.writeString(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime));
        return file;
    }

    private void runBackground() {
        for (Runnable task; (task = background.poll()) != null; ) {
            task.run();
        }
    }

    private void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    private static String text(FileCache.Content content) {
        ByteBuffer bytes = content.bytes().duplicate();
        byte[] array = new byte[bytes.remaining()];
        bytes.get(array);
        return new String(array, StandardCharsets.UTF_8);
    }

    private static Resolution.Found found(Resolution resolution) {
        return assertInstanceOf(Resolution.Found.class, resolution);
    }

    /**
     * {@code known} tells, without a storage call and without starting one, what {@code resolve} would answer
     * without the storage: nothing for a path never resolved or past its grace, the entry while it is usable, and
     * a refusal of the path's syntax always, cache on or off.
     */
    @Test
    void knownAnswersOnlyWhatNeedsNoStorage() throws IOException {
        write("a.txt", "some text", T0);
        FileCache cache = cache();

        assertTrue(cache.known("/a.txt").isEmpty(), "never resolved: resolve would ask the storage");
        assertTrue(cache.known("/missing.txt").isEmpty());
        assertEquals(0, looks.get());
        Resolution.Found first = found(cache.resolve("/a.txt"));
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/missing.txt"));
        assertEquals(2, looks.get());

        assertEquals(first.file(), found(cache.known("/a.txt").orElseThrow()).file());
        assertInstanceOf(Resolution.NotFound.class, cache.known("/missing.txt").orElseThrow());
        advance(INTERVAL.multipliedBy(3).dividedBy(2));
        assertEquals(first.file(), found(cache.known("/a.txt").orElseThrow()).file(), "within its grace");
        advance(INTERVAL);
        assertTrue(cache.known("/a.txt").isEmpty(), "past twice the interval: resolve would ask the storage");
        assertEquals(2, looks.get(), "known asked no storage");
        background.clear(); // the small file's read queued by the first resolve
        cache.known("/a.txt");
        assertTrue(background.isEmpty(), "known started no revalidation");

        assertInstanceOf(Resolution.BadRequest.class, cache.known("/a%00.txt").orElseThrow());
        FileCache off = cache(0, 0);
        assertTrue(off.known("/a.txt").isEmpty(), "no cache: every resolve asks the storage");
        assertInstanceOf(Resolution.NotFound.class, off.known("/../a.txt").orElseThrow());
        assertEquals(2, looks.get());
    }

    @Test
    void withinTheIntervalARequestTouchesNoStorage() throws IOException {
        write("a.txt", "version one", T0);
        FileCache cache = cache();

        Resolution.Found first = found(cache.resolve("/a.txt"));
        assertEquals(1, looks.get());
        assertTrue(cache.content(first).isEmpty(), "the bytes are read in the background, not by the request");
        runBackground();
        assertEquals(1, reads.get());

        write("a.txt", "version TWO", T0 + 1000); // changed on disk: within the interval the old version is served
        for (int i = 0; i < 100; i++) {
            Resolution.Found again = found(cache.resolve("/a.txt"));
            FileCache.Content content = cache.content(again).orElseThrow();
            assertEquals("version one", text(content));
            assertEquals(T0, content.lastModifiedMillis());
        }
        advance(INTERVAL.minusNanos(1));
        assertEquals("version one", text(cache.content(found(cache.resolve("/a.txt"))).orElseThrow()));
        assertEquals(1, looks.get(), "no stat within the interval");
        assertEquals(1, reads.get(), "no read within the interval");
        assertTrue(background.isEmpty());
    }

    @Test
    void afterTheIntervalOneRevalidationServesTheNewVersion() throws IOException {
        write("a.txt", "version one", T0);
        FileCache cache = cache();
        cache.resolve("/a.txt");
        runBackground();
        write("a.txt", "version TWO!", T0 + 1000);

        advance(INTERVAL);
        for (int i = 0; i < 50; i++) { // requests during the revalidation get the entry as it was
            assertEquals("version one", text(cache.content(found(cache.resolve("/a.txt"))).orElseThrow()));
        }
        assertEquals(1, looks.get(), "no request waited for the storage");
        assertEquals(1, background.size(), "one revalidation for fifty requests");

        runBackground();
        assertEquals(2, looks.get());
        assertEquals(2, reads.get(), "changed: the bytes were read again");
        FileCache.Content content = cache.content(found(cache.resolve("/a.txt"))).orElseThrow();
        assertEquals("version TWO!", text(content));
        assertEquals(T0 + 1000, content.lastModifiedMillis());
        assertEquals(2, looks.get());
    }

    @Test
    void anUnchangedFileKeepsItsBytesThroughRevalidations() throws IOException {
        write("a.txt", "same", T0);
        FileCache cache = cache();
        cache.resolve("/a.txt");
        runBackground();
        for (int round = 0; round < 3; round++) {
            advance(INTERVAL);
            cache.resolve("/a.txt");
            runBackground();
        }
        assertEquals(4, looks.get());
        assertEquals(1, reads.get());
        assertEquals("same", text(cache.content(found(cache.resolve("/a.txt"))).orElseThrow()));
    }

    @Test
    void anEntryNotRevalidatedWithinTwoIntervalsIsNotUsed() throws IOException {
        write("a.txt", "version one", T0);
        FileCache cache = cache();
        Resolution.Found first = found(cache.resolve("/a.txt"));
        runBackground();
        Files.delete(root.resolve("a.txt"));

        advance(INTERVAL.multipliedBy(2));
        assertTrue(cache.content(first).isEmpty(), "too old to send");
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/a.txt"), "resolved by the request itself");
        assertEquals(2, looks.get());
        assertTrue(background.isEmpty());
    }

    @Test
    void aMissingFileIsRememberedForTheIntervalOnly() throws IOException {
        FileCache cache = cache();
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/new.txt"));
        write("new.txt", "here now", T0);
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/new.txt"));
        assertEquals(1, looks.get());

        advance(INTERVAL);
        cache.resolve("/new.txt");
        runBackground();
        Resolution.Found found = found(cache.resolve("/new.txt"));
        assertEquals("here now", text(cache.content(found).orElseThrow()));
    }

    @Test
    void neverKeepsBytesWhoseFileChangedDuringTheRead() throws IOException {
        write("a.txt", "version one", T0);
        FileCache cache = cache();
        afterRead = () -> {
            try {
                write("a.txt", "version two", T0 + 2000); // same size, other bytes, later time
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        Resolution.Found found = found(cache.resolve("/a.txt"));
        runBackground();
        assertEquals(1, reads.get());
        assertTrue(cache.content(found).isEmpty(), "bytes read while the file changed are not kept");

        afterRead = () -> { };
        advance(INTERVAL);
        cache.resolve("/a.txt");
        runBackground();
        FileCache.Content content = cache.content(found(cache.resolve("/a.txt"))).orElseThrow();
        assertEquals("version two", text(content));
        assertEquals(T0 + 2000, content.lastModifiedMillis(), "the bytes carry the time they were read with");
    }

    /**
     * A file modified a moment ago may be half written (a copy over it empties it, then writes it): its bytes are
     * not kept, but read by its requests, until a revalidation finds it settled.
     */
    @Test
    void theBytesOfAFileModifiedAMomentAgoAreKeptOnlyOnceItSettled() throws IOException {
        long now = wallMillis.get();
        write("a.txt", "the first half of a co", now - DiskStorage.SETTLED_MILLIS + 1);
        FileCache cache = cache();
        Resolution.Found found = found(cache.resolve("/a.txt"));
        runBackground();
        assertEquals(1, reads.get());
        assertTrue(cache.content(found).isEmpty(), "the bytes of a file that may be being written were kept");

        advance(INTERVAL);
        wallMillis.addAndGet(INTERVAL.toMillis());
        cache.resolve("/a.txt");
        runBackground();
        assertEquals(2, reads.get());
        assertEquals("the first half of a co", text(cache.content(found(cache.resolve("/a.txt"))).orElseThrow()));
    }

    /** A time well ahead of this machine's clock is not a file being written: its bytes are kept at once. */
    @Test
    void theBytesOfAFileWhoseTimeIsAheadOfTheClockAreKept() throws IOException {
        write("restored.txt", "from an archive made on a fast clock", wallMillis.get() + 60_000);
        FileCache cache = cache();
        Resolution.Found found = found(cache.resolve("/restored.txt"));
        runBackground();
        assertEquals("from an archive made on a fast clock", text(cache.content(found).orElseThrow()));
    }

    @Test
    void noBytesAreKeptWhenTheLargestFileForBytesIsZeroNotEvenAnEmptyFilesOnes() throws IOException {
        write("empty.txt", "", T0);
        FileCache cache = cache(1 << 20, 0);
        Resolution.Found empty = found(cache.resolve("/empty.txt"));
        runBackground();
        assertEquals(0, reads.get());
        assertTrue(cache.content(empty).isEmpty());
    }

    @Test
    void bytesAreKeptForSmallFilesOnly() throws IOException {
        write("small.txt", "x".repeat(100), T0);
        write("big.txt", "x".repeat(101), T0);
        FileCache cache = cache(1 << 20, 100);
        Resolution.Found small = found(cache.resolve("/small.txt"));
        Resolution.Found big = found(cache.resolve("/big.txt"));
        runBackground();
        assertEquals(1, reads.get());
        assertTrue(cache.content(small).isPresent());
        assertTrue(cache.content(big).isEmpty());
        found(cache.resolve("/big.txt"));
        assertEquals(2, looks.get(), "the big file's metadata is remembered all the same");
    }

    @Test
    void leastRecentlyUsedGoFirstAtTheMemoryBound() throws IOException {
        String body = "y".repeat(1000);
        for (String name : new String[] {"a", "b", "c", "d"}) {
            write(name, body, T0);
        }
        long perEntry = FileCache.ENTRY_OVERHEAD + 2 * "/a".length() + 1000;
        FileCache cache = cache(3 * perEntry, 64 * 1024);
        for (String name : new String[] {"/a", "/b", "/c"}) {
            cache.resolve(name);
            runBackground();
        }
        assertEquals(3, cache.size());
        assertEquals(3 * perEntry, cache.memory());
        cache.resolve("/a"); // a is used again: b is now the least recently used
        cache.resolve("/d");
        runBackground();

        assertTrue(cache.memory() <= 3 * perEntry, "memory " + cache.memory());
        assertEquals(4, looks.get());
        cache.resolve("/a");
        cache.resolve("/d");
        assertEquals(4, looks.get(), "a and d are held");
        cache.resolve("/b");
        assertEquals(5, looks.get(), "b was evicted");
    }

    @Test
    void offAsksTheFileSystemEveryTime() throws IOException {
        write("a.txt", "version one", T0);
        FileResolver resolver = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, false);
        try (FileCache cache = FileCache.of(resolver, FileCache.Settings.off())) {
            assertFalse(cache.enabled());
            Resolution.Found found = found(cache.resolve("/a.txt"));
            assertTrue(cache.content(found).isEmpty());
            Files.delete(root.resolve("a.txt"));
            assertInstanceOf(Resolution.NotFound.class, cache.resolve("/a.txt"));
            assertEquals(0, cache.size());
        }
    }

    @Test
    void refusalsByFormNeverReachTheFileSystem() throws IOException {
        write("a.txt", "a", T0);
        FileCache cache = cache();
        assertInstanceOf(Resolution.BadRequest.class, cache.resolve("/a%00.txt"));
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/../a.txt"));
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/.hidden"));
        assertInstanceOf(Resolution.Directory.class, cache.resolve("/"));
        assertEquals(0, looks.get());
        assertEquals(0, cache.size());
    }

    @Test
    void rawPathsOfOnePathShareAnEntryAndKeepTheirTrailingSlash() throws IOException {
        write("a b.txt", "a", T0);
        Files.createDirectory(root.resolve("dir"));
        FileCache cache = cache();
        assertEquals("/a b.txt", found(cache.resolve("/a%20b.txt")).decodedPath());
        assertEquals("/a b.txt", found(cache.resolve("//a b.txt")).decodedPath());
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/a%20b.txt/"), "a file with a trailing slash");
        Resolution.Directory bare = assertInstanceOf(Resolution.Directory.class, cache.resolve("/dir"));
        Resolution.Directory slashed = assertInstanceOf(Resolution.Directory.class, cache.resolve("/dir/"));
        assertFalse(bare.hasTrailingSlash());
        assertTrue(slashed.hasTrailingSlash());
        assertEquals(2, looks.get());
    }

    @Test
    void aSymlinkLeadingOutIsRefusedOnceRevalidated(@TempDir Path outside) throws IOException {
        write("inside.txt", "inside", T0);
        Path secret = Files.writeString(outside.resolve("secret.txt"), "secret");
        Path link = Files.createSymbolicLink(root.resolve("link.txt"), root.resolve("inside.txt"));
        FileCache cache = cache();
        found(cache.resolve("/link.txt"));
        runBackground();

        Files.delete(link);
        Files.createSymbolicLink(link, secret);
        Resolution.Found stale = found(cache.resolve("/link.txt"));
        assertEquals(root.toRealPath().resolve("inside.txt"), stale.file(), "within the interval: the old target");
        assertEquals("inside", text(cache.content(stale).orElseThrow()));

        advance(INTERVAL);
        cache.resolve("/link.txt");
        runBackground();
        assertInstanceOf(Resolution.NotFound.class, cache.resolve("/link.txt"));
    }

    @Test
    void contentAnswersOnlyForTheFileItWasReadFrom() throws IOException {
        write("a.txt", "a", T0);
        FileCache cache = cache();
        cache.resolve("/a.txt");
        runBackground();
        assertTrue(cache.content(new Resolution.Found(root.resolve("other"), "/a.txt")).isEmpty());
        assertArrayEquals("a".getBytes(StandardCharsets.UTF_8),
                text(cache.content(found(cache.resolve("/a.txt"))).orElseThrow()).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The entry's real path is opened by name: {@code confirm} compares the opened file's key with the entry's.
     * The same file: the entry stands, with no look. Another file because a directory on the way was swapped for a
     * symlink out of the root: the path is looked up afresh, refused, and the entry replaced.
     */
    @Test
    void confirmRefusesAFileThatADirectorySwappedForASymlinkOutOfTheRootLeadsTo() throws IOException {
        Files.createDirectories(root.resolve("e"));
        write("e/y.bin", "inside", T0);
        Path outside = Files.createTempDirectory("sluice-outside");
        try {
            Files.writeString(outside.resolve("y.bin"), "outside, and longer");
            FileCache cache = cache();
            Resolution.Found found = (Resolution.Found) cache.resolve("/e/y.bin");
            Object insideKey = Files.readAttributes(found.file(), BasicFileAttributes.class).fileKey();
            int looksBefore = looks.get();
            assertSame(found, cache.confirm("/e/y.bin", found, insideKey));
            assertEquals(looksBefore, looks.get(), "a confirmed file costs no look");

            Files.move(root.resolve("e"), root.resolve("e.old"));
            Files.createSymbolicLink(root.resolve("e"), outside);
            assertEquals(found, cache.resolve("/e/y.bin"), "within the interval the entry stands");
            Object openedKey = Files.readAttributes(found.file(), BasicFileAttributes.class).fileKey();
            assertNotEquals(insideKey, openedKey, "the name now leads outside");
            assertInstanceOf(Resolution.NotFound.class, cache.confirm("/e/y.bin", found, openedKey));
            assertEquals(looksBefore + 1, looks.get());
            assertInstanceOf(Resolution.NotFound.class, cache.resolve("/e/y.bin"), "the entry was replaced");
        } finally {
            if (Files.isSymbolicLink(root.resolve("e"))) {
                Files.delete(root.resolve("e"));
            }
            Files.deleteIfExists(outside.resolve("y.bin"));
            Files.deleteIfExists(outside);
        }
    }

    /**
     * A file replaced at its path (mv new old) within the interval: confirm looks again and accepts the file
     * opened, which is what the path leads to now.
     */
    @Test
    void confirmAcceptsAFileReplacedAtItsPathAfterLookingAgain() throws IOException {
        write("a.txt", "old", T0);
        FileCache cache = cache();
        Resolution.Found found = (Resolution.Found) cache.resolve("/a.txt");
        write("a.new", "the new one", T0 + 1000);
        Files.move(root.resolve("a.new"), root.resolve("a.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Object newKey = Files.readAttributes(found.file(), BasicFileAttributes.class).fileKey();
        int looksBefore = looks.get();
        assertSame(found, cache.confirm("/a.txt", found, newKey));
        assertEquals(looksBefore + 1, looks.get(), "the keys differed: the path was looked at again");
        assertSame(found, cache.confirm("/a.txt", found, newKey));
        assertEquals(looksBefore + 1, looks.get(), "the entry now has the new file's key");
        runBackground();
        assertEquals("the new one", StandardCharsets.UTF_8.decode(cache.content(found).orElseThrow().bytes())
                .toString(), "the new file's bytes are cached again");
    }

    /**
     * close() returns only once the cache's own threads have ended, not merely its executor: Tomcat looks for a
     * stopped webapp's threads right after the stop and warned of a leak for one still returning.
     */
    @Test
    void closeEndsEveryThreadTheCacheStarted() throws Exception {
        write("a.txt", "bytes to cache", T0);
        FileResolver resolver = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, false);
        java.util.function.Supplier<List<Thread>> cacheThreads = () -> Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("sluice-cache-") && thread.isAlive()).toList();
        List<Thread> before = cacheThreads.get();
        FileCache cache = FileCache.of(resolver, new FileCache.Settings(1 << 20, 1 << 16, INTERVAL));
        Resolution.Found found = found(cache.resolve("/a.txt"));
        cache.content(found); // the first request for it has its bytes read on the cache's own thread
        dev.sluice.it.Await.until("the bytes are cached", Duration.ofSeconds(10),
                () -> cache.content(found).isPresent());
        List<Thread> started = cacheThreads.get().stream().filter(thread -> !before.contains(thread)).toList();
        assertFalse(started.isEmpty(), "the read ran on a thread of the cache's own");
        cache.close();
        for (Thread thread : started) {
            assertFalse(thread.isAlive(), thread + " still alive after close()");
        }
    }
}
