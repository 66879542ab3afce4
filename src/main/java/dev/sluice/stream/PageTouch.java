package dev.sluice.stream;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.io.IOUtils;

/**
 * Enters the pages of a slice of a file's mapping in this process's page tables (and in the page cache, where they
 * are not) by having the kernel read one byte of each: a gathering write of one-byte slices, one a page, into a
 * pipe, read back at once. It is the touch of {@link MappedByteBuffer#load()}, done by the kernel instead of
 * from Java, so that a page the file no longer has fails this call instead of the thread.
 *
 * <h2>Why not {@code load()}</h2>
 * A touch from Java of a page past the file's end (a file truncated after its pages were read) is a
 * {@code SIGBUS}. Java 17 turns it into an {@link InternalError}, but raises it only where the thread next passes
 * a safepoint check with a safepoint pending: later, anywhere. On the launcher, with a file emptied and rewritten
 * in a loop while clients fetched it, it came out of {@code Transfer.finish} on the read thread, which died before
 * telling the download's end: the client never got an answer and the file stayed open until the server stopped
 * (and it failed other transfers' steps, which answered 500). Read by the kernel, the same page is an
 * {@code EFAULT}, "Bad address": an {@link UnreadablePage} from this call, where the caller knows which piece of
 * which file it touched. No call made right after {@code load()} brought the error out at once (tried: a native
 * call, {@code Thread.yield()}).
 *
 * <p>What it costs: two system calls a piece more, and the page faults are taken in the kernel instead of from
 * Java. Measured against {@code load()} on a 256 MiB file in the page cache, mapped afresh for each pass, 4 MiB
 * spans touched 128 KiB at a time, once the JIT had compiled both: 103 to 115 ms of CPU a pass against 103 to 113.
 *
 * <p>Thread-safe: a call takes an idle pipe or opens one, and gives it back after; a pipe whose write failed is
 * closed rather than given back, so that nothing a failed write may have left in it is read by a later call. At
 * most as many pipes are open as calls ran at once (the read threads and the span loads' helpers), and they stay
 * open, idle, until the engine closes: two file descriptors each, at most {@code maxReadThreads} pipes.
 */
final class PageTouch implements Closeable {

    /** Bytes between two touched bytes: Linux's smallest page. Larger pages are touched more than once. */
    static final int STRIDE = 4096;

    /** Bytes, one a page, written at most at once: Linux's {@code IOV_MAX}, the most the JDK hands one writev. */
    private static final int POINTS_A_WRITE = 1024;

    private final Queue<Lane> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    /** A pipe and the buffer its bytes are read back into; used by one call at a time. */
    private record Lane(Pipe pipe, ByteBuffer back) implements Closeable {
        static Lane open() throws IOException {
            ByteBuffer back = ByteBuffer.allocateDirect(POINTS_A_WRITE); // first: a failure here leaves no pipe
            return new Lane(Pipe.open(), back);
        }

        @Override
        public void close() {
            IOUtils.closeQuietly(pipe.sink());
            IOUtils.closeQuietly(pipe.source());
        }
    }

    /** A page of the slice could not be read: the file ends before it, or the storage failed it. */
    static final class UnreadablePage extends IOException {
        private final int offset;

        UnreadablePage(int offset, IOException cause) {
            super("a page at or after byte " + offset + " of the slice could not be read", cause);
            this.offset = offset;
        }

        /** Where in the slice the touch failed: the page that could not be read is at this offset or after it. */
        int offset() {
            return offset;
        }
    }

    /**
     * Touches every page of {@code slice} from its position to its limit, waiting for pages not in memory.
     *
     * @throws UnreadablePage when a page cannot be read
     * @throws ClosedChannelException when the thread was interrupted (the pipe closes)
     * @throws IOException when no pipe can be opened (no file descriptor left), or its bytes not read back
     */
    void touch(ByteBuffer slice) throws IOException {
        ByteBuffer[] points = bytesToTouch(slice);
        if (points.length == 0) {
            return;
        }
        Lane lane = idle.poll();
        if (lane == null) {
            lane = Lane.open();
            open.incrementAndGet();
        }
        boolean reusable = false;
        try {
            for (int done = 0; done < points.length; ) {
                long taken;
                try {
                    taken = lane.pipe().sink().write(points, done, Math.min(points.length - done, POINTS_A_WRITE));
                } catch (ClosedChannelException e) { // an interrupt, not the page
                    throw e;
                } catch (IOException e) {
                    throw new UnreadablePage(Math.min(done * STRIDE, slice.remaining() - 1), e);
                }
                if (taken <= 0) {
                    throw new IOException("a pipe took none of " + (points.length - done) + " bytes");
                }
                readBack(lane, (int) taken);
                done += (int) taken; // a byte a point
            }
            reusable = true;
        } finally {
            giveBack(lane, reusable);
        }
    }

    /** One-byte slices of {@code slice} at {@link #offsetsToTouch}. */
    private static ByteBuffer[] bytesToTouch(ByteBuffer slice) {
        int[] offsets = offsetsToTouch(slice.remaining());
        ByteBuffer[] points = new ByteBuffer[offsets.length];
        for (int k = 0; k < offsets.length; k++) {
            points[k] = slice.slice(slice.position() + offsets[k], 1);
        }
        return points;
    }

    /**
     * Offsets of {@code bytes} that hold a byte of every page they span, wherever they start on a page: one every
     * {@link #STRIDE} bytes from the first, and the last (whose page may hold no strided byte).
     */
    static int[] offsetsToTouch(int bytes) {
        if (bytes == 0) {
            return new int[0];
        }
        int strided = (bytes - 1) / STRIDE + 1;
        boolean lastApart = (bytes - 1) % STRIDE != 0;
        int[] offsets = new int[strided + (lastApart ? 1 : 0)];
        for (int k = 0; k < strided; k++) {
            offsets[k] = k * STRIDE;
        }
        if (lastApart) {
            offsets[strided] = bytes - 1;
        }
        return offsets;
    }

    private static void readBack(Lane lane, int bytes) throws IOException {
        ByteBuffer back = lane.back();
        back.clear().limit(bytes);
        while (back.hasRemaining()) {
            if (lane.pipe().source().read(back) < 0) {
                throw new IOException("a pipe ended before the bytes written to it");
            }
        }
    }

    private void giveBack(Lane lane, boolean reusable) {
        if (!reusable) {
            close(lane);
            return;
        }
        idle.add(lane);
        if (closed) { // close() may have emptied the queue before this lane was added
            closeIdle();
        }
    }

    private void closeIdle() {
        for (Lane lane; (lane = idle.poll()) != null; ) {
            close(lane);
        }
    }

    private void close(Lane lane) {
        lane.close();
        open.decrementAndGet();
    }

    /** Pipes open, idle or in use. */
    int pipesOpen() {
        return open.get();
    }

    /** For tests, with no call running: whether every idle pipe is empty, as each call must leave it. */
    boolean idlePipesAreEmpty() throws IOException {
        for (Lane lane : idle) {
            Pipe.SourceChannel source = lane.pipe().source();
            source.configureBlocking(false);
            try {
                if (source.read(ByteBuffer.allocate(1)) != 0) {
                    return false;
                }
            } finally {
                source.configureBlocking(true);
            }
        }
        return true;
    }

    /** Closes the idle pipes; a call still running closes its own when it returns. */
    @Override
    public void close() {
        closed = true;
        closeIdle();
    }
}
