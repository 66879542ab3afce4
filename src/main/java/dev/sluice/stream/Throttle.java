package dev.sluice.stream;

/**
 * One transfer's speed limit: the first {@code freeBytes} go at full speed, then at most {@code bytesPerSecond}.
 * A chunk may go once the time its bytes are worth has passed since the limit began, so a 4 MiB body at
 * 1 MiB/s ends 4 s after the limit starts, whatever the chunk size. Except the body's very first chunk, when the
 * limit applies from the first byte: it goes at once, with the response's head, and the limit counts from the
 * bytes after it. Else the client would see nothing, not even the status line, for a chunk's worth of time
 * (2 s for a 16 KiB chunk at 8 KiB/s), as if the server were not answering. nginx's {@code limit_rate} lets a
 * response start with a second's worth at once; here the burst is the first chunk: a quarter of a second's worth
 * (at least 1 KiB, at most 16 KiB), or the size the connection earned while that is worth at most a quarter of a
 * second (see {@code Transfer}). So a body of one chunk is not slowed at all. Owner-confined.
 */
final class Throttle {

    private final long bytesPerSecond;
    private final long freeBytes;
    private long limitStartNanos = Long.MIN_VALUE;
    /** The limited bytes of the body's first chunk, which went at once. */
    private long firstChunkBytes;

    Throttle(long bytesPerSecond, long freeBytes) {
        this.bytesPerSecond = bytesPerSecond;
        this.freeBytes = freeBytes;
    }

    boolean limits() {
        return bytesPerSecond > 0;
    }

    long bytesPerSecond() {
        return bytesPerSecond;
    }

    long freeBytes() {
        return freeBytes;
    }

    /** Nanoseconds to wait before {@code length} more bytes may follow the {@code sent} already written. */
    long delayNanos(long sent, long length, long nowNanos) {
        if (bytesPerSecond <= 0) {
            return 0;
        }
        long limited = sent + length - freeBytes;
        if (limited <= 0) {
            return 0;
        }
        if (limitStartNanos == Long.MIN_VALUE) {
            limitStartNanos = nowNanos;
            if (sent == 0) {
                firstChunkBytes = limited;
                return 0;
            }
        }
        long due = limitStartNanos + (long) ((limited - firstChunkBytes) * 1_000_000_000.0 / bytesPerSecond);
        return Math.max(0, due - nowNanos);
    }
}
