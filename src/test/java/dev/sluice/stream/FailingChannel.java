package dev.sluice.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A read-only channel over a real file whose positional reads fail from a given offset on, like a bad disk; or, made
 * by {@link #endingAt}, find the file's end there while its size says more, like a mount whose sizes are wrong.
 */
class FailingChannel extends FileChannel {

    private final FileChannel delegate;
    private final long failFrom;
    private final boolean endsThere;
    /** With {@link #endsThere}: only the first read that reaches {@link #failFrom} finds the end there. */
    private boolean endsOnce;
    private boolean endedOnce;
    /** Run once, right after the first {@link #size()} read the size: a change of the file just then. */
    private Runnable afterFirstSize;
    /** With {@link #endsThere}: run once, when a read finds the end the second time (a look again after the first). */
    private Runnable atSecondEnd;
    private int ends;

    FailingChannel(FileChannel delegate, long failFrom) {
        this(delegate, failFrom, false);
    }

    private FailingChannel(FileChannel delegate, long failFrom, boolean endsThere) {
        this.delegate = delegate;
        this.failFrom = failFrom;
        this.endsThere = endsThere;
    }

    /** Reads as the file does; {@code change} runs right after the size is first read. */
    static FailingChannel changedAfterItsSize(FileChannel delegate, Runnable change) {
        FailingChannel channel = new FailingChannel(delegate, Long.MAX_VALUE, false);
        channel.afterFirstSize = change;
        return channel;
    }

    /** Reads from {@code end} on find the end of the file, whose size stays the real file's. */
    static FailingChannel endingAt(FileChannel delegate, long end) {
        return new FailingChannel(delegate, end, true);
    }

    /**
     * Reads from {@code end} on find the end of the file, whose size stays the real file's until the second read
     * that finds it runs {@code change}: a file emptied again while the first end was looked into.
     */
    static FailingChannel endingAtThenChanged(FileChannel delegate, long end, Runnable change) {
        FailingChannel channel = new FailingChannel(delegate, end, true);
        channel.atSecondEnd = change;
        return channel;
    }

    /**
     * The first read that reaches {@code end} finds the end of the file there, and every read after it reads the
     * file whole: a copy over the file met at its truncation and over by the next read, within one tick of the
     * file system's clock (size and time as before).
     */
    static FailingChannel endingOnceAt(FileChannel delegate, long end) {
        FailingChannel channel = new FailingChannel(delegate, end, true);
        channel.endsOnce = true;
        return channel;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (endsOnce && endedOnce) {
            return delegate.read(dst, position);
        }
        if (position >= failFrom) {
            if (endsThere) {
                endedOnce = true;
                if (++ends == 2 && atSecondEnd != null) {
                    atSecondEnd.run();
                }
                return -1;
            }
            throw new IOException("Input/output error (injected)");
        }
        if (!endsThere) {
            return delegate.read(dst, position);
        }
        ByteBuffer upToTheEnd = dst.slice().limit((int) Math.min(dst.remaining(), failFrom - position));
        int read = delegate.read(upToTheEnd, position);
        dst.position(dst.position() + Math.max(read, 0));
        return read;
    }

    @Override
    public long size() throws IOException {
        long size = delegate.size();
        Runnable change = afterFirstSize;
        afterFirstSize = null;
        if (change != null) {
            change.run();
        }
        return size;
    }

    @Override
    protected void implCloseChannel() throws IOException {
        delegate.close();
    }

    @Override
    public int read(ByteBuffer dst) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int write(ByteBuffer src) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long position() {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileChannel position(long newPosition) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileChannel truncate(long size) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void force(boolean metaData) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int write(ByteBuffer src, long position) {
        throw new UnsupportedOperationException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return delegate.map(mode, position, size); // a mapping reads what the file has; only reads fail
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) {
        throw new UnsupportedOperationException();
    }
}
