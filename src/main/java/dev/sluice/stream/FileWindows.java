package dev.sluice.stream;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * One transfer's view of its file's mappings: the window it reads now, taken from the engine's
 * {@link MappedWindows}, cut into the slices its reads make resident (the transfer cuts its chunks from those).
 * A slice never spans two windows (the transfer ends a read at a window's end), so the window changes only every
 * {@link MappedWindows#windowBytes()}, and the shared cache is asked that rarely.
 *
 * <p>Used by one read at a time, in turn on different read threads: a transfer keeps one read in flight, and
 * each read is queued by the owner after it has taken the previous read's chunk from its inbox, which orders
 * this object's state from one read to the next.
 */
final class FileWindows {

    private final FileChannel channel;
    private final FileVersion file;
    private final MappedWindows shared;
    private MappedByteBuffer window;
    private long windowIndex = -1;

    FileWindows(FileChannel channel, FileVersion file, MappedWindows shared) {
        this.channel = channel;
        this.file = file;
        this.shared = shared;
    }

    /** The open file the windows map. */
    FileChannel channel() {
        return channel;
    }

    /**
     * Bytes {@code [position, position + length)} of the file, which lie in one window, as a slice of that
     * window.
     *
     * @throws FileShrankException when the file now ends before {@code position + length}: a mapping past the end
     *         reads zeros for the rest of the last page and faults beyond it
     */
    MappedByteBuffer slice(long position, int length) throws IOException {
        long end = position + length;
        long size = channel.size();
        if (size < end) {
            throw new FileShrankException(size);
        }
        long windowBytes = shared.windowBytes();
        long index = position / windowBytes;
        long offset = position - index * windowBytes;
        if (offset + length > windowBytes) {
            throw new IllegalArgumentException("slice " + position + "+" + length + " spans two windows");
        }
        if (index != windowIndex || offset + length > window.capacity()) {
            try {
                window = shared.window(channel, file, index, size);
            } catch (IOException e) {
                throw shrankBelow(size, e);
            }
            windowIndex = index;
        }
        return window.slice((int) offset, length);
    }

    /**
     * What a failed mapping means: the file shrank below {@code size} since that was read (a read-only mapping past
     * the end cannot extend the file), or else the mapping's own failure {@code e}.
     */
    private IOException shrankBelow(long size, IOException e) {
        try {
            long now = channel.size();
            if (now < size) {
                FileShrankException shrank = new FileShrankException(now);
                shrank.addSuppressed(e);
                return shrank;
            }
        } catch (IOException unknown) {
            e.addSuppressed(unknown);
        }
        return e;
    }
}
