package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JoinableThreadsTest {

    private static final Thread.UncaughtExceptionHandler QUIET = (thread, e) -> { };

    @Test
    void aThreadMadeButNotYetStartedWhenTheNextIsMadeIsStillWaitedFor() throws Exception {
        JoinableThreads threads = new JoinableThreads(Thread::new);
        CountDownLatch release = new CountDownLatch(1);
        Thread first = threads.newThread(() -> await(release));
        Thread second = threads.newThread(() -> { }); // as a pool makes several at once: first is not alive yet
        first.start();
        second.start();
        try {
            assertFalse(threads.join(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50)),
                    "the first thread still runs");
            assertTrue(first.isAlive());
        } finally {
            release.countDown();
        }
        assertTrue(threads.join(System.nanoTime() + Duration.ofSeconds(10).toNanos()));
        assertFalse(first.isAlive());
    }

    @Test
    void aThreadThatNeverStartsDoesNotHoldTheStopUpAndEndedOnesAreForgotten() throws Exception {
        JoinableThreads threads = new JoinableThreads(Thread::new);
        threads.newThread(() -> { }); // refused by its executor after being made: never started
        Thread ran = threads.newThread(() -> { });
        ran.setUncaughtExceptionHandler(QUIET);
        ran.start();
        ran.join();
        assertTrue(threads.join(System.nanoTime()), "nothing runs, whatever the deadline");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
