package dev.sluice.stream;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Chunk buffers of several sizes under one memory budget shared by every transfer.
 *
 * <p>Transfers size their chunks to their clients (see {@link ChunkSizer}), so the pool hands out buffers of any
 * size up to the largest, and keeps a free list per size. The budget is a hard ceiling on the bytes of every
 * buffer the pool has made and still keeps, lent or idle: {@link #acquire} never hands out a buffer that would
 * take the bytes in use past it, and an idle buffer of another size is dropped (left to the garbage collector)
 * when a new one needs its room. A caller that cannot have a buffer now is queued and later
 * {@linkplain Waiter#granted granted} one by whichever thread releases memory, strictly in arrival order: a
 * large request at the head is not overtaken by small ones behind it, so no transfer starves and none
 * allocates past the budget. A waiting transfer holds no thread.
 *
 * <p>Released buffers are kept for reuse; a buffer the container may still be reading from when its transfer
 * is aborted is {@linkplain #retire retired} instead: it leaves the budget but is never handed to another
 * transfer, so no client can ever be sent bytes meant for another.
 *
 * <p>The lock guards only counters and queues. New buffers are allocated outside it: allocating direct memory
 * zeroes it, and when the JVM's direct-memory limit is near, {@code allocateDirect} runs a garbage collection and
 * sleeps, which under the lock would stall every transfer's release and acquire. {@link Waiter#granted} is
 * called outside it too, so a grant may safely wake a transfer.
 *
 * <p>An allocation can fail although the budget has room: the JVM's direct-memory limit
 * ({@code -XX:MaxDirectMemorySize}) is shared with the container, and the settings only refuse a budget above it,
 * not one the container's own buffers leave too little room for. The failed buffer's share of the budget is taken
 * back at once, and the idle buffers are let go, so that the collection the next allocation runs can free their
 * memory. If other buffers are lent, they will come back, so the request waits for them, as for a spent budget: it
 * goes back to the head of the queue, and the pool lends and keeps no more than the JVM did give (the bytes lent and
 * idle when the allocation failed) until nobody waits. With nothing lent but idle buffers let go, the allocation is
 * tried once more. Only when nothing could come back is the caller told: {@link #acquire} throws, a queued waiter
 * is {@linkplain Waiter#refused refused}, and the waiters behind it are still served. (Before, every failed
 * allocation failed its download: with a budget equal to a 32 MiB direct-memory limit, 2 downloads of 20 in a
 * black-box run of 2026-12-07.) A waiter cancelled while its grant is being allocated comes back to the head if
 * the allocation fails; its later grant reaches a transfer that has ended, which gives the buffer back.
 */
final class BufferPool {

    /** Receives a buffer that was not available when it was asked for. */
    public interface Waiter {
        /** Called at most once per queued request, outside the pool's lock, on the releasing thread. */
        void granted(ByteBuffer buffer);

        /**
         * Called instead of {@link #granted} when the buffer could not be allocated: the request is over, and
         * nothing more comes for it. The default does nothing, for waiters that need not know.
         */
        default void refused(OutOfMemoryError error) {
        }
    }

    private record Request(Waiter waiter, int size) {
    }

    /** A buffer for a waiter: {@code reused}, or a new one of {@code size} when that is {@code null}. */
    private record Grant(Waiter waiter, ByteBuffer reused, int size) {
    }

    private final int largest;
    private final long budget;
    private final boolean direct;
    private final IntFunction<ByteBuffer> allocator;
    private final Map<Integer, ArrayDeque<ByteBuffer>> idle = new HashMap<>();
    private final ArrayDeque<Request> waiters = new ArrayDeque<>();
    /** The most bytes lent and kept: the budget, or less after an allocation failed until nobody waits. */
    private long ceiling;
    private long bytesInUse;
    private long bytesIdle;
    private long highWater;
    private long waits;

    /**
     * @param largest the largest buffer anyone may ask for
     * @param budget bytes of buffers the pool may hold at once, lent or idle
     * @param direct off-heap buffers rather than heap arrays
     */
    public BufferPool(int largest, long budget, boolean direct) {
        this(largest, budget, direct, direct ? ByteBuffer::allocateDirect : ByteBuffer::allocate);
    }

    /** As above, with the allocation of new buffers given: for tests that make it fail. */
    BufferPool(int largest, long budget, boolean direct, IntFunction<ByteBuffer> allocator) {
        if (largest <= 0 || budget < largest) {
            throw new IllegalArgumentException("budget " + budget + " cannot hold one buffer of " + largest);
        }
        this.largest = largest;
        this.budget = budget;
        this.ceiling = budget;
        this.direct = direct;
        this.allocator = allocator;
    }

    public boolean direct() {
        return direct;
    }

    /**
     * A cleared buffer of exactly {@code size} bytes, or {@code null} when the budget is spent or others wait
     * already, or the JVM could not make it while other buffers are lent; then {@code waiter} is queued and will be
     * granted one of that size later.
     *
     * @throws OutOfMemoryError when the JVM could not make the buffer and no other buffer is lent
     */
    public ByteBuffer acquire(int size, Waiter waiter) {
        if (size <= 0 || size > largest) {
            throw new IllegalArgumentException("buffer size " + size + " not in 1.." + largest);
        }
        ByteBuffer reused;
        synchronized (this) {
            if (!waiters.isEmpty() || bytesInUse + size > ceiling()) {
                waiters.add(new Request(waiter, size));
                waits++;
                return null;
            }
            reused = take(size);
        }
        if (reused != null) {
            return reused;
        }
        Request request = new Request(waiter, size);
        while (true) {
            try {
                return allocator.apply(size);
            } catch (OutOfMemoryError e) {
                switch (notMade(request, true)) {
                    case WAIT -> {
                        return null;
                    }
                    case RETRY -> {
                        // the idle buffers were let go: the allocation's own collection may free them now
                    }
                    case REFUSE -> {
                        deliver(grantWhatFitsNow());
                        throw e;
                    }
                }
            }
        }
    }

    /** Forgets a queued waiter (its transfer ended). A grant that raced with this still arrives. */
    public void cancel(Waiter waiter) {
        List<Grant> grants;
        synchronized (this) {
            waiters.removeIf(request -> request.waiter() == waiter);
            grants = grantWhatFits(); // the head may have been the request that held the others back
        }
        deliver(grants);
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
        List<Grant> grants;
        synchronized (this) {
            int size = buffer.capacity();
            bytesInUse -= size;
            if (reuse) {
                idle.computeIfAbsent(size, s -> new ArrayDeque<>()).push(buffer);
                bytesIdle += size;
            }
            grants = grantWhatFits();
        }
        deliver(grants);
    }

    /** Takes buffers for the waiters at the head of the queue, in order, while they fit the ceiling. */
    private List<Grant> grantWhatFits() {
        List<Grant> grants = List.of();
        for (Request head; (head = waiters.peek()) != null && fits(head.size()); ) {
            waiters.poll();
            if (grants.isEmpty()) {
                grants = new ArrayList<>(2);
            }
            grants.add(new Grant(head.waiter(), take(head.size()), head.size()));
        }
        return grants;
    }

    /**
     * Hands each grant its buffer, allocating the new ones. A grant whose allocation fails waits again at the head
     * of the queue while other buffers are lent, and its turn ends ({@link #notMade}); else it is refused and its
     * share given back, which may let further waiters through: they are served in the same loop, so this ends when
     * the queue is empty or the ceiling reached again (each turn takes waiters off a finite queue).
     */
    private void deliver(List<Grant> grants) {
        if (grants.isEmpty()) { // every release without a waiter: no allocation on that path
            return;
        }
        ArrayDeque<Grant> pending = new ArrayDeque<>(grants);
        for (Grant grant; (grant = pending.poll()) != null; ) {
            ByteBuffer buffer = grant.reused();
            while (buffer == null) {
                try {
                    buffer = allocator.apply(grant.size());
                } catch (OutOfMemoryError e) {
                    AfterFailure next = notMade(new Request(grant.waiter(), grant.size()), false);
                    if (next == AfterFailure.REFUSE) {
                        pending.addAll(grantWhatFitsNow());
                        grant.waiter().refused(e);
                    }
                    if (next != AfterFailure.RETRY) {
                        break;
                    }
                }
            }
            if (buffer != null) {
                grant.waiter().granted(buffer);
            }
        }
    }

    /** What a request whose buffer the JVM could not make does next. */
    private enum AfterFailure {
        /** Other buffers are lent: it waits for them at the head of the queue. */
        WAIT,
        /** Nothing is lent, but idle buffers were kept: they were let go, and the allocation is tried once more. */
        RETRY,
        /** Nothing is lent or kept that could come back: the request is over. */
        REFUSE
    }

    /**
     * Takes back the share of a buffer that was counted as lent but could not be made, and says what the request
     * does next. The memory the JVM did give is what is lent and kept idle: the ceiling drops to it, and the idle
     * buffers are let go, so that the collection the next allocation runs can free them. For {@code RETRY} the
     * request's share is counted again (the caller allocates once more); for {@code WAIT} the request is queued
     * again at the head, and counted as a wait if it is {@code fresh} (not a waiter's grant).
     */
    private synchronized AfterFailure notMade(Request request, boolean fresh) {
        bytesInUse -= request.size();
        long given = bytesInUse + bytesIdle;
        boolean keptIdle = bytesIdle > 0;
        idle.clear();
        bytesIdle = 0;
        if (bytesInUse > 0) {
            ceiling = given;
            waiters.addFirst(request);
            if (fresh) {
                waits++;
            }
            return AfterFailure.WAIT;
        }
        if (keptIdle) {
            bytesInUse += request.size();
            return AfterFailure.RETRY;
        }
        return AfterFailure.REFUSE;
    }

    /**
     * Whether a buffer of {@code size} may be lent now, under the lock. With nothing lent it may, whatever the
     * ceiling: nothing would come back for it to wait for.
     */
    private boolean fits(int size) {
        return bytesInUse == 0 || bytesInUse + size <= ceiling();
    }

    /** The ceiling, back at the budget once nobody waits. Under the lock. */
    private long ceiling() {
        if (waiters.isEmpty()) {
            ceiling = budget;
        }
        return ceiling;
    }

    private synchronized List<Grant> grantWhatFitsNow() {
        return grantWhatFits();
    }

    /**
     * Counts a buffer of {@code size} as lent and returns an idle one of that size, or {@code null}: then the
     * caller allocates a new one, outside the lock, whose room this call has already made in the budget.
     */
    private ByteBuffer take(int size) {
        bytesInUse += size;
        highWater = Math.max(highWater, bytesInUse);
        ArrayDeque<ByteBuffer> free = idle.get(size);
        ByteBuffer buffer = free == null ? null : free.poll();
        if (buffer != null) {
            bytesIdle -= size;
            return buffer.clear();
        }
        dropIdleBeyondBudget();
        return null;
    }

    /** Lets go of idle buffers of other sizes until the buffers kept, lent or idle, fit the ceiling again. */
    private void dropIdleBeyondBudget() {
        Iterator<ArrayDeque<ByteBuffer>> lists = idle.values().iterator();
        long most = ceiling();
        while (bytesInUse + bytesIdle > most && lists.hasNext()) {
            ArrayDeque<ByteBuffer> free = lists.next();
            for (ByteBuffer dropped; bytesInUse + bytesIdle > most && (dropped = free.poll()) != null; ) {
                bytesIdle -= dropped.capacity();
            }
        }
    }

    public synchronized long bytesInUse() {
        return bytesInUse;
    }

    /** Bytes of released buffers kept for reuse. */
    public synchronized long bytesIdle() {
        return bytesIdle;
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
