package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void endedThreadsAreForgottenWhenTheNextIsMadeAndOnesNotYetStartedAreNot() throws Exception {
        JoinableThreads threads = new JoinableThreads(Thread::new);
        Thread ran = threads.newThread(() -> { });
        ran.setUncaughtExceptionHandler(QUIET);
        ran.start();
        ran.join();
        Thread notStarted = threads.newThread(() -> { }); // forgets the one that ended
        threads.newThread(() -> { }); // keeps notStarted: not alive, but not ended either
        assertEquals(2, threads.remembered());
        assertTrue(threads.join(System.nanoTime()), "nothing runs");
        assertEquals(Thread.State.NEW, notStarted.getState());
        assertEquals(2, threads.remembered(), "threads not started yet stay remembered, in case they start");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
