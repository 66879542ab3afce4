package dev.sluice.stream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A thread factory that remembers every thread it made until that thread has ended, so that a stop can wait for
 * their very end ({@link #join}): an executor counts as terminated while its last thread is still returning, and
 * Tomcat, which looks for threads a stopped web application left running right after stopping it, warned of
 * "memory leaks" for such threads.
 *
 * <p>A thread is forgotten only once {@link Thread.State#TERMINATED}: one made and not yet started is not alive
 * either, and forgetting it (as an {@code isAlive()} test did, when several threads were made at once) let a stop
 * return while it ran (seen: Tomcat warned of {@code sluice-read-4}, idle in its pool, in 2 of 3 stops).
 *
 * <p>Thread-safe.
 */
public final class JoinableThreads implements ThreadFactory {

    private final ThreadFactory delegate;
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    /** Remembers the threads {@code delegate} makes. */
    public JoinableThreads(ThreadFactory delegate) {
        this.delegate = delegate;
    }

    /** Remembered daemon threads named {@code prefix} and a count: {@code sluice-open-1}, {@code sluice-open-2}... */
    public static JoinableThreads daemon(String prefix) {
        return new JoinableThreads(daemonFactory(prefix));
    }

    /** Daemon threads named as {@link #daemon} names them, for a pool that remembers its threads itself. */
    static ThreadFactory daemonFactory(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public Thread newThread(Runnable task) {
        // Threads that end when idle (a pool's beyond its core) would otherwise fill the set, one per burst.
        threads.removeIf(thread -> thread.getState() == Thread.State.TERMINATED);
        Thread thread = delegate.newThread(task);
        threads.add(thread);
        return thread;
    }

    /**
     * Waits until every thread made so far has ended, or {@code deadlineNanos} ({@link System#nanoTime}) has
     * passed. A thread not started yet does not hold the wait up (it is not alive), and stays remembered, for a
     * later call, in case its executor still starts it.
     *
     * @return whether none is left running
     */
    public boolean join(long deadlineNanos) throws InterruptedException {
        for (Thread thread : threads) {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) {
                TimeUnit.NANOSECONDS.timedJoin(thread, left);
            }
            if (thread.isAlive()) {
                return false;
            }
            if (thread.getState() == Thread.State.TERMINATED) {
                threads.remove(thread);
            }
        }
        return true;
    }

    /** Threads remembered now: those made that have not been seen to end. */
    int remembered() {
        return threads.size();
    }
}
