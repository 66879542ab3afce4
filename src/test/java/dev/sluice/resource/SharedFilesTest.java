package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.it.OpenFiles;
import dev.sluice.it.Rewrites;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedFilesTest {

    @TempDir
    Path dir;

    private final SharedFiles files = new SharedFiles();

    @Test
    void opensOfAnUnchangedFileShareOneDescriptorUntilTheLastCloses() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "hello, shared world");
        assertFalse(files.isOpen(file));
        OpenedFile first = files.open(file);
        assertTrue(files.isOpen(file));
        OpenedFile second = files.open(file);
        assertEquals(1, descriptorsOf(file), "two opens, one descriptor");
        assertEquals("hello", read(first.channel(), 0, 5));
        assertEquals("shared", read(second.channel(), 7, 6));
        assertEquals(19, second.channel().size());
        assertEquals(first.fileKey(), second.fileKey());

        first.close();
        first.close(); // closing twice gives back one reference
        assertFalse(first.channel().isOpen());
        assertThrows(ClosedChannelException.class, () -> read(first.channel(), 0, 5));
        assertEquals("world", read(second.channel(), 14, 5), "the other holder reads on");
        assertEquals(1, descriptorsOf(file));

        assertTrue(files.isOpen(file), "one holder left");
        second.close();
        assertFalse(files.isOpen(file));
        assertEquals(0, descriptorsOf(file), "closed with its last holder");
        assertEquals(0, files.descriptors());
        try (OpenedFile again = files.open(file)) {
            assertEquals("hello", read(again.channel(), 0, 5), "opened anew after the last close");
        }
        assertEquals(0, descriptorsOf(file));
    }

    /**
     * {@code another} gives a second view of the descriptor an open view holds, with no open and no stat (the file
     * may have been replaced on disk since: the view is of the version held), and nothing for a closed view.
     */
    @Test
    void anotherViewOfAnOpenFileSharesItsDescriptorWithoutOpening() throws IOException {
        Path file = Files.writeString(dir.resolve("held.txt"), "held version");
        java.util.concurrent.atomic.AtomicInteger opens = new java.util.concurrent.atomic.AtomicInteger();
        SharedFiles counting = new SharedFiles(path -> {
            opens.incrementAndGet();
            return OpenedFile.open(path);
        });
        OpenedFile held = counting.open(file);
        Files.delete(file); // replaced on disk: the held version is what another view reads
        Files.writeString(dir.resolve("held.txt"), "a new version, longer");
        OpenedFile view = counting.another(held).orElseThrow();
        assertEquals(1, opens.get(), "no second open");
        held.close();
        assertEquals("held version", read(view.channel(), 0, 12), "the view outlives the hold");
        assertEquals(12, view.size());
        assertTrue(counting.another(held).isEmpty(), "a closed view gives none");
        view.close();
        assertEquals(0, counting.descriptors());
    }

    /**
     * A popular file gets one more descriptor each time its holders pass another {@code HOLDERS_PER_STRIPE}, up to
     * {@code MOST_STRIPES}; calls from many threads go to them all and read the same bytes; the last close closes
     * every one.
     */
    @Test
    void aPopularFileGetsAFewDescriptorsAndClosesThemAllWithItsLastHolder() throws Exception {
        Path file = Files.writeString(dir.resolve("popular.txt"), "popular bytes");
        java.util.List<OpenedFile> holders = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < SharedFiles.HOLDERS_PER_STRIPE; i++) {
                holders.add(files.open(file));
            }
            assertEquals(1, files.stripes(file), "up to HOLDERS_PER_STRIPE holders share one descriptor");
            assertEquals(1, descriptorsOf(file));
            holders.add(files.open(file));
            assertEquals(2, files.stripes(file), "one holder more: a second descriptor");
            assertEquals(2, descriptorsOf(file));
            int most = SharedFiles.MOST_STRIPES * SharedFiles.HOLDERS_PER_STRIPE + 5;
            while (holders.size() < most) {
                holders.add(files.open(file));
            }
            assertEquals(SharedFiles.MOST_STRIPES, files.stripes(file));
            assertEquals(SharedFiles.MOST_STRIPES, descriptorsOf(file), "never more than MOST_STRIPES");
            assertEquals(1, files.descriptors(), "still one version");

            ExecutorService threads = Executors.newFixedThreadPool(SharedFiles.MOST_STRIPES * 2);
            try {
                java.util.List<Future<String>> reads = new java.util.ArrayList<>();
                for (OpenedFile holder : holders) {
                    reads.add(threads.submit(() -> read(holder.channel(), 8, 5) + holder.channel().size()));
                }
                for (Future<String> read : reads) {
                    assertEquals("bytes13", read.get(30, TimeUnit.SECONDS));
                }
            } finally {
                threads.shutdownNow();
            }
            while (holders.size() > 1) {
                holders.remove(holders.size() - 1).close();
            }
            assertEquals(SharedFiles.MOST_STRIPES, descriptorsOf(file), "open while one holder is left");
            assertEquals("popular", read(holders.get(0).channel(), 0, 7));
        } finally {
            for (OpenedFile holder : holders) {
                holder.close();
            }
        }
        assertEquals(0, descriptorsOf(file), "every descriptor closed with the last holder");
        assertEquals(0, files.descriptors());
    }

    /** A stripe is the same version or nothing: a file replaced meanwhile is not added as a stripe of the old one. */
    @Test
    void aStripeThatFindsAnotherFileIsNotAdded() throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "one");
        java.util.concurrent.atomic.AtomicBoolean replaceBeforeNextOpen = new java.util.concurrent.atomic.AtomicBoolean();
        SharedFiles replacing = new SharedFiles(path -> {
            if (replaceBeforeNextOpen.getAndSet(false)) {
                Path next = Files.writeString(dir.resolve("next.tmp"), "two");
                Files.move(next, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return OpenedFile.open(path);
        });
        java.util.List<OpenedFile> holders = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < SharedFiles.HOLDERS_PER_STRIPE; i++) {
                holders.add(replacing.open(file));
            }
            replaceBeforeNextOpen.set(true); // the stripe's own open finds the new file
            holders.add(replacing.open(file));
            assertEquals(1, replacing.stripes(file), "the other file's descriptor was not added");
            for (OpenedFile holder : holders) {
                assertEquals("one", read(holder.channel(), 0, 3));
            }
        } finally {
            for (OpenedFile holder : holders) {
                holder.close();
            }
        }
        assertEquals(0, replacing.descriptors());
        assertEquals(0, descriptorsOf(file));
    }

    @Test
    void twoFirstOpensAtOnceEndWithOneDescriptor() throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "raced");
        CountDownLatch slowOpenStarted = new CountDownLatch(1);
        CountDownLatch slowOpenMayEnd = new CountDownLatch(1);
        AtomicInteger opens = new AtomicInteger();
        SharedFiles racing = new SharedFiles(path -> {
            OpenedFile opened = OpenedFile.open(path);
            if (opens.incrementAndGet() == 1) { // the first open finishes after the second has published its own
                slowOpenStarted.countDown();
                try {
                    slowOpenMayEnd.await();
                } catch (InterruptedException e) {
                    opened.close();
                    throw new InterruptedIOException();
                }
            }
            return opened;
        });
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<OpenedFile> slow = executor.submit(() -> racing.open(file));
            assertTrue(slowOpenStarted.await(30, TimeUnit.SECONDS));
            try (OpenedFile fast = racing.open(file)) {
                assertEquals(2, descriptorsOf(file), "both opens hold a descriptor before either is shared");
                slowOpenMayEnd.countDown();
                try (OpenedFile late = slow.get(30, TimeUnit.SECONDS)) {
                    assertEquals(1, descriptorsOf(file), "the late open joined the published descriptor");
                    assertEquals(1, racing.descriptors());
                    assertEquals("raced", read(late.channel(), 0, 5));
                    fast.close();
                    assertEquals("raced", read(late.channel(), 0, 5), "the shared descriptor outlives one holder");
                }
            }
        } finally {
            slowOpenMayEnd.countDown();
            executor.shutdownNow();
        }
        assertEquals(2, opens.get());
        assertEquals(0, descriptorsOf(file));
        assertEquals(0, racing.descriptors());
    }

    @Test
    void aFileChangedInPlaceGetsADescriptorOfItsOwn() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "old");
        try (OpenedFile before = files.open(file)) {
            Files.writeString(file, "newer"); // same file, truncated and written again
            try (OpenedFile after = files.open(file)) {
                assertEquals(2, descriptorsOf(file));
                assertEquals(3, before.size());
                assertEquals(5, after.size());
                assertEquals("newer", read(after.channel(), 0, 5));
            }
        }
        assertEquals(0, descriptorsOf(file));
    }

    /** Changed in place within the millisecond of the open: another version still, to the nanosecond. */
    @Test
    void aFileRewrittenWithinTheMillisecondOfItsOpenGetsADescriptorOfItsOwn() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "same size");
        for (int tries = 0; tries < 200; tries++) {
            try (OpenedFile before = files.open(file)) {
                if (Rewrites.inPlaceWithinTheMillisecondOf(file, before.lastModified())) {
                    try (OpenedFile after = files.open(file)) {
                        assertEquals(2, descriptorsOf(file));
                        assertEquals(before.lastModifiedMillis(), after.lastModifiedMillis());
                    }
                    return;
                }
            }
        }
        Assumptions.abort("no rewrite of 200 fell within the millisecond of the open before it");
    }

    @Test
    void aFileReplacedByAnotherGetsADescriptorOfItsOwn() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "one");
        try (OpenedFile before = files.open(file)) {
            Path next = Files.writeString(dir.resolve("next.tmp"), "two");
            Files.setLastModifiedTime(next, Files.getLastModifiedTime(file)); // same size and time: only the key differs
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (OpenedFile after = files.open(file)) {
                assertEquals("one", read(before.channel(), 0, 3), "the open file is untouched by the rename");
                assertEquals("two", read(after.channel(), 0, 3));
            }
        }
    }

    @Test
    void aDescriptorClosedUnderItsHoldersIsNotHandedOutAgain() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "bytes");
        try (OpenedFile first = files.open(file)) {
            Thread.currentThread().interrupt(); // an interrupted read closes the descriptor itself
            try {
                assertThrows(ClosedByInterruptException.class, () -> read(first.channel(), 0, 5));
            } finally {
                Thread.interrupted();
            }
            try (OpenedFile next = files.open(file)) {
                assertEquals("bytes", read(next.channel(), 0, 5));
            }
        }
        assertEquals(0, descriptorsOf(file));
    }

    @Test
    void onlyOperationsThatLeaveTheDescriptorAloneAreOffered() throws IOException {
        Path file = Files.write(dir.resolve("a.bin"), new byte[] {1, 2, 3, 4});
        try (OpenedFile opened = files.open(file)) {
            FileChannel channel = opened.channel();
            assertThrows(UnsupportedOperationException.class, () -> channel.read(ByteBuffer.allocate(4)));
            assertThrows(UnsupportedOperationException.class, () -> channel.position(2));
            assertThrows(UnsupportedOperationException.class, () -> channel.write(ByteBuffer.allocate(1), 0));
            ByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 1, 3);
            byte[] bytes = new byte[3];
            mapped.get(bytes);
            assertArrayEquals(new byte[] {2, 3, 4}, bytes);
        }
    }

    @Test
    void whatIsNotARegularFileIsNotFound() {
        assertThrows(NoSuchFileException.class, () -> files.open(dir));
        assertThrows(NoSuchFileException.class, () -> files.open(dir.resolve("missing")));
        assertEquals(0, files.descriptors());
    }

    private static String read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining() && channel.read(buffer, position + buffer.position()) > 0) {
            // positional reads until full
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }

    /** Open descriptors of this process that point at {@code file}. */
    private static long descriptorsOf(Path file) throws IOException {
        return OpenFiles.countUnder(file.toRealPath());
    }
}
