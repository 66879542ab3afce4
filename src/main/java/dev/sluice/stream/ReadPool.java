package dev.sluice.stream;

import java.time.Duration;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

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
 *
 * <h2>How many threads: as many as the storage rewards, within a bound</h2>
 * The pool keeps {@code readThreads} threads and grows up to {@code maxReadThreads} while both hold: reads wait in
 * the queue with every thread busy, and the {@link StorageGauge} says the reads wait for the storage rather than
 * run on a core. A thread added ends after {@link #KEEP_ALIVE} without a task, or after its task once the gauge
 * no longer says so.
 *
 * <p>Why: a read from the page cache runs on a core all the time it takes, so on two cores a ninth thread only
 * time-slices with the other eight (measured: 1, 2 and 8 threads alike on cached files), and each thread more
 * runs write loops too (see above), which costs a new request's first read. A read from slow storage (a network
 * file system, a FUSE mount of an object store, a cold disk) waits: with 5 ms per read, eight threads cap every
 * download together at eight reads per 5 ms whatever the storage could give (measured: 20 MB/s where the
 * blocking servers' 200 threads reached 187). By Little's law a pool keeps up when it has as many threads as
 * reads arrive per second times the time a read takes; the pool does not compute that product from noisy
 * latencies but reaches it from below, one thread per queued read while the queue grows, and falls back to it
 * from above as the threads it does not need stay idle and end. The bound is what the storage may be asked at
 * once and what the machine gives up for it: each thread is a stack (reserved, mostly not committed) and a task
 * of the scheduler, and a storage that is slow for every read (overloaded, not latent) gets no faster with more.
 * Jetty's and Tomcat's pools grow the same way to 200 threads, but for every request; this pool only for reads
 * that wait.
 *
 * <p>Why threads end when the verdict turns, not only when idle: a pool that grew stays busy as long as the load
 * lasts, so without it a pool that grew once never shrank. Measured on a cold disk that reads at 1 to 2 GB/s (its
 * host's cache): the first reads of a cold start wait for the disk, the pool grew to 64 threads, and then, with the
 * reads no longer waiting and two cores busy, 400 clients got a fifth fewer bytes than with 8 threads. So reads are
 * also measured after the pool grew, and the bound falls back to {@code readThreads} while the verdict says the
 * reads do not wait; the threads beyond it end as they take their next task.
 */
final class ReadPool {

    private static final Logger LOG = Logger.getLogger(ReadPool.class.getName());

    /** How long a thread beyond {@code readThreads} stays without a task before it ends. */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(30);

    /**
     * What {@link #execute} hands the executor to make it add a thread: the queue refuses it, so the executor
     * starts a thread beyond its core size for it (or drops it at the bound), and that thread then takes the
     * queue's first task. The queued task itself never skips the queue's order.
     */
    private static final Runnable GROW = () -> { };

    private final ThreadPoolExecutor executor;
    private final ThreadPoolExecutor lane;
    private final int maxThreads;
    private final StorageGauge gauge;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicInteger firstReadsQueued = new AtomicInteger();
    /** Tasks queued and not yet taken by a thread. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Pool threads (not the lane's) running a task. */
    private final AtomicInteger busy = new AtomicInteger();
    /** Pool threads (not the lane's) alive. */
    private final AtomicInteger live = new AtomicInteger();

    /** Every thread the pool made that may still run: {@link #awaitTermination} waits for their very end. */
    private final JoinableThreads threads;

    /** A pool of {@code poolThreads} threads that never grows. */
    ReadPool(int poolThreads, ThreadFactory threadFactory) {
        this(poolThreads, poolThreads, KEEP_ALIVE, null, threadFactory);
    }

    /**
     * A pool of {@code coreThreads} that grows up to {@code maxThreads} while reads wait in the queue and are
     * blocked on the storage, as measured with {@code clocks}; {@code null} clocks: it never grows.
     */
    ReadPool(int coreThreads, int maxThreads, Duration keepAlive, StorageGauge.Clocks clocks,
            ThreadFactory threadFactory) {
        if (maxThreads < coreThreads) {
            throw new IllegalArgumentException("maxThreads " + maxThreads + " below coreThreads " + coreThreads);
        }
        boolean measured = clocks != null && maxThreads != coreThreads;
        // Every thread that reads (the lane's too) opens its own counters for the gauge, and closes them as it ends.
        ThreadFactory clocked = !measured ? threadFactory : task -> threadFactory.newThread(() -> {
            clocks.threadStarts();
            try {
                task.run();
            } finally {
                clocks.threadEnds();
            }
        });
        JoinableThreads tracked = new JoinableThreads(clocked);
        this.threads = tracked;
        ThreadFactory counted = task -> tracked.newThread(() -> {
            live.incrementAndGet();
            try {
                task.run();
            } finally {
                live.decrementAndGet();
            }
        });
        this.maxThreads = maxThreads;
        this.gauge = measured ? new StorageGauge(clocks, this::readsWaitForThreads) : StorageGauge.OFF;
        this.executor = new ThreadPoolExecutor(coreThreads, maxThreads, keepAlive.toNanos(), TimeUnit.NANOSECONDS,
                new Queue(), counted, (task, executor) -> {
                    if (task != GROW) { // GROW at the bound: enough threads
                        throw new RejectedExecutionException("read pool stopped");
                    }
                });
        // No queue: a hand-off succeeds only while the lane's thread waits for work, else execute() refuses it.
        this.lane = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), tracked,
                (task, executor) -> ((LaneTask) task).refused = true);
    }

    /** The gauge the reads of this pool report to. */
    StorageGauge gauge() {
        return gauge;
    }

    /**
     * Runs the first read {@code task} on the first-read lane if its thread is idle.
     *
     * @return false when the lane is busy or shut down: then the caller queues the read with {@link #execute}
     */
    boolean tryLane(Runnable task) {
        LaneTask handOff = new LaneTask(task);
        lane.execute(handOff);
        return !handOff.refused;
    }

    /**
     * A first read offered to the lane, which marks it refused instead of throwing.
     *
     * <p>Why: under load the lane is usually busy, so most offers are refused, one per new transfer. The
     * executor's default refusal builds a {@link RejectedExecutionException} with a stack trace and a message
     * made of the task's and the executor's {@code toString} (the latter takes the executor's lock): measured at
     * about 1% of the server's CPU with 100 clients fetching 1 to 8 MiB files. The handler runs in the
     * caller's thread, inside {@code execute}, so the flag needs no synchronization.
     */
    private static final class LaneTask implements Runnable {
        private final Runnable task;
        private boolean refused;

        LaneTask(Runnable task) {
            this.task = task;
        }

        @Override
        public void run() {
            task.run();
        }
    }

    /**
     * Queues {@code task}, ahead of every task that is not a first read when {@code firstRead}. When this throws,
     * the task was not queued; once it returns, the task is queued, even if adding a thread for it failed.
     *
     * @throws RejectedExecutionException once the pool is shut down; an {@link Error} when the executor could not
     *         start a core thread for the task
     */
    void execute(Runnable task, boolean firstRead) {
        if (firstRead) {
            firstReadsQueued.incrementAndGet();
        }
        waiting.incrementAndGet();
        try {
            executor.execute(new Queued(task, firstRead, sequence.getAndIncrement(), this));
        } catch (RuntimeException | Error e) { // counted as waiting, never queued: the counts must not keep it
            if (firstRead) {
                firstReadsQueued.decrementAndGet();
            }
            waiting.decrementAndGet();
            throw e;
        }
        boolean storageBound = gauge.storageBound();
        if (gauge != StorageGauge.OFF) {
            fitToStorage(storageBound);
        }
        if (storageBound && mayGrow()) {
            try {
                executor.execute(GROW);
            } catch (RuntimeException | Error e) {
                // A thread more is a wish: the task is queued, and the threads there are will take it.
                LOG.log(Level.FINE, "read pool could not add a thread", e);
            }
        }
    }

    /**
     * Queues {@code task} as {@link #execute} does, but only when a thread will take it at once: fewer tasks wait
     * and run than there are threads (or core threads, started or not), or, while reads wait for the storage,
     * than the pool may grow to. The tasks waiting are counted, not the threads started (a thread added for one
     * starts a moment later), so offers made one after the other never claim the same thread twice. Counted
     * without a lock, so two callers at once may both see the same free thread; the cost of that is one task
     * that waits a little.
     *
     * @return whether the task was queued
     * @throws RejectedExecutionException once the pool is shut down
     */
    boolean executeIfFree(Runnable task, boolean firstRead) {
        boolean free = hasFreeThread();
        if (free) {
            execute(task, firstRead);
        }
        return free;
    }

    /**
     * Whether a task queued now would be taken at once: a thread is idle, or the pool may still grow because
     * reads wait for the storage. Counted without a lock, as in {@link #executeIfFree}.
     */
    boolean hasFreeThread() {
        int threads = live.get();
        // Core threads start with the first tasks, not with the pool: one not started yet is free too.
        int claimed = busy.get() + waiting.get();
        return claimed < Math.max(threads, executor.getCorePoolSize())
                || (claimed < maxThreads && gauge.storageBound());
    }

    /**
     * Sets the executor's bound: {@code maxThreads} while the reads wait for the storage, else the core size, so
     * that threads beyond it end as they take their next task. Only on a change: the executor takes its lock.
     */
    private void fitToStorage(boolean storageBound) {
        int most = storageBound ? maxThreads : executor.getCorePoolSize();
        if (executor.getMaximumPoolSize() != most) { // two callers at once: the later wins, the next read fixes it
            executor.setMaximumPoolSize(most);
        }
    }

    /**
     * Whether reads wait for a thread with every thread busy: then the gauge measures them, to tell whether a
     * thread more would read more, or, once the pool grew, whether it still would.
     */
    private boolean readsWaitForThreads() {
        return waiting.get() > 0 && busy.get() >= live.get();
    }

    /**
     * Whether a thread more would take a task now: one waits, no thread is free to take it, and the bound is not
     * reached. Counted without the executor's lock, so two callers may both see room for the same thread; the
     * executor's {@code maximumPoolSize} is what holds the bound.
     */
    private boolean mayGrow() {
        int threads = live.get();
        return waiting.get() > 0 && busy.get() >= threads && threads < maxThreads;
    }

    /** Threads of the pool alive now, not counting the first-read lane's. */
    int threads() {
        return live.get();
    }

    /** Pool threads (not the lane's) running a task now. */
    int busy() {
        return busy.get();
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
        threads.join(deadlineNanos);
    }

    /** A queued task: first reads first, then in the order they were queued. */
    private record Queued(Runnable task, boolean firstRead, long sequence, ReadPool pool)
            implements Runnable, Comparable<Queued> {

        @Override
        public void run() {
            if (firstRead) {
                pool.firstReadsQueued.decrementAndGet();
            }
            pool.busy.incrementAndGet();
            pool.waiting.decrementAndGet();
            try {
                task.run();
            } finally {
                pool.busy.decrementAndGet();
            }
        }

        @Override
        public int compareTo(Queued other) {
            if (firstRead != other.firstRead) {
                return firstRead ? -1 : 1;
            }
            return Long.compare(sequence, other.sequence);
        }
    }

    /** The pool's queue: ordered by {@link Queued}, and refusing {@link #GROW}, which makes the executor add a thread. */
    private static final class Queue extends PriorityBlockingQueue<Runnable> {

        @Override
        public boolean offer(Runnable task) {
            return task != GROW && super.offer(task);
        }
    }
}
