package dev.sluice.stream;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Makes a span of a file's mapping resident with up to {@link #MAX_LOADERS} reads of the storage in flight at
 * once instead of one. The span is cut into pieces of {@link #PIECE} bytes, and the pieces into at most
 * {@code MAX_LOADERS} shares of consecutive pieces. The read thread that started the load offers every share but
 * the first to a helper on the read pool, loads the first and every share no helper took, in order; the last
 * loader to finish reports, once, to {@code done}: with {@code null}, or with the first failure.
 *
 * <h2>Why</h2>
 * Loading pages of a mapping ({@code MappedByteBuffer.load()}: {@code madvise(MADV_WILLNEED)}, then a touch per
 * page) asks Linux to read ahead at most its read-ahead size at once ({@code force_page_cache_ra} caps the
 * advice at the device's read-ahead, 128 KiB by default and on FUSE mounts); the rest of a larger span comes in
 * through page faults, each of which reads about the next 128 KiB and waits for it. From storage that answers
 * every read late (5 ms on the benchmark's FUSE mount; a network file system or an object store alike), a
 * fast client's span of 4 MiB took 32 such waits one after the other: about 20 MB/s per download, whatever the
 * storage could give, where a blocking server's {@code sendfile} keeps the kernel's read-ahead pipelined. With
 * its shares loaded side by side, a span waits about as long as its slowest share.
 *
 * <h2>Only threads that are free</h2>
 * A helper is only given a share when a read thread can take it at once (one is idle, or the pool may grow
 * because reads wait for the storage): the caller's {@code helpers} says whether it took the share. When every
 * thread is busy with other transfers' reads, the storage already has as many reads in flight as the pool
 * allows, and a share queued behind them would only make this span wait for the whole queue (measured with 100
 * clients, one round each: queueing every share gave 573, 495 and 515 MB/s where loading alone gave 614, 599
 * and 530).
 *
 * <p>Pieces already resident are skipped (one {@code mincore} each), and a span whose pages are all resident
 * (a file in the page cache, the usual case) is never cut at all: the caller checks that first.
 */
final class SpanLoad {

    /** Bytes made resident by one advice: Linux's default read-ahead, the most one advice reads at once. */
    static final int PIECE = 128 * 1024;

    /** The most loaders of one span: enough to keep a fast client's span in flight, few enough to leave threads to others. */
    static final int MAX_LOADERS = 8;

    /** The pages of a span, as a loader sees them. */
    interface Pages {
        /** Whether {@code [offset, offset + length)} of the span is resident. */
        boolean isLoaded(int offset, int length);

        /** Makes {@code [offset, offset + length)} of the span resident; waits for the storage. */
        void load(int offset, int length) throws Exception;
    }

    private final Pages pages;
    private final int length;
    private final int pieces;
    private final int piecesPerShare;
    private final int shares;
    private final AtomicInteger running;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Consumer<Throwable> done;

    /** A load of the {@code length} bytes of {@code pages}; {@code done} gets {@code null} or the first failure. */
    SpanLoad(Pages pages, int length, Consumer<Throwable> done) {
        this.pages = pages;
        this.length = length;
        this.pieces = Math.max(1, (int) ((length + (long) PIECE - 1) / PIECE));
        this.piecesPerShare = (pieces + MAX_LOADERS - 1) / MAX_LOADERS;
        this.shares = (pieces + piecesPerShare - 1) / piecesPerShare;
        this.running = new AtomicInteger(shares);
        this.done = done;
    }

    /** How many shares the span is cut into: one per loader at most. */
    int shares() {
        return shares;
    }

    /**
     * Offers each share but the first to {@code helpers}, which runs the share on another thread and returns
     * true, or returns false when no thread would take it now, or throws (a {@link RejectedExecutionException}
     * when the pool stops) when it did not queue the share; then loads the first share and every share not taken
     * on this thread, in order, so {@code done} is called exactly once.
     */
    void start(Predicate<Runnable> helpers) {
        boolean[] taken = new boolean[shares];
        for (int share = 1; share < shares; share++) {
            int mine = share;
            try {
                taken[share] = helpers.test(() -> loadShare(mine));
            } catch (RuntimeException | Error e) { // not queued (the pool stops, or could not start a thread)
                taken[share] = false;
            }
            if (!taken[share]) {
                break; // no thread free for this one: none for the next either
            }
        }
        for (int share = 0; share < shares; share++) {
            if (!taken[share]) {
                loadShare(share);
            }
        }
    }

    private void loadShare(int share) {
        try {
            int end = Math.min(pieces, (share + 1) * piecesPerShare);
            for (int piece = share * piecesPerShare; piece < end && failure.get() == null; piece++) {
                int offset = piece * PIECE;
                int bytes = Math.min(PIECE, length - offset);
                if (!pages.isLoaded(offset, bytes)) {
                    pages.load(offset, bytes);
                }
            }
        } catch (Throwable e) { // reported, not thrown: a share that never reports would leave the transfer waiting
            failure.compareAndSet(null, e);
        }
        // The decrement publishes this loader's pages and failure to whichever loader reports.
        if (running.decrementAndGet() == 0) {
            done.accept(failure.get());
        }
    }
}
