package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** Buffers of several sizes under one budget: exact counts, FIFO grants, retired buffers never reused. */
class BufferPoolTest {

    private static final int K = 1024;

    /** A waiter that records what it was granted. */
    private static final class Recorder implements BufferPool.Waiter {
        final List<ByteBuffer> granted = new ArrayList<>();
        final List<OutOfMemoryError> refused = new ArrayList<>();

        @Override
        public void granted(ByteBuffer buffer) {
            granted.add(buffer);
        }

        @Override
        public void refused(OutOfMemoryError error) {
            refused.add(error);
        }
    }

    /** Allocates heap buffers, except that the allocations numbered in {@code failing} (from 1) throw. */
    private static IntFunction<ByteBuffer> failingAt(int... failing) {
        AtomicInteger count = new AtomicInteger();
        return size -> {
            int n = count.incrementAndGet();
            for (int f : failing) {
                if (f == n) {
                    throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
                }
            }
            return ByteBuffer.allocate(size);
        };
    }

    @Test
    void handsOutTheSizeAskedForAndCountsItExactly() {
        BufferPool pool = new BufferPool(256 * K, 1024 * K, true);
        ByteBuffer small = pool.acquire(16 * K, new Recorder());
        ByteBuffer big = pool.acquire(256 * K, new Recorder());
        assertEquals(16 * K, small.capacity());
        assertEquals(256 * K, big.capacity());
        assertEquals(272 * K, pool.bytesInUse());
        pool.release(small);
        pool.release(big);
        assertEquals(0, pool.bytesInUse());
        assertEquals(272 * K, pool.highWater());
        assertEquals(small, pool.acquire(16 * K, new Recorder()), "a released buffer of the size is reused");
    }

    @Test
    void waitersAreGrantedInArrivalOrderEvenWhenSmallerOnesWouldFit() {
        BufferPool pool = new BufferPool(64 * K, 64 * K, false);
        ByteBuffer first = pool.acquire(32 * K, new Recorder());
        ByteBuffer second = pool.acquire(16 * K, new Recorder());
        Recorder big = new Recorder();
        Recorder small = new Recorder();
        assertNull(pool.acquire(64 * K, big));
        assertNull(pool.acquire(16 * K, small), "overtook a waiter");
        pool.release(second);
        assertTrue(big.granted.isEmpty() && small.granted.isEmpty());
        pool.release(first);
        assertEquals(64 * K, big.granted.get(0).capacity());
        assertTrue(small.granted.isEmpty());
        pool.release(big.granted.get(0));
        assertEquals(16 * K, small.granted.get(0).capacity());
        pool.release(small.granted.get(0));
        assertEquals(0, pool.bytesInUse());
    }

    @Test
    void oneReleaseMayGrantSeveralSmallWaiters() {
        BufferPool pool = new BufferPool(64 * K, 64 * K, false);
        ByteBuffer big = pool.acquire(64 * K, new Recorder());
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        assertNull(pool.acquire(16 * K, a));
        assertNull(pool.acquire(32 * K, b));
        pool.release(big);
        assertEquals(1, a.granted.size());
        assertEquals(1, b.granted.size());
        assertEquals(48 * K, pool.bytesInUse());
    }

    @Test
    void aCancelledHeadNoLongerHoldsBackTheOthers() {
        BufferPool pool = new BufferPool(64 * K, 64 * K, false);
        pool.acquire(32 * K, new Recorder());
        Recorder head = new Recorder();
        Recorder next = new Recorder();
        assertNull(pool.acquire(64 * K, head));
        assertNull(pool.acquire(16 * K, next));
        pool.cancel(head);
        assertEquals(1, next.granted.size());
        assertTrue(head.granted.isEmpty());
    }

    @Test
    void retiredBuffersAreNeverHandedOutAgain() {
        BufferPool pool = new BufferPool(16 * K, 16 * K, true);
        ByteBuffer lent = pool.acquire(16 * K, new Recorder());
        pool.retire(lent);
        assertEquals(0, pool.bytesInUse());
        assertNotSame(lent, pool.acquire(16 * K, new Recorder()));
    }

    /** The JVM's direct-memory limit is not the budget: a failed allocation must not keep its share of it. */
    @Test
    void anAllocationThatFailsGivesItsShareBackAndThrows() {
        BufferPool pool = new BufferPool(64 * K, 64 * K, false, failingAt(1));
        assertThrows(OutOfMemoryError.class, () -> pool.acquire(64 * K, new Recorder()));
        assertEquals(0, pool.bytesInUse());
        assertEquals(64 * K, pool.acquire(64 * K, new Recorder()).capacity(), "the whole budget is there again");
    }

    /**
     * A grant whose allocation fails while other buffers are lent: its waiter waits again, at the head of the
     * queue, for them (the JVM's limit, not the budget, is what is spent); a grant made in the same release stands.
     */
    @Test
    void aWaiterWhoseBufferCannotBeMadeWaitsForTheLentOnes() {
        BufferPool pool = new BufferPool(64 * K, 128 * K, false, failingAt(3));
        ByteBuffer a = pool.acquire(64 * K, new Recorder());
        ByteBuffer b = pool.acquire(64 * K, new Recorder());
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        assertNull(pool.acquire(32 * K, first));
        assertNull(pool.acquire(32 * K, second));

        pool.retire(a); // both fit the budget now: the first's allocation (the third) fails, with b still lent

        assertTrue(first.refused.isEmpty() && first.granted.isEmpty(), "the first was refused or served");
        assertEquals(1, second.granted.size(), "the grant made in the same release");
        assertEquals(1, pool.waiting());
        assertEquals(96 * K, pool.bytesInUse(), "b and the second's: the failed buffer's share went back");

        pool.release(b); // what the JVM gave comes back
        assertEquals(1, first.granted.size());
        assertEquals(32 * K, first.granted.get(0).capacity());
        assertEquals(0, pool.waiting());
        assertEquals(64 * K, pool.bytesInUse());
    }

    /** With nothing lent, nothing can come back: the waiter is told, and the pool serves the next request. */
    @Test
    void aWaiterWhoseBufferCannotBeMadeWithNothingLentIsRefused() {
        BufferPool pool = new BufferPool(64 * K, 64 * K, false, failingAt(2));
        ByteBuffer a = pool.acquire(64 * K, new Recorder());
        Recorder first = new Recorder();
        assertNull(pool.acquire(32 * K, first));

        pool.retire(a); // the first's allocation (the second) fails with nothing lent

        assertEquals(1, first.refused.size());
        assertTrue(first.granted.isEmpty());
        assertEquals(0, pool.waiting());
        assertEquals(0, pool.bytesInUse());
        assertEquals(64 * K, pool.acquire(64 * K, new Recorder()).capacity(), "the whole budget is there again");
    }

    /**
     * An allocation that fails in acquire while buffers are lent queues the caller instead of throwing; until the
     * queue is empty again, the pool lends no more than the JVM gave, and then the whole budget again.
     */
    @Test
    void anAllocationThatFailsWhileBuffersAreLentWaitsForThem() {
        BufferPool pool = new BufferPool(64 * K, 256 * K, false, failingAt(2));
        ByteBuffer a = pool.acquire(64 * K, new Recorder());
        Recorder waiter = new Recorder();
        assertNull(pool.acquire(64 * K, waiter), "the failed allocation threw or was handed out");
        assertEquals(1, pool.waiting());
        assertEquals(64 * K, pool.bytesInUse());
        Recorder behind = new Recorder();
        assertNull(pool.acquire(16 * K, behind), "a later request went ahead of the waiting one");

        pool.release(a); // the waiter gets a itself (the same size: no new allocation)
        assertEquals(List.of(a), waiter.granted);
        assertTrue(behind.granted.isEmpty(), "lent more than the JVM gave before the waiters were served");

        pool.release(a);
        assertEquals(1, behind.granted.size());
        assertEquals(16 * K, pool.bytesInUse());
        List<ByteBuffer> whole = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            whole.add(pool.acquire(64 * K, new Recorder()));
        }
        assertTrue(whole.stream().allMatch(buffer -> buffer != null), "the budget was not whole again: " + whole);
        assertEquals(208 * K, pool.bytesInUse());
    }

    /** Idle buffers hold memory the JVM gave: with nothing lent, they are let go and the allocation tried again. */
    @Test
    void anAllocationThatFailsWithOnlyIdleBuffersKeptLetsThemGoAndTriesAgain() {
        BufferPool pool = new BufferPool(64 * K, 128 * K, false, failingAt(2));
        pool.release(pool.acquire(64 * K, new Recorder())); // kept idle
        assertEquals(64 * K, pool.bytesIdle());

        ByteBuffer buffer = pool.acquire(32 * K, new Recorder()); // the second allocation fails, the third is made
        assertEquals(32 * K, buffer.capacity());
        assertEquals(0, pool.bytesIdle(), "the idle buffer was kept");
        assertEquals(32 * K, pool.bytesInUse());
    }

    /** What the JVM gave when an allocation failed is the bytes lent and the bytes idle: the pool may lend both. */
    @Test
    void afterAFailedAllocationThePoolLendsWhatTheJvmGaveLentAndIdle() {
        BufferPool pool = new BufferPool(64 * K, 256 * K, false, failingAt(3));
        ByteBuffer a = pool.acquire(64 * K, new Recorder());
        pool.release(pool.acquire(64 * K, new Recorder())); // 64 KiB lent, 64 KiB idle
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        assertNull(pool.acquire(32 * K, first)); // the third allocation fails: the JVM gave 128 KiB
        assertNull(pool.acquire(64 * K, second));
        assertEquals(0, pool.bytesIdle(), "the idle buffer was kept");

        pool.release(a);
        assertEquals(1, first.granted.size());
        assertEquals(1, second.granted.size(), "held to the bytes lent, not the bytes the JVM gave");
        assertEquals(96 * K, pool.bytesInUse());
    }

    /**
     * Random acquires and releases of mixed sizes: the bytes lent and the bytes kept (lent or idle) never pass
     * the budget, the count is exact, and every waiter is served once the buffers come back.
     */
    @Test
    void mixedSizesNeverPassTheBudget() {
        mixedSizes(false);
    }

    /**
     * The same with one allocation in eight refused by the JVM: the counts stay exact, and every waiter ends
     * granted or refused, once.
     */
    @Test
    void mixedSizesWithAllocationsTheJvmRefusesKeepExactCountsAndServeEveryWaiter() {
        mixedSizes(true);
    }

    private void mixedSizes(boolean failing) {
        Random random = new Random(4242);
        Random failures = new Random(2424);
        int[] sizes = {16 * K, 32 * K, 64 * K, 100 * K};
        for (int round = 0; round < 200; round++) {
            long budget = 100 * K + random.nextInt(400 * K);
            BufferPool pool = new BufferPool(100 * K, budget, random.nextBoolean(), size -> {
                if (failing && failures.nextInt(8) == 0) {
                    throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
                }
                return ByteBuffer.allocate(size);
            });
            Map<ByteBuffer, Boolean> lent = new IdentityHashMap<>();
            ArrayDeque<Recorder> waiting = new ArrayDeque<>();
            List<ByteBuffer> retired = new ArrayList<>();
            for (int step = 0; step < 300; step++) {
                collectGrants(waiting, lent);
                if (random.nextInt(3) > 0 || lent.isEmpty()) {
                    Recorder waiter = new Recorder();
                    ByteBuffer buffer;
                    try {
                        buffer = pool.acquire(sizes[random.nextInt(sizes.length)], waiter);
                    } catch (OutOfMemoryError refused) {
                        assertTrue(failing && lent.isEmpty(), "refused although buffers were lent");
                        continue;
                    }
                    if (buffer == null) {
                        waiting.add(waiter);
                    } else {
                        lent.put(buffer, true);
                    }
                } else {
                    ByteBuffer buffer = lent.keySet().iterator().next();
                    lent.remove(buffer);
                    if (random.nextInt(5) == 0) {
                        pool.retire(buffer);
                        retired.add(buffer);
                    } else {
                        pool.release(buffer);
                    }
                }
                collectGrants(waiting, lent);
                long inUse = lent.keySet().stream().mapToLong(ByteBuffer::capacity).sum();
                assertEquals(inUse, pool.bytesInUse(), "round " + round + " step " + step);
                assertTrue(pool.bytesInUse() <= budget && pool.highWater() <= budget, "over the budget");
                assertTrue(pool.bytesInUse() + pool.bytesIdle() <= budget, "kept more than the budget");
                for (ByteBuffer old : retired) {
                    assertTrue(!lent.containsKey(old), "a retired buffer was lent again");
                }
            }
            while (!lent.isEmpty()) {
                ByteBuffer buffer = lent.keySet().iterator().next();
                lent.remove(buffer);
                pool.release(buffer);
                collectGrants(waiting, lent);
            }
            assertTrue(waiting.isEmpty(), "waiters left with nothing lent: " + waiting.size());
            assertEquals(0, pool.bytesInUse());
            assertEquals(0, pool.waiting());
        }
    }

    /** Moves every granted buffer to the lent ones; a granted waiter leaves the queue. */
    private static void collectGrants(ArrayDeque<Recorder> waiting, Map<ByteBuffer, Boolean> lent) {
        waiting.removeIf(waiter -> {
            assertTrue(waiter.granted.size() + waiter.refused.size() <= 1, "answered twice");
            waiter.granted.forEach(buffer -> lent.put(buffer, true));
            return !waiter.granted.isEmpty() || !waiter.refused.isEmpty();
        });
    }
}
