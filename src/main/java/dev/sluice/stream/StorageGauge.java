package dev.sluice.stream;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * Tells whether file reads wait for the storage: the {@link ReadPool} adds threads only then.
 *
 * <p>A read measured here is timed by the wall clock, by its thread's CPU clock and, where the kernel tells
 * ({@link Clocks#runQueueNanos}), by the time its thread was ready to run but waited for a core. What is left of the
 * wall time is time the thread slept: waiting for a disk, a network file system, a FUSE daemon. A read is
 * <em>blocked</em> when it slept longer than it ran (and at least {@link #MIN_WAIT_NANOS}): while it sleeps, its
 * core could run another read, so one more thread would read more. A read from the page cache copies memory and
 * runs all the time it takes, or waits for a core: another thread would only share the same cores.
 *
 * <p>Why the wait for a core is taken out: on overloaded cores a page-cache read is preempted as often as it runs,
 * and without that time counted apart it looks like a read that waits for the storage. Before it was, and before
 * {@link #readFromMemory}, 2,000 slow clients on 2 busy cores grew the pool from 8 to 64 threads, for nothing (with
 * both: 8). Without the kernel's count (not Linux) the gauge cannot tell the two apart, and {@code maxReadThreads}
 * bounds such growth.
 *
 * <p>Why a vote of the last {@link #WINDOW} reads and not their summed times: on a busy machine a read thread is
 * sometimes preempted in the middle of a page-cache read, and one such read of milliseconds would outweigh dozens
 * of microsecond reads in a sum. It is one vote among {@link #WINDOW}: the verdict needs half of them blocked.
 *
 * <p>Why only some reads are measured: the CPU clock is a system call (a fraction of a microsecond), a real cost
 * beside a 16 KiB read from the page cache. The verdict is only asked when reads wait in the queue and the pool
 * could still grow, so only then are reads measured ({@code worthMeasuring}).
 *
 * <p>Thread-safe: the read threads record, any thread asks.
 */
final class StorageGauge {

    /** Reads per verdict. */
    static final int WINDOW = 16;

    /**
     * The least time off the CPU that makes a read blocked: shorter waits (a lock, a scheduler hiccup) say nothing
     * about the storage. An NVMe read waits about 80 microseconds, a network file system's milliseconds.
     */
    static final long MIN_WAIT_NANOS = 20_000;

    /** Without a CPU clock, a read is blocked when it takes at least this long: a page-cache read takes microseconds. */
    static final long SLOW_READ_NANOS = 1_000_000;

    /** The clocks of the current thread; tests give fake ones. */
    interface Clocks {
        long wallNanos();

        /** CPU time of the current thread, or -1 when the platform has no such clock. */
        long cpuNanos();

        /**
         * Time the current thread has spent ready to run but waiting for a core, summed since some fixed point, or
         * -1 when the platform does not tell.
         */
        default long runQueueNanos() {
            return -1;
        }

        /** Called on each read thread before its first task: the JVM's clocks open the thread's own counters. */
        default void threadStarts() {
        }

        /** Called on each read thread after its last task: the JVM's clocks close what {@link #threadStarts} opened. */
        default void threadEnds() {
        }

        /**
         * The JVM's: {@link System#nanoTime()}, {@link ThreadMXBean#getCurrentThreadCpuTime()} and, on Linux, the
         * run-queue time that {@code /proc/thread-self/schedstat} gives (its second field), read only on threads
         * that called {@link #threadStarts}.
         */
        static Clocks system() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            boolean cpu = threads.isCurrentThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled();
            return new SystemClocks(cpu ? threads : null, SystemClocks.SCHEDSTAT);
        }
    }

    /**
     * The JVM's clocks, and the kernel's count of the time a thread waited for a core.
     *
     * <p>Why a file kept open per thread: {@code /proc/thread-self} names the thread that opens it, and a read of
     * the open file at offset 0 gives that thread's counters as of now, for about 2 microseconds here (an open each
     * time would triple it). Only threads that said {@link #threadStarts} have one, so that no thread the engine
     * does not end keeps a file open.
     */
    static final class SystemClocks implements Clocks {

        static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");

        private final ThreadMXBean threads;
        private final Path schedstat;
        private final ThreadLocal<SchedStat> own = new ThreadLocal<>();

        SystemClocks(ThreadMXBean threads, Path schedstat) {
            this.threads = threads;
            this.schedstat = schedstat;
        }

        @Override
        public long wallNanos() {
            return System.nanoTime();
        }

        @Override
        public long cpuNanos() {
            return threads == null ? -1 : threads.getCurrentThreadCpuTime();
        }

        @Override
        public long runQueueNanos() {
            SchedStat stat = own.get();
            return stat == null ? -1 : stat.runQueueNanos();
        }

        @Override
        public void threadStarts() {
            try {
                own.set(new SchedStat(FileChannel.open(schedstat)));
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                // not Linux, or no /proc: the gauge counts a wait for a core as a wait, as without this
            }
        }

        @Override
        public void threadEnds() {
            SchedStat stat = own.get();
            own.remove();
            if (stat != null) {
                stat.close();
            }
        }
    }

    /** One thread's open {@code schedstat}: "CPU time, run-queue time, time slices", in nanoseconds. */
    private static final class SchedStat {
        private final FileChannel file;
        private final ByteBuffer text = ByteBuffer.allocate(96);

        SchedStat(FileChannel file) {
            this.file = file;
        }

        /** The second number of the file, or -1 when it cannot be read. */
        long runQueueNanos() {
            text.clear();
            try {
                file.read(text, 0);
            } catch (IOException e) {
                return -1;
            }
            int at = 0;
            int end = text.position();
            while (at < end && text.get(at) != ' ') {
                at++;
            }
            at++;
            long value = 0;
            boolean digits = false;
            for (; at < end; at++) {
                byte c = text.get(at);
                if (c < '0' || c > '9') {
                    break;
                }
                value = value * 10 + (c - '0');
                digits = true;
            }
            return digits ? value : -1;
        }

        void close() {
            try {
                file.close();
            } catch (IOException e) {
                // read-only: nothing to lose
            }
        }
    }

    /** When a measured read began. */
    record Start(long wallNanos, long cpuNanos, long runQueueNanos) {
    }

    /** A gauge that measures nothing and never says the storage is slow: for engines without a read pool. */
    static final StorageGauge OFF = new StorageGauge(null, () -> false);

    private final Clocks clocks;
    private final BooleanSupplier worthMeasuring;
    private int reads;
    private int blocked;
    private volatile boolean storageBound;

    /**
     * @param worthMeasuring whether a read starting now should be measured: only when the verdict may be asked
     */
    StorageGauge(Clocks clocks, BooleanSupplier worthMeasuring) {
        this.clocks = clocks;
        this.worthMeasuring = worthMeasuring;
    }

    /** Call before a read: its start, or {@code null} when it need not be measured. */
    Start start() {
        if (clocks == null || !worthMeasuring.getAsBoolean()) {
            return null;
        }
        return new Start(clocks.wallNanos(), clocks.cpuNanos(), clocks.runQueueNanos());
    }

    /** Call after the read that {@link #start} began, on the same thread; {@code null} is ignored. */
    void stop(Start start) {
        if (start == null) {
            return;
        }
        long runQueueEnd = clocks.runQueueNanos();
        long cpuEnd = clocks.cpuNanos();
        long wall = clocks.wallNanos() - start.wallNanos();
        long runQueue = start.runQueueNanos() < 0 || runQueueEnd < 0 ? 0 : runQueueEnd - start.runQueueNanos();
        boolean wasBlocked;
        if (start.cpuNanos() < 0 || cpuEnd < 0) {
            wasBlocked = wall - runQueue >= SLOW_READ_NANOS;
        } else {
            long cpu = cpuEnd - start.cpuNanos();
            long slept = wall - cpu - runQueue;
            wasBlocked = slept > cpu && slept >= MIN_WAIT_NANOS;
        }
        record(wasBlocked);
    }

    /**
     * Call after a read that found every byte it needed in memory (a mapped span that was resident): when reads are
     * worth measuring, it votes "not blocked", untimed.
     *
     * <p>Why not by its time: such a read waits only for locks (the cache of mapped windows, the kernel's lock on
     * the process's mappings) and for cores, and those waits grow with the threads: measured with 100 clients of a
     * cached 1 GiB file and {@code maxReadThreads} 64, a resident span's read now and then slept 10 to 60 ms in
     * them, voted blocked, and the pool grew to 64 threads for no more bytes. Untimed, it reads no clock either.
     */
    void readFromMemory() {
        if (clocks != null && worthMeasuring.getAsBoolean()) {
            record(false);
        }
    }

    private synchronized void record(boolean wasBlocked) {
        reads++;
        if (wasBlocked) {
            blocked++;
        }
        if (reads == WINDOW) {
            storageBound = blocked * 2 >= WINDOW;
            reads = 0;
            blocked = 0;
        }
    }

    /** Whether at least half of the last {@link #WINDOW} measured reads slept (waited for the storage) longer than they ran. */
    boolean storageBound() {
        return storageBound;
    }
}
