package dev.sluice.stream;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The engine's read-only mappings of the files it serves, in aligned windows of {@link #windowBytes()}, shared by
 * every transfer of the same {@link FileVersion}.
 *
 * <p>Why shared: a mapping's pages must be entered in the process's page tables before they are read, a fault per
 * few pages. A window mapped once for a popular file is paid for once; a mapping per transfer paid it again for
 * every download and, measured with 10 clients on one file, cost more CPU per byte than reading into buffers.
 *
 * <p>Why windows: one mapping holds at most 2 GiB, and a transfer that reads a few MiB of a huge file maps one
 * window, not the whole file.
 *
 * <p>The cache keeps at most {@code maxWindows} windows covering at most {@code maxBytes} of address space, and
 * forgets one not used for {@code idleNanos}. Why a bound in bytes too: a window is as long as its file (up to
 * {@link #windowBytes()}), and a bound on the count alone (it was 64) made a server of a few hundred medium files
 * map and unmap a window for nearly every download (in a profile of 200 files of 1 to 8 MiB sent with
 * {@code sendfile}, unmapping was 3.7% of the server's CPU; with the bound in bytes, none). A
 * forgotten window is not unmapped by hand: whoever still writes from a slice of it keeps it reachable, and the
 * JDK unmaps it once the collector finds it unreachable. Until then it holds the file's pages, so the disk space
 * of a file deleted after it was served comes back after the next collection that reaches the window. Each
 * window is mapped under the cache's lock: mapping reads nothing from the disk (the pages are loaded later, by
 * the read that needs them), so the lock is held for a system call, not for I/O. (When the kernel refuses a
 * mapping for want of address space or map entries, the JDK collects, waits 100 ms and tries once more, under the
 * lock: a stall of the reads that need a new window, on the read threads only.)
 */
final class MappedWindows {

    private record Key(FileVersion file, long index) {
    }

    private static final class Window {
        final MappedByteBuffer buffer;
        long lastUsedNanos;

        Window(MappedByteBuffer buffer, long nowNanos) {
            this.buffer = buffer;
            this.lastUsedNanos = nowNanos;
        }
    }

    private final long windowBytes;
    private final int maxWindows;
    private final long maxBytes;
    private final long idleNanos;
    private final LongSupplier clock;
    private final LinkedHashMap<Key, Window> windows = new LinkedHashMap<>(16, 0.75f, true); // eldest: least used
    private long bytes; // the cached windows' capacities, summed

    MappedWindows(long windowBytes, int maxWindows, long maxBytes, long idleNanos, LongSupplier clock) {
        if (windowBytes < 1 || windowBytes > Integer.MAX_VALUE || maxWindows < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("bad window settings: " + windowBytes + ", " + maxWindows + ", "
                    + maxBytes);
        }
        this.windowBytes = windowBytes;
        this.maxWindows = maxWindows;
        this.maxBytes = maxBytes;
        this.idleNanos = idleNanos;
        this.clock = clock;
    }

    long windowBytes() {
        return windowBytes;
    }

    /**
     * Window {@code index} of {@code file}, read through {@code channel}: cached, or mapped now and cached when
     * {@code file} is known. The window ends at the file's end; {@code size} is the file's size now.
     */
    MappedByteBuffer window(FileChannel channel, FileVersion file, long index, long size) throws IOException {
        long start = index * windowBytes;
        long length = Math.min(windowBytes, size - start);
        if (file == null) {
            return channel.map(FileChannel.MapMode.READ_ONLY, start, length);
        }
        long now = clock.getAsLong();
        synchronized (windows) {
            Key key = new Key(file, index);
            Window window = windows.get(key);
            if (window == null || window.buffer.capacity() < length) { // shorter: the file grew in place
                window = new Window(channel.map(FileChannel.MapMode.READ_ONLY, start, length), now);
                Window replaced = windows.put(key, window);
                bytes += window.buffer.capacity() - (replaced == null ? 0 : replaced.buffer.capacity());
                trim(now);
            }
            window.lastUsedNanos = now;
            return window.buffer;
        }
    }

    /** Forgets the windows not used for the idle time. */
    void expire() {
        long now = clock.getAsLong();
        synchronized (windows) {
            trim(now);
        }
    }

    private void trim(long now) {
        Iterator<Map.Entry<Key, Window>> eldest = windows.entrySet().iterator();
        while (eldest.hasNext()) {
            Window window = eldest.next().getValue();
            if (windows.size() <= maxWindows && bytes <= maxBytes && now - window.lastUsedNanos < idleNanos) {
                return;
            }
            eldest.remove();
            bytes -= window.buffer.capacity();
        }
    }

    /** Forgets every window: the engine stops, and its mappings go with the next collection that reaches them. */
    void clear() {
        synchronized (windows) {
            windows.clear();
            bytes = 0;
        }
    }

    /** Windows cached now. */
    int size() {
        synchronized (windows) {
            return windows.size();
        }
    }

    /** Bytes of address space the cached windows cover. */
    long bytes() {
        synchronized (windows) {
            return bytes;
        }
    }
}
