package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mapped slices and the engine's window cache: a sparse 5 GiB file read past the 2 GiB one mapping can hold and
 * past 4 GiB, windows shared by equal file versions only, the cache's bounds.
 */
class FileWindowsTest {

    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    private FileChannel sparseFile(long size, long... marks) throws IOException {
        return sparseFile("sparse.bin", size, marks);
    }

    private FileChannel sparseFile(String name, long size, long... marks) throws IOException {
        Path path = dir.resolve(name);
        try (FileChannel write = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long mark : marks) {
                write.write(ByteBuffer.wrap(marker(mark)), mark);
            }
            write.truncate(size);
            if (write.size() < size) {
                write.write(ByteBuffer.wrap(new byte[1]), size - 1);
            }
        }
        return FileChannel.open(path, StandardOpenOption.READ);
    }

    /** Eight bytes that say where they are. */
    private static byte[] marker(long position) {
        return ByteBuffer.allocate(8).putLong(position).array();
    }

    private static long markerAt(MappedByteBuffer slice, int offset) {
        return slice.getLong(slice.position() + offset);
    }

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private MappedWindows cache(long windowBytes, int maxWindows) {
        return new MappedWindows(windowBytes, maxWindows, Long.MAX_VALUE, Duration.ofSeconds(30).toNanos(),
                clock::get);
    }

    private static FileVersion version(long size) {
        return new FileVersion("inode-1", size, FileTime.fromMillis(1234L));
    }

    @Test
    void slicesPastTwoAndFourGibHoldTheFilesBytes() throws IOException {
        long nearTwo = 2 * GIB - 4096;
        long pastFour = 4 * GIB + 12345;
        try (FileChannel channel = sparseFile(5 * GIB, nearTwo + 100, pastFour)) {
            FileWindows windows = new FileWindows(channel, version(5 * GIB), cache(64L * 1024 * 1024, 4));
            assertEquals(nearTwo + 100, markerAt(windows.slice(nearTwo, 4096), 100));
            MappedByteBuffer far = windows.slice(pastFour - 7, 4096);
            assertEquals(pastFour, markerAt(far, 7));
            assertEquals(4096, far.remaining());
            assertEquals(4096, windows.slice(5 * GIB - 4096, 4096).remaining());
        }
    }

    /**
     * A file truncated between the read of its size and its mapping: the read-only mapping cannot extend the file
     * (the JDK says "cannot extend file to required size"), and the slice says the file shrank, which the engine
     * tells apart from a disk's error.
     */
    @Test
    void aFileTruncatedBeforeItsWindowIsMappedShrank() throws IOException {
        try (FileChannel file = sparseFile(1 << 20);
             FileChannel truncating = FileChannel.open(dir.resolve("sparse.bin"), StandardOpenOption.WRITE);
             FailingChannel channel = FailingChannel.changedAfterItsSize(file, () -> {
                 try {
                     truncating.truncate(4096);
                 } catch (IOException e) {
                     throw new java.io.UncheckedIOException(e);
                 }
             })) {
            FileWindows windows = new FileWindows(channel, version(1 << 20), cache(1 << 20, 4));
            FileShrankException shrank = assertThrows(FileShrankException.class, () -> windows.slice(0, 8192));
            assertEquals("file ended at byte 4096 before the promised length", shrank.getMessage());
        }
    }

    @Test
    void transfersOfOneFileVersionShareItsWindowsAndOthersDoNot() throws IOException {
        try (FileChannel one = sparseFile(100_000, 0, 50_000); FileChannel two = FileChannel.open(
                dir.resolve("sparse.bin"), StandardOpenOption.READ)) {
            MappedWindows cache = cache(8192, 8);
            new FileWindows(one, version(100_000), cache).slice(0, 4096);
            new FileWindows(two, version(100_000), cache).slice(4096, 4096);
            assertEquals(1, cache.size(), "equal versions mapped window 0 twice");
            assertEquals(50_000, markerAt(new FileWindows(two, version(100_000), cache).slice(50_000, 16), 0));
            assertEquals(2, cache.size());
            new FileWindows(one, new FileVersion("inode-1", 100_000, FileTime.fromMillis(999L)), cache).slice(0, 4096);
            assertEquals(3, cache.size(), "another modification time is another version");
            assertEquals(0, markerAt(new FileWindows(one, null, cache).slice(0, 4096), 0));
            assertEquals(3, cache.size(), "a file with no version was cached");
        }
    }

    @Test
    void theCacheKeepsAtMostItsWindowsAndForgetsIdleOnes() throws IOException {
        try (FileChannel channel = sparseFile(100_000)) {
            MappedWindows cache = cache(8192, 2);
            FileWindows windows = new FileWindows(channel, version(100_000), cache);
            windows.slice(0, 4096);
            windows.slice(8192, 4096);
            windows.slice(16384, 4096);
            assertEquals(2, cache.size());
            clock.addAndGet(Duration.ofSeconds(29).toNanos());
            cache.expire();
            assertEquals(2, cache.size(), "forgot windows before their idle time");
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            cache.expire();
            assertEquals(0, cache.size());
        }
    }

    @Test
    void theCacheKeepsAtMostItsBytesOfAddressSpaceWhateverTheCount() throws IOException {
        try (FileChannel small = sparseFile("small.bin", 3000); FileChannel large = sparseFile(20_000)) {
            MappedWindows cache = new MappedWindows(8192, 100, 20_000, Duration.ofSeconds(30).toNanos(),
                    clock::get);
            for (int i = 0; i < 6; i++) { // six small files: 18,000 bytes, under the bound
                new FileWindows(small, new FileVersion("small-" + i, 3000, FileTime.fromMillis(1L)), cache).slice(0, 1000);
            }
            assertEquals(6, cache.size());
            assertEquals(18_000, cache.bytes());
            FileWindows windows = new FileWindows(large, version(20_000), cache);
            windows.slice(0, 4096); // a full window of 8,192: the three least used small ones go
            assertEquals(4, cache.size());
            assertEquals(3 * 3000 + 8192, cache.bytes());
            windows.slice(8192, 4096); // two more go
            assertEquals(3, cache.size());
            assertEquals(3000 + 2 * 8192, cache.bytes());
            windows.slice(16384, 1000); // the file's last window, 3,616 bytes: the last small one goes
            assertEquals(3, cache.size());
            assertEquals(20_000, cache.bytes());
            cache.clear();
            assertEquals(0, cache.bytes());
        }
    }

    @Test
    void aWindowMappedAgainAfterItsFileGrewCountsItsNewLength() throws IOException {
        try (FileChannel channel = sparseFile(3000)) {
            MappedWindows cache = cache(8192, 4);
            FileWindows windows = new FileWindows(channel, version(20_000), cache);
            windows.slice(0, 1000);
            assertEquals(3000, cache.bytes());
            try (FileChannel grow = FileChannel.open(dir.resolve("sparse.bin"), StandardOpenOption.WRITE)) {
                grow.write(ByteBuffer.wrap(new byte[1]), 20_000 - 1);
            }
            assertEquals(4096, windows.slice(0, 4096).remaining());
            assertEquals(1, cache.size());
            assertEquals(8192, cache.bytes());
        }
    }

    @Test
    void aChunkThatSpansTwoWindowsIsRefused() throws IOException {
        try (FileChannel channel = sparseFile(100_000)) {
            FileWindows windows = new FileWindows(channel, version(100_000), cache(8192, 2));
            assertThrows(IllegalArgumentException.class, () -> windows.slice(8000, 4096));
        }
    }

    @Test
    void aSliceBeyondTheFilesCurrentEndIsAShrunkFile() throws IOException {
        try (FileChannel channel = sparseFile(10_000)) {
            FileWindows windows = new FileWindows(channel, version(20_000), cache(64L * 1024 * 1024, 4));
            FileShrankException e = assertThrows(FileShrankException.class, () -> windows.slice(8192, 4096));
            assertEquals("file ended at byte 10000 before the promised length", e.getMessage());
        }
    }
}
