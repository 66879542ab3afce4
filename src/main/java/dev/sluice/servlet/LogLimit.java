package dev.sluice.servlet;

import java.util.concurrent.atomic.AtomicLong;

/**
 * At most one log line per period for one kind of event, counting the lines it holds back: a burst (a server out of
 * file descriptors fails every open at once; a file rewritten in a loop fails every download of it) costs one line
 * a period, and the next line that goes says how many were left out.
 *
 * <p>Thread-safe: one compare-and-set on the next due time decides which caller's line goes. A line held back while
 * another goes is counted in that line's note or in the next one's, never twice and never lost. The count of the
 * last lines of a burst waits for the next line, which may never come: the counters that come with such lines
 * ({@code failed}) have them all.
 */
final class LogLimit {

    private final long periodNanos;
    private final AtomicLong nextDue;
    private final AtomicLong heldBack = new AtomicLong();

    LogLimit(long periodNanos, long nowNanos) {
        this.periodNanos = periodNanos;
        this.nextDue = new AtomicLong(nowNanos);
    }

    /** One line a second, the first at once. */
    static LogLimit perSecond() {
        return new LogLimit(1_000_000_000L, System.nanoTime());
    }

    /**
     * Whether a line may go at {@code nowNanos} ({@link System#nanoTime()}'s clock).
     *
     * @return how many lines were held back since the last one that went, or -1 when this one is held back
     */
    long admit(long nowNanos) {
        long due = nextDue.get();
        if (nowNanos - due >= 0 && nextDue.compareAndSet(due, nowNanos + periodNanos)) {
            return heldBack.getAndSet(0);
        }
        heldBack.incrementAndGet();
        return -1;
    }

    /** {@link #admit(long)} now. */
    long admit() {
        return admit(System.nanoTime());
    }

    /** The note a line adds, for {@link #perSecond()}: how many were held back before it, or nothing. */
    static String heldBackNote(long heldBack) {
        return heldBack > 0 ? " (" + heldBack + " more such lines were held back: at most one a second)" : "";
    }
}
