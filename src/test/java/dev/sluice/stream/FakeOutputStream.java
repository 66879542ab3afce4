package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * A container's output stream in non-blocking mode, driven by hand.
 *
 * <p>Like a zero-copy container it keeps a reference to the written buffer and takes its bytes only when the
 * write completes (at the next {@code isReady()} that returns true, or when the test makes it writable): a
 * transfer that reused a buffer too early would send corrupted bytes. It enforces the servlet rules: a write
 * without a preceding {@code isReady() == true}, or a write while one is pending, throws.
 */
final class FakeOutputStream extends ServletOutputStream {

    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private WriteListener listener;
    private boolean writable = true;
    private boolean mayWrite;
    private boolean owesWritePossible;
    private ByteBuffer pending;
    private IOException failNextWrite;
    private boolean fillOnNextWrite;
    private RuntimeException recycled;
    private int writes;
    private int maxStackDepth;
    private int protocolViolations;
    private final java.util.List<String> calls = new java.util.ArrayList<>();

    /** Like Tomcat after it completed the request itself: every further call throws. */
    void recycle() {
        recycled = new IllegalStateException("The output buffer object has been recycled");
    }

    @Override
    public boolean isReady() {
        if (recycled != null) {
            throw recycled;
        }
        if (!writable) {
            owesWritePossible = true;
            mayWrite = false;
            return false;
        }
        completePending();
        mayWrite = true;
        return true;
    }

    @Override
    public void setWriteListener(WriteListener writeListener) {
        if (listenerRefusal != null) {
            throw listenerRefusal;
        }
        this.listener = writeListener;
    }

    private RuntimeException listenerRefusal;

    /** Makes {@code setWriteListener} throw {@code refusal}, as a container does for a request not in async mode. */
    void refuseListener(RuntimeException refusal) {
        this.listenerRefusal = refusal;
    }

    /** The container's first callback after the listener is set. */
    void start() {
        mayWrite = true;
        fireWritePossible();
    }

    private void fireWritePossible() {
        try {
            listener.onWritePossible();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The socket drains (true) or fills up (false); draining owes the listener an onWritePossible. */
    void setWritable(boolean value) {
        writable = value;
        if (value && owesWritePossible) {
            owesWritePossible = false;
            completePending();
            mayWrite = true;
            fireWritePossible();
        }
    }

    /** The next write fills the socket: it stays pending, and isReady() says false until setWritable(true). */
    void fillOnNextWrite() {
        fillOnNextWrite = true;
    }

    void failNextWrite(IOException e) {
        failNextWrite = e;
    }

    void error(Throwable cause) {
        listener.onError(cause);
    }

    @Override
    public void write(ByteBuffer buffer) throws IOException {
        calls.add("write " + buffer.remaining());
        checkMayWrite();
        pending = buffer;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        calls.add("write " + len);
        checkMayWrite();
        pending = ByteBuffer.wrap(b, off, len);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** As a write, non-blocking: only after {@code isReady()} said true, and done at the next {@code isReady()}. */
    @Override
    public void flush() {
        calls.add("flush");
        if (!mayWrite || pending != null) {
            protocolViolations++;
            throw new IllegalStateException("flush without isReady() == true");
        }
        mayWrite = false;
    }

    private void checkMayWrite() throws IOException {
        maxStackDepth = Math.max(maxStackDepth, Thread.currentThread().getStackTrace().length);
        if (!mayWrite || pending != null) {
            protocolViolations++;
            throw new IllegalStateException("write without isReady() == true");
        }
        mayWrite = false;
        writes++;
        if (fillOnNextWrite) {
            fillOnNextWrite = false;
            writable = false;
        }
        if (failNextWrite != null) {
            IOException e = failNextWrite;
            failNextWrite = null;
            throw e;
        }
    }

    private void completePending() {
        if (pending != null) {
            byte[] bytes = new byte[pending.remaining()];
            pending.get(bytes);
            sent.writeBytes(bytes);
            pending = null;
        }
    }

    byte[] sent() {
        return sent.toByteArray();
    }

    boolean hasPendingWrite() {
        return pending != null;
    }

    /** Every write ("write" and its length) and "flush", in order. */
    java.util.List<String> calls() {
        return calls;
    }

    int writes() {
        return writes;
    }

    int maxStackDepth() {
        return maxStackDepth;
    }

    int protocolViolations() {
        return protocolViolations;
    }
}
