package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The read queue: first reads before the rest, queue order within each rank, the waiting count exact, the lane. */
class ReadPoolTest {

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final ReadPool pool = new ReadPool(1, task -> {
        Thread thread = new Thread(task, "read-pool-test");
        thread.setDaemon(true);
        threads.add(thread);
        return thread;
    });
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<String> ran = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        release.countDown();
        pool.shutdown();
    }

    /** Occupies the pool's only thread until {@link #release} opens, so the test queues behind it. */
    private void blockTheThread() throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        pool.execute(() -> {
            started.countDown();
            await(release);
        }, false);
        assertTrue(started.await(10, TimeUnit.SECONDS));
    }

    private Runnable record(String name, CountDownLatch done) {
        return () -> {
            ran.add(name);
            done.countDown();
        };
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void firstReadsOvertakeTheReadsOfRunningTransfersAndKeepTheirOwnOrder() throws InterruptedException {
        blockTheThread();
        CountDownLatch done = new CountDownLatch(6);
        pool.execute(record("next-a", done), false);
        pool.execute(record("next-b", done), false);
        pool.execute(record("first-c", done), true);
        pool.execute(record("next-d", done), false);
        pool.execute(record("first-e", done), true);
        pool.execute(record("first-f", done), true);
        assertEquals(6, pool.queued());

        release.countDown();
        await(done);
        assertEquals(List.of("first-c", "first-e", "first-f", "next-a", "next-b", "next-d"), ran);
        assertEquals(0, pool.queued());
    }

    @Test
    void aFirstReadCountsAsWaitingUntilAThreadTakesIt() throws InterruptedException {
        blockTheThread();
        assertFalse(pool.firstReadsWaiting());
        pool.execute(() -> { }, false);
        assertFalse(pool.firstReadsWaiting(), "a next read is not a first read");
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        boolean[] waitingWhileRunning = new boolean[1];
        pool.execute(() -> {
            waitingWhileRunning[0] = pool.firstReadsWaiting();
            running.countDown();
            await(finish);
        }, true);
        assertTrue(pool.firstReadsWaiting());

        release.countDown();
        await(running);
        assertFalse(waitingWhileRunning[0], "a first read that runs no longer waits");
        assertFalse(pool.firstReadsWaiting());
        finish.countDown();
    }

    @Test
    void theLaneTakesAFirstReadOnlyWhileItsThreadIsIdle() throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        assertTrue(pool.tryLane(() -> {
            running.countDown();
            await(finish);
        }));
        await(running);
        assertFalse(pool.tryLane(() -> ran.add("refused")), "the lane was busy and must refuse");

        finish.countDown();
        CountDownLatch done = new CountDownLatch(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!pool.tryLane(record("taken", done))) { // idle again once its thread waits for the next task
            assertTrue(System.nanoTime() < deadline, "the lane never became idle again");
            Thread.onSpinWait();
        }
        await(done);
        assertEquals(List.of("taken"), ran);
        pool.shutdown();
        assertFalse(pool.tryLane(() -> { }), "a stopped lane takes nothing");
    }

    @Test
    void afterShutdownTheThreadsEndWithinTheWait() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(2);
        assertTrue(pool.tryLane(record("lane", done)));
        pool.execute(record("pool", done), false);
        await(done);
        assertEquals(2, threads.size(), "one pool thread and the lane's");

        pool.shutdown();
        pool.awaitTermination(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        for (Thread thread : threads) {
            assertFalse(thread.isAlive(), thread + " outlived the pool");
        }
    }

    @Test
    void aRejectedFirstReadIsNotCountedAsWaiting() {
        pool.shutdown();
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }, true));
        assertFalse(pool.firstReadsWaiting());
    }
}
