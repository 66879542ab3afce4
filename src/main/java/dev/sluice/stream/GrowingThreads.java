package dev.sluice.stream;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An executor that adds a thread only when a task finds none idle, up to {@code maxThreads}, and then queues tasks
 * up to {@code queueCapacity}; a thread ends after {@code keepAlive} without a task. Beyond both, {@link #execute}
 * throws {@link RejectedExecutionException}, as it does once shut down.
 *
 * <p>Why not a {@link ThreadPoolExecutor} of {@code maxThreads} core threads: that one starts a new thread for every
 * task until it has them all, even when each task ends before the next comes, and keeps them while tasks keep
 * coming. Measured with the open threads bounded at 64 (the default {@code maxReadThreads}) on cached files of 1 to 8
 * MiB: 64 threads made where fewer than ten ran at once. Nor one with a bounded queue and fewer core threads: it
 * adds threads only once the queue is full. Tomcat's {@code TaskQueue} does what this does.
 *
 * <p>A task counts as taking an idle thread from the moment a thread is seen idle: a thread that has just taken
 * another task from the queue, and not yet begun it, looks idle for that moment, and a task queued then waits for
 * the next thread to end its task, or for the next task, which adds the thread it finds missing.
 */
public final class GrowingThreads extends ThreadPoolExecutor {

    private final AtomicInteger busy = new AtomicInteger();

    public GrowingThreads(int maxThreads, int queueCapacity, Duration keepAlive, ThreadFactory threadFactory) {
        super(0, maxThreads, keepAlive.toNanos(), TimeUnit.NANOSECONDS, new DemandQueue(queueCapacity), threadFactory,
                GrowingThreads::queueOrRefuse);
        ((DemandQueue) getQueue()).pool = this;
    }

    @Override
    protected void beforeExecute(Thread thread, Runnable task) {
        busy.incrementAndGet();
    }

    @Override
    protected void afterExecute(Runnable task, Throwable failure) {
        busy.decrementAndGet();
    }

    /**
     * What the executor does with a task when the queue refused it and no thread could be added: the bound was
     * reached meanwhile, by another caller, so it is queued after all, if there is room.
     */
    private static void queueOrRefuse(Runnable task, ThreadPoolExecutor executor) {
        if (executor.isShutdown() || !((DemandQueue) executor.getQueue()).queue(task)) {
            throw new RejectedExecutionException(executor.isShutdown() ? "shut down" : "every thread busy, queue full");
        }
    }

    /** Refuses a task while no thread is idle for it and one may be added: then the executor adds one. */
    private static final class DemandQueue extends LinkedBlockingQueue<Runnable> {
        private GrowingThreads pool; // set once, before the first task

        DemandQueue(int capacity) {
            super(capacity);
        }

        /** Refused when the pool may grow and fewer threads idle than tasks waiting: this one would find none. */
        @Override
        public boolean offer(Runnable task) {
            int threads = pool.getPoolSize(); // takes the executor's lock: read once
            if (threads < pool.getMaximumPoolSize() && pool.busy.get() + size() >= threads) {
                return false;
            }
            return super.offer(task);
        }

        boolean queue(Runnable task) {
            return super.offer(task);
        }
    }
}
