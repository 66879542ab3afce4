package dev.sluice.stream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's file-read threads. Their queue is not first-in first-out: the first read of a transfer goes
 * before the reads of transfers already under way, and tasks of equal rank keep their order. One more thread,
 * the first-read lane, runs only first reads, and only when it is idle: it is woken for the read at once,
 * instead of the read waiting for a pool thread to finish its task.
 *
 * <p>Why: a transfer that has started sends its next chunk to a socket that already holds up to a few MiB, so
 * a read that waits a few milliseconds in the queue costs its client nothing. A new request has sent nothing
 * yet: every task queued ahead of its first read is waited for by the client, and a small file is a single
 * read. Under a load of big downloads the queue is never empty, and in FIFO order a 4 KiB response queued
 * behind every big transfer's next chunk (measured: small-file p99 dominated by time in this queue). Ahead of
 * the queue is not enough when every pool thread is busy: a transfer's writes run on the thread whose read
 * completed, so under load all of them run write loops, time-sliced on the cores, and the first read waits for
 * one of those to end. A thread that sleeps until a first read comes is scheduled as soon as it is woken.
 */
final class ReadPool {

    private final ThreadPoolExecutor executor;
    private final ThreadPoolExecutor lane;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicInteger firstReadsQueued = new AtomicInteger();

    /** Every thread the pool made that may still run: {@link #awaitTermination} waits for their very end. */
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    ReadPool(int poolThreads, ThreadFactory threadFactory) {
        ThreadFactory tracked = task -> {
            Thread thread = threadFactory.newThread(task);
            threads.add(thread);
            return thread;
        };
        this.executor = new ThreadPoolExecutor(poolThreads, poolThreads, 60, TimeUnit.SECONDS,
                new PriorityBlockingQueue<>(), tracked);
        // No queue: a hand-off succeeds only while the lane's thread waits for work, else execute() rejects.
        this.lane = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), tracked);
    }

    /**
     * Runs the first read {@code task} on the first-read lane if its thread is idle.
     *
     * @return false when the lane is busy or shut down: then the caller queues the read with {@link #execute}
     */
    boolean tryLane(Runnable task) {
        try {
            lane.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /**
     * Queues {@code task}, ahead of every task that is not a first read when {@code firstRead}.
     *
     * @throws RejectedExecutionException once the pool is shut down
     */
    void execute(Runnable task, boolean firstRead) {
        if (firstRead) {
            firstReadsQueued.incrementAndGet();
        }
        try {
            executor.execute(new Queued(task, firstRead, sequence.getAndIncrement(), this));
        } catch (RejectedExecutionException e) {
            if (firstRead) {
                firstReadsQueued.decrementAndGet();
            }
            throw e;
        }
    }

    /** Whether a first read waits for a thread: then a read thread should not keep itself busy with chained work. */
    boolean firstReadsWaiting() {
        return firstReadsQueued.get() > 0;
    }

    /** Tasks waiting for a thread. */
    int queued() {
        return executor.getQueue().size();
    }

    void shutdown() {
        executor.shutdown();
        lane.shutdown();
    }

    /**
     * Waits until every thread of the pool has ended, or {@code deadlineNanos} ({@link System#nanoTime}) has
     * passed. The threads are joined rather than the executors awaited: an executor counts as terminated while its
     * last thread is still returning.
     */
    void awaitTermination(long deadlineNanos) throws InterruptedException {
        for (Thread thread : threads) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return;
            }
            TimeUnit.NANOSECONDS.timedJoin(thread, left);
            if (!thread.isAlive()) {
                threads.remove(thread);
            }
        }
    }

    /** A queued task: first reads first, then in the order they were queued. */
    private record Queued(Runnable task, boolean firstRead, long sequence, ReadPool pool)
            implements Runnable, Comparable<Queued> {

        @Override
        public void run() {
            if (firstRead) {
                pool.firstReadsQueued.decrementAndGet();
            }
            task.run();
        }

        @Override
        public int compareTo(Queued other) {
            if (firstRead != other.firstRead) {
                return firstRead ? -1 : 1;
            }
            return Long.compare(sequence, other.sequence);
        }
    }
}
