package dev.sluice.stream;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Chunk buffers under one memory budget shared by every transfer.
 *
 * <p>The budget is a hard ceiling: {@link #acquire} never hands out a buffer that would take the bytes in use
 * past it. A caller that cannot have one now is queued and later {@linkplain Waiter#granted granted} a buffer by
 * whichever thread releases one, in arrival order, so no transfer starves and none allocates past the budget.
 * A waiting transfer holds no thread.
 *
 * <p>Released buffers are kept for reuse; a buffer the container may still be reading from when its transfer
 * is aborted is {@linkplain #retire retired} instead: it leaves the budget but is never handed to another
 * transfer, so no client can ever be sent bytes meant for another.
 *
 * <p>The lock guards only counters and two queues; {@link Waiter#granted} is called outside it, so a grant
 * may safely wake a transfer.
 */
public final class BufferPool {

    /** Receives a buffer that was not available when it was asked for. */
    public interface Waiter {
        /** Called at most once per queued request, outside the pool's lock, on the releasing thread. */
        void granted(ByteBuffer buffer);
    }

    private final int bufferSize;
    private final long budget;
    private final boolean direct;
    private final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private long bytesInUse;
    private long highWater;
    private long waits;

    public BufferPool(int bufferSize, long budget, boolean direct) {
        if (bufferSize <= 0 || budget < bufferSize) {
            throw new IllegalArgumentException("budget " + budget + " cannot hold one buffer of " + bufferSize);
        }
        this.bufferSize = bufferSize;
        this.budget = budget;
        this.direct = direct;
    }

    public int bufferSize() {
        return bufferSize;
    }

    public boolean direct() {
        return direct;
    }

    /**
     * A cleared buffer of {@link #bufferSize()} bytes, or {@code null} when the budget is spent; then
     * {@code waiter} is queued and will be granted one later.
     */
    public ByteBuffer acquire(Waiter waiter) {
        synchronized (this) {
            if (waiters.isEmpty() && bytesInUse + bufferSize <= budget) {
                return take();
            }
            waiters.add(waiter);
            waits++;
            return null;
        }
    }

    /** Forgets a queued waiter (its transfer ended). A grant that raced with this still arrives. */
    public void cancel(Waiter waiter) {
        synchronized (this) {
            waiters.remove(waiter);
        }
    }

    /** Gives a buffer back for reuse. */
    public void release(ByteBuffer buffer) {
        giveBack(buffer, true);
    }

    /** Gives a buffer's share of the budget back without ever reusing the buffer. */
    public void retire(ByteBuffer buffer) {
        giveBack(buffer, false);
    }

    private void giveBack(ByteBuffer buffer, boolean reuse) {
        Waiter next;
        ByteBuffer grant = null;
        synchronized (this) {
            bytesInUse -= bufferSize;
            if (reuse) {
                idle.push(buffer);
            }
            next = waiters.poll();
            if (next != null) {
                grant = take();
            }
        }
        if (next != null) {
            next.granted(grant);
        }
    }

    private ByteBuffer take() {
        bytesInUse += bufferSize;
        highWater = Math.max(highWater, bytesInUse);
        ByteBuffer buffer = idle.poll();
        if (buffer == null) {
            buffer = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        }
        return buffer.clear();
    }

    public synchronized long bytesInUse() {
        return bytesInUse;
    }

    public synchronized long highWater() {
        return highWater;
    }

    /** How many requests had to wait for a buffer since start. */
    public synchronized long waits() {
        return waits;
    }

    public synchronized int waiting() {
        return waiters.size();
    }
}
