package dev.sluice.stream;

/**
 * One transfer's speed limit: the first {@code freeBytes} go at full speed, then at most {@code bytesPerSecond}.
 * A chunk may go once the time its bytes are worth has passed since the limit began, so a 4 MiB body at
 * 1 MiB/s ends 4 s after the limit starts, whatever the chunk size. Owner-confined.
 */
final class Throttle {

    private final long bytesPerSecond;
    private final long freeBytes;
    private long limitStartNanos = Long.MIN_VALUE;

    Throttle(long bytesPerSecond, long freeBytes) {
        this.bytesPerSecond = bytesPerSecond;
        this.freeBytes = freeBytes;
    }

    boolean limits() {
        return bytesPerSecond > 0;
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
        }
        long due = limitStartNanos + (long) (limited * 1_000_000_000.0 / bytesPerSecond);
        return Math.max(0, due - nowNanos);
    }
}
