package dev.sluice.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Semaphore;

/**
 * The mapped counterpart of {@link ChunkRead}, run on the read pool: takes a span's slice of the file's mapping
 * and makes sure its pages are in memory, so the container thread that writes the chunks the transfer cuts from
 * it copies from memory and never waits for the disk. Pages the page cache holds already ({@code isLoaded()}: one
 * {@code mincore} call) are left alone; the missing ones are read through the file, then touched through the mapping
 * ({@link #readPiece}), a piece of {@link PageAdvice#PIECE} at a time; a span larger than the kernel reads ahead at
 * once has its missing pieces asked for at once by this thread where {@link PageAdvice} is available
 * ({@link #loadAdvised}), else read by several read threads at a time ({@link SpanLoad}), the last of which hands
 * the span to the transfer. Under memory pressure the pages may be evicted again before the write; then the write
 * faults them in, as a read into a buffer would have read them.
 *
 * <h2>Why read through the file before touching the mapping</h2>
 * A page the storage cannot give (a read error, a file truncated meanwhile) is a {@code SIGBUS} for the thread that
 * touches it through a mapping ({@code MappedByteBuffer.load()} does), and the JVM reports that fault from compiled
 * code only later, as an {@link InternalError} in whatever the thread does next: outside any handler here, it
 * killed the read thread and left its transfer waiting for a read that never ended, the client's connection held
 * for good. So the touch is the kernel's ({@link PageTouch}), where such a page fails the call; and before it, a
 * read of the file answers the storage's failures as they are, an {@link IOException} or a short read, where the
 * touch would see only a page it cannot read; the touch after it finds the pages in memory. What it costs: a
 * {@code sendfile} to {@code /dev/null} per missing piece, which copies nothing, next to the storage's own time.
 *
 * @param firstRead whether this is the transfer's first read: the pieces of its span keep that rank in the
 *        read pool's queue
 */
record MappedChunkRead(Transfer transfer, FileWindows windows, long position, int length, FileCheck check,
        boolean firstRead, TransferEngine engine)
        implements Runnable {

    /**
     * Where the pieces read through the file go: {@code /dev/null}, by the kernel's {@code sendfile} (the JDK's
     * {@code transferTo} from file to file), so that the pages come into the page cache with no copy to this
     * process; null where it cannot be opened, and then {@link #SCRATCH}, as where the pages did not come in.
     */
    private static final FileChannel SINK = openSink();
    /** Each read thread's buffer for the pieces it reads through the file without {@link #SINK}. */
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PageAdvice.PIECE));

    private static FileChannel openSink() {
        try {
            return FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public void run() {
        StorageGauge gauge = engine.storageGauge();
        MappedByteBuffer span;
        boolean resident;
        try {
            span = windows.slice(position, length);
            resident = span.isLoaded();
            if (resident) { // else the load votes through its own timing
                IOException changed = check == null ? null : check.problem();
                gauge.readFromMemory();
                if (changed != null) {
                    throw changed;
                }
            }
        } catch (Exception e) {
            transfer.readFailed(null, e);
            return;
        }
        if (resident) {
            transfer.spanMapped(span, position, false);
        } else {
            load(span, gauge);
        }
    }

    /**
     * Loads the span's pieces on this thread and helpers. The span casts one vote in the {@link StorageGauge}, as
     * a read of a resident span does: the first piece this thread loads is timed (each thread's CPU clock is its
     * own, so it is timed on the thread that loads it), and no other. A vote per piece would let one cold span of
     * 4 MiB outvote a whole window of reads from the page cache.
     */
    private void load(MappedByteBuffer span, StorageGauge gauge) {
        PageAdvice advice = engine.pageAdvice();
        if (advice.available()) {
            loadAdvised(span, gauge, advice);
            return;
        }
        Thread caller = Thread.currentThread();
        SpanLoad.Pages pages = new SpanLoad.Pages() {
            private boolean voted; // read and written by the caller only

            @Override
            public boolean isLoaded(int offset, int bytes) {
                return span.slice(offset, bytes).isLoaded();
            }

            @Override
            public void load(int offset, int bytes) throws IOException {
                if (voted || Thread.currentThread() != caller) {
                    readPiece(span, offset, bytes);
                    return;
                }
                voted = true;
                StorageGauge.Start start = gauge.start();
                readPiece(span, offset, bytes);
                gauge.stop(start);
            }
        };
        engine.startSpanLoad();
        new SpanLoad(pages, length, failure -> {
            engine.endSpanLoad();
            loaded(span, failure);
        }).start(helper -> engine.readAlongside(helper, firstRead));
    }

    /**
     * Loads the span on this thread alone, keeping up to its share of the missing pieces asked for ahead of the
     * piece it waits for ({@link PageAdvice}): the storage has that many of the span's reads at once, and no other
     * read thread is taken. A piece's permit goes back as soon as the piece is in memory, and the next missing piece
     * is asked for in its place. One vote in the gauge, for the whole load.
     *
     * <h2>Why a share, and why it slides</h2>
     * The permits ({@link TransferEngine#ADVISED_PIECES}) went to whichever span load came first, for all of its
     * pieces. A fast download's span is up to 4 MiB (32 pieces): two such loads could take every permit, and the
     * other downloads' loads found none and read their spans a piece at a time, one storage latency per 128 KiB.
     * Measured on the benchmark's FUSE mount (5 ms a read, 100 MB/s per open file) with 20 downloads: the mount had
     * the bound's 64 reads in flight, yet they moved about 510 MiB/s, because the loads that held the permits were
     * capped by their own file's bandwidth (32 reads of one file queue behind each other) while the rest waited 5 ms
     * a piece; with shares, 725 MiB/s (docs/performance.md, "A fair share of the reads in flight"). So a load takes
     * at most its fair part of the permits: the bound divided by the span loads in progress, and never less than
     * {@link TransferEngine#STORAGE_SPAN}'s pieces, so that a load still waits once for several pieces. It slides
     * its share along the span rather than asking for the next share once the last is in: its reads stay in flight
     * while it waits. One download alone still has every piece of its span asked for at once. What it costs: on two
     * cores the bytes now take the CPU the waiting left to other requests (with 20 downloads, a third to a quarter
     * of the benchmark's small requests answered).
     */
    private void loadAdvised(MappedByteBuffer span, StorageGauge gauge, PageAdvice advice) {
        Throwable failure = null;
        Semaphore permits = engine.advisedPieces();
        int pieces = (length + PageAdvice.PIECE - 1) / PageAdvice.PIECE;
        boolean[] asked = new boolean[pieces]; // pieces asked for with a permit, returned once the piece is in
        int held = 0; // permits taken and not yet returned, returned in finally whatever throws
        int loading = engine.startSpanLoad();
        try {
            StorageGauge.Start start = gauge.start();
            int share = Math.max(TransferEngine.STORAGE_SPAN / PageAdvice.PIECE,
                    TransferEngine.ADVISED_PIECES / loading);
            int ahead = 0;
            boolean refused = false;
            for (int piece = 0; piece < pieces; piece++) {
                ahead = Math.max(ahead, piece);
                while (!refused && ahead < pieces && held < share) {
                    int offset = ahead * PageAdvice.PIECE;
                    int bytes = Math.min(PageAdvice.PIECE, length - offset);
                    if (!span.slice(offset, bytes).isLoaded()) {
                        if (!permits.tryAcquire()) {
                            break;
                        }
                        held++;
                        asked[ahead] = true;
                        try {
                            advice.willNeed(span, offset, bytes);
                        } catch (Throwable e) { // a hint only: the loads read the rest, a piece at a time
                            refused = true;
                        }
                    }
                    ahead++;
                }
                // Each read waits for its piece (asked for already, or read now, a piece at a time).
                int offset = piece * PageAdvice.PIECE;
                int bytes = Math.min(PageAdvice.PIECE, length - offset);
                if (asked[piece] || !span.slice(offset, bytes).isLoaded()) {
                    readPiece(span, offset, bytes);
                }
                if (asked[piece]) {
                    permits.release();
                    held--;
                }
            }
            gauge.stop(start);
        } catch (Throwable e) {
            failure = e;
        } finally {
            permits.release(held);
            engine.endSpanLoad();
        }
        loaded(span, failure);
    }

    /**
     * Reads {@code [offset, offset + bytes)} of the span from the file (to {@link #SINK}), so that its pages are in
     * the page cache, then enters them in this mapping's page tables (a touch per page by the kernel,
     * {@link PageTouch}, now from memory): the storage's failures come back from the read, as they are (see the
     * class comment), and the touch reaches no storage. Touched, the pages are the mapping's, which the kernel's
     * reclaim keeps longer than pages read once (and {@code posix_fadvise(DONTNEED)} cannot drop), so they stay in
     * memory until the chunks cut from them are sent (docs/performance.md, "Waiting for a span's pieces without
     * touching them"). A truncation of the file between the read and the touch, microseconds apart, or an eviction
     * and a failing re-read, fails the touch; then the piece is read from the file once more, whose end or error
     * names the cause (a piece that reads whole again was cut and refilled meanwhile: reported cut, and the
     * transfer finds the change, {@code Transfer.whyTheFileEndedEarly}).
     *
     * @throws FileShrankException when the file now ends before the piece does, or a page of it could not be
     *         touched but reads again
     */
    private void readPiece(MappedByteBuffer span, int offset, int bytes) throws IOException {
        FileChannel channel = windows.channel();
        long at = position + offset;
        long end = at + bytes;
        MappedByteBuffer piece = span.slice(offset, bytes);
        if (SINK != null) {
            while (at < end) {
                long moved = channel.transferTo(at, end - at, SINK);
                if (moved <= 0) { // the file ends before the piece does
                    throw new FileShrankException(Math.min(at, channel.size()));
                }
                at += moved;
            }
        }
        // Where the JDK has no sendfile from file to file (another system, or a file that refuses it), transferTo
        // maps the file and writes the mapping to /dev/null, which reads none of it: then the pages are not in yet.
        if (SINK == null || !piece.isLoaded()) {
            ChunkRead.readFully(channel, SCRATCH.get().clear().limit(bytes), position + offset);
        }
        try {
            engine.pageTouch().touch(piece);
        } catch (PageTouch.UnreadablePage e) {
            // Truncated since the read, or evicted and failing the re-read: the file says which, read once more.
            ChunkRead.readFully(channel, SCRATCH.get().clear().limit(bytes), position + offset);
            FileShrankException gone = new FileShrankException(position + offset + e.offset()); // and back again
            gone.initCause(e);
            throw gone;
        }
    }

    private void loaded(MappedByteBuffer span, Throwable failure) {
        Throwable problem = failure;
        if (problem == null) {
            try {
                problem = check == null ? null : check.problem();
            } catch (Exception e) {
                problem = e;
            }
        }
        if (problem != null) {
            transfer.readFailed(null, problem);
            return;
        }
        transfer.spanMapped(span, position, true);
    }
}
