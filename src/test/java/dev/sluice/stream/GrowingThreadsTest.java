package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Threads added only for tasks that find none idle, up to the bound; then a bounded queue; then a refusal. */
class GrowingThreadsTest {

    private final JoinableThreads made = JoinableThreads.daemon("growing-test-");
    private final GrowingThreads pool = new GrowingThreads(3, 2, Duration.ofMinutes(1), made);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs a task that holds its thread until {@link #release}; returns once it runs. */
    private void holdAThread() {
        CountDownLatch started = new CountDownLatch(1);
        pool.execute(() -> {
            started.countDown();
            await(release);
        });
        await(started);
    }

    /** Waits until {@code tasks} run: a thread counts as busy until its task's end is recorded, after the task. */
    private void awaitRunning(int tasks) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.getActiveCount() != tasks) {
            assertTrue(System.nanoTime() < deadline, "tasks running: " + pool.getActiveCount() + ", expected " + tasks);
            Thread.onSpinWait();
        }
    }

    @Test
    void tasksOneAfterTheOtherNeedOneThread() {
        for (int i = 0; i < 20; i++) {
            CountDownLatch done = new CountDownLatch(1);
            pool.execute(done::countDown);
            await(done);
            awaitRunning(0);
        }
        assertEquals(1, pool.getLargestPoolSize(), "threads made");
    }

    @Test
    void aTaskThatFindsEveryThreadBusyGetsANewOneUpToTheBoundThenWaitsThenIsRefused() {
        holdAThread();
        holdAThread();
        holdAThread();
        assertEquals(3, pool.getPoolSize());
        CountDownLatch queued = new CountDownLatch(2);
        pool.execute(queued::countDown);
        pool.execute(queued::countDown);
        assertEquals(2, pool.getQueue().size(), "at the bound, tasks wait");
        assertEquals(3, pool.getPoolSize());
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }), "queue full");

        release.countDown();
        await(queued);
        assertEquals(3, pool.getLargestPoolSize(), "never more threads than the bound");
    }

    @Test
    void anIdleThreadTakesTheNextTaskRatherThanANewOne() {
        holdAThread();
        CountDownLatch done = new CountDownLatch(1);
        pool.execute(done::countDown); // the one thread is busy: a second is made
        await(done);
        awaitRunning(1);
        assertEquals(2, pool.getPoolSize());
        CountDownLatch again = new CountDownLatch(1);
        pool.execute(again::countDown); // the second is idle: it takes this one
        await(again);
        assertEquals(2, pool.getLargestPoolSize());
    }

    @Test
    void afterShutdownATaskIsRefused() {
        pool.shutdown();
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }));
    }
}
