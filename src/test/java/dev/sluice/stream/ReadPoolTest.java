package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The read queue: first reads before the rest, queue order within each rank, the waiting count exact, the lane;
 * and the pool's size: it grows to its bound while reads queue up and wait for the storage, only then, and
 * shrinks back when idle.
 */
class ReadPoolTest {

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final ThreadFactory factory = task -> {
        Thread thread = new Thread(task, "read-pool-test");
        thread.setDaemon(true);
        threads.add(thread);
        return thread;
    };
    private ReadPool pool = new ReadPool(1, factory);
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<String> ran = new CopyOnWriteArrayList<>();

    /** A wall clock that the test moves, and a CPU clock that moves with it only while reads run on a core. */
    private final AtomicLong wall = new AtomicLong();
    private volatile boolean readsWait;
    private final StorageGauge.Clocks clocks = new StorageGauge.Clocks() {
        @Override
        public long wallNanos() {
            return readsWait ? wall.addAndGet(5_000_000) : wall.get(); // a slow read: 5 ms, none of it on a core
        }

        @Override
        public long cpuNanos() {
            return readsWait ? 0 : wall.get();
        }
    };

    @AfterEach
    void stop() {
        release.countDown();
        pool.shutdown();
    }

    /** Occupies one pool thread until {@link #release} opens, so the test queues behind it. */
    private void blockTheThread() throws InterruptedException {
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS));
    }

    /** Queues a task that holds its thread until {@link #release} opens; the latch opens when it has started. */
    private CountDownLatch blockAThread() {
        CountDownLatch started = new CountDownLatch(1);
        pool.execute(() -> {
            started.countDown();
            await(release);
        }, false);
        return started;
    }

    /**
     * Runs {@link StorageGauge#WINDOW} measured reads, as the engine's reads report them, on a pool of one
     * thread held until then: each starts with another still queued, so each is measured.
     */
    private void readThroughTheGauge() throws InterruptedException {
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        pool.execute(() -> {
            started.countDown();
            await(hold);
        }, false);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        CountDownLatch done = new CountDownLatch(StorageGauge.WINDOW + 1);
        for (int i = 0; i <= StorageGauge.WINDOW; i++) {
            pool.execute(() -> {
                StorageGauge.Start start = pool.gauge().start();
                pool.gauge().stop(start);
                done.countDown();
            }, false);
        }
        hold.countDown();
        await(done);
    }

    private ReadPool growingPool(int core, int max, Duration keepAlive) {
        pool.shutdown();
        pool = new ReadPool(core, max, keepAlive, clocks, factory);
        return pool;
    }

    private void awaitThreads(int expected) {
        awaitCount("threads", pool::threads, expected);
    }

    private void awaitBusy(int expected) {
        awaitCount("busy", pool::busy, expected);
    }

    private static void awaitCount(String name, IntSupplier count, int expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count.getAsInt() != expected) {
            assertTrue(System.nanoTime() < deadline, name + ": " + count.getAsInt() + ", expected " + expected);
            Thread.onSpinWait();
        }
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
        AtomicInteger described = new AtomicInteger();
        Runnable refused = new Runnable() {
            @Override
            public void run() {
                ran.add("refused");
            }

            @Override
            public String toString() {
                described.incrementAndGet();
                return "refused";
            }
        };
        assertFalse(pool.tryLane(refused), "the lane was busy and must refuse");
        assertEquals(0, described.get(), "a refusal must not build a message (an exception) for the task");

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

    @Test
    void whileReadsWaitForTheStorageThePoolGrowsToItsBoundAndNoFurther() throws InterruptedException {
        growingPool(1, 3, Duration.ofMinutes(1));
        readsWait = true;
        readThroughTheGauge();
        assertTrue(pool.gauge().storageBound());
        assertEquals(1, threads.size());

        blockTheThread();
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS), "queued behind a busy thread: a second one runs it");
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS), "and a third");
        assertEquals(3, pool.threads());
        CountDownLatch beyond = blockAThread();
        blockAThread();
        assertEquals(3, pool.threads());
        assertEquals(2, pool.queued(), "at the bound, reads wait in the queue");

        release.countDown();
        assertTrue(beyond.await(10, TimeUnit.SECONDS));
        assertEquals(3, threads.size(), "never more threads than the bound: " + threads);
    }

    /**
     * A helper of a running read is queued only when a thread takes it at once: on a pool of two threads that
     * never grows, while one is idle, and never while both are busy (then it is neither queued nor run), as
     * {@link ReadPool#hasFreeThread} says.
     */
    @Test
    void aHelperIsQueuedOnlyWhileAThreadIsFree() throws InterruptedException {
        pool.shutdown();
        pool = new ReadPool(2, factory);
        CountDownLatch first = new CountDownLatch(1);
        assertTrue(pool.executeIfFree(record("helper on an idle pool", first), false));
        await(first);
        blockTheThread();
        awaitBusy(1);
        CountDownLatch second = new CountDownLatch(1);
        assertTrue(pool.executeIfFree(record("helper beside one busy thread", second), false));
        await(second);
        awaitBusy(1); // the helper's thread counts as busy until its task has returned
        assertTrue(pool.hasFreeThread(), "one of two threads busy");
        blockTheThread();
        awaitBusy(2);
        assertFalse(pool.hasFreeThread(), "both threads busy");
        assertFalse(pool.executeIfFree(record("helper with both threads busy", new CountDownLatch(1)), false));
        assertEquals(0, pool.queued(), "a refused helper is not queued");
        release.countDown();
        awaitBusy(0);
        assertTrue(pool.hasFreeThread(), "both threads idle again");
        assertEquals(List.of("helper on an idle pool", "helper beside one busy thread"), ran);
    }

    /** With every thread busy, a helper is taken while reads wait for the storage and the pool may grow: it grows. */
    @Test
    void aHelperGrowsThePoolWhileReadsWaitForTheStorage() throws InterruptedException {
        growingPool(1, 2, Duration.ofMinutes(1));
        readsWait = true;
        readThroughTheGauge();
        assertTrue(pool.gauge().storageBound());
        awaitBusy(0); // else the blocking task below may find the last read's thread busy and grow the pool itself
        blockTheThread();
        assertEquals(1, pool.threads());
        awaitBusy(1);
        CountDownLatch grown = new CountDownLatch(1);
        assertTrue(pool.executeIfFree(record("helper while reads wait for the storage", grown), false));
        await(grown);
        assertEquals(2, pool.threads(), "the pool grew for the helper");
        blockTheThread();
        awaitBusy(2);
        assertFalse(pool.executeIfFree(record("helper at the bound", new CountDownLatch(1)), false));
        assertEquals(List.of("helper while reads wait for the storage"), ran);
    }

    @Test
    void aPoolThatGrewShrinksOnceItsReadsNoLongerWaitForTheStorage() throws InterruptedException {
        growingPool(1, 3, Duration.ofMinutes(1)); // a minute: only the verdict can end a thread within the test
        readsWait = true;
        readThroughTheGauge();
        blockTheThread();
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS));

        // The reads now run on a core. The gauge still says they wait, so a third thread is added to run them, one
        // after the other, each while every thread is busy and others wait: each is measured.
        readsWait = false;
        readThroughTheGauge();
        assertFalse(pool.gauge().storageBound());
        assertEquals(3, pool.threads());

        CountDownLatch next = new CountDownLatch(1);
        pool.execute(next::countDown, false);
        release.countDown();
        await(next);
        awaitThreads(1);
        assertEquals(3, threads.size(), "no thread added: " + threads);
    }

    @Test
    void readsThatRunOnACoreNeverGrowThePool() throws InterruptedException {
        growingPool(1, 3, Duration.ofMinutes(1));
        readsWait = false;
        readThroughTheGauge();
        assertFalse(pool.gauge().storageBound());

        blockTheThread();
        CountDownLatch queued = blockAThread();
        blockAThread();
        assertEquals(2, pool.queued(), "page-cache reads queue for the one thread");
        assertEquals(1, pool.threads());

        release.countDown();
        assertTrue(queued.await(10, TimeUnit.SECONDS));
        assertEquals(1, threads.size(), "no thread added: " + threads);
    }

    @Test
    void aPoolWithoutRoomToGrowNeverMeasures() {
        StorageGauge.Clocks failing = new StorageGauge.Clocks() {
            @Override
            public long wallNanos() {
                throw new AssertionError("measured");
            }

            @Override
            public long cpuNanos() {
                throw new AssertionError("measured");
            }
        };
        pool.shutdown();
        pool = new ReadPool(2, 2, Duration.ofMinutes(1), failing, factory);
        assertEquals(null, pool.gauge().start());
    }

    @Test
    void everyThreadOfAGrowingPoolOpensItsClocksAndClosesThemAsItEnds() throws InterruptedException {
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        StorageGauge.Clocks counting = new StorageGauge.Clocks() {
            @Override
            public long wallNanos() {
                return 0;
            }

            @Override
            public long cpuNanos() {
                return 0;
            }

            @Override
            public void threadStarts() {
                opened.incrementAndGet();
            }

            @Override
            public void threadEnds() {
                closed.incrementAndGet();
            }
        };
        pool.shutdown();
        pool = new ReadPool(2, 4, Duration.ofMinutes(1), counting, factory);
        CountDownLatch done = new CountDownLatch(3);
        pool.execute(done::countDown, false);
        pool.execute(done::countDown, false);
        assertTrue(pool.tryLane(done::countDown), "the lane is idle");
        await(done);
        pool.shutdown();
        pool.awaitTermination(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        assertTrue(threads.size() >= 2, "threads made: " + threads);
        assertEquals(threads.size(), opened.get(), "each thread opened its clocks once");
        assertEquals(opened.get(), closed.get(), "and closed them");
    }

    @Test
    void theThreadsAddedEndWhenIdleAndTheCoreStays() throws InterruptedException {
        growingPool(1, 3, Duration.ofMillis(1));
        readsWait = true;
        readThroughTheGauge();
        blockTheThread();
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS));
        assertTrue(blockAThread().await(10, TimeUnit.SECONDS));
        assertEquals(3, pool.threads());

        release.countDown();
        // Idle first: a thread still busy with its released task would make the read below look like one that
        // waits for a busy pool, and grow it (seen once in ten runs of the whole suite).
        awaitBusy(0);
        awaitThreads(1);
        CountDownLatch done = new CountDownLatch(1);
        pool.execute(done::countDown, false);
        await(done);
        assertEquals(1, pool.threads(), "the core thread took the next read");
    }
}
