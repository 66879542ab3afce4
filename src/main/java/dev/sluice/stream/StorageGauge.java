package dev.sluice.stream;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.BooleanSupplier;

/**
 * Tells whether file reads wait for the storage: the {@link ReadPool} adds threads only then.
 *
 * <p>A read measured here is timed twice, by the wall clock and by its thread's CPU clock. The difference is time
 * the thread spent off the CPU: waiting for a disk, a network file system, a FUSE daemon. A read is <em>blocked</em>
 * when it spent more of its time waiting than running (and waited at least {@link #MIN_WAIT_NANOS}): while it
 * waits, its core could run another read, so one more thread would read more. A read from the page cache copies
 * memory and runs all the time it takes: another thread would only share the same cores.
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

        /** The JVM's: {@link System#nanoTime()} and {@link ThreadMXBean#getCurrentThreadCpuTime()}. */
        static Clocks system() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            boolean cpu = threads.isCurrentThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled();
            return new Clocks() {
                @Override
                public long wallNanos() {
                    return System.nanoTime();
                }

                @Override
                public long cpuNanos() {
                    return cpu ? threads.getCurrentThreadCpuTime() : -1;
                }
            };
        }
    }

    /** When a measured read began. */
    record Start(long wallNanos, long cpuNanos) {
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
        return new Start(clocks.wallNanos(), clocks.cpuNanos());
    }

    /** Call after the read that {@link #start} began, on the same thread; {@code null} is ignored. */
    void stop(Start start) {
        if (start == null) {
            return;
        }
        long cpuEnd = clocks.cpuNanos();
        long wall = clocks.wallNanos() - start.wallNanos();
        boolean wasBlocked;
        if (start.cpuNanos() < 0 || cpuEnd < 0) {
            wasBlocked = wall >= SLOW_READ_NANOS;
        } else {
            long cpu = cpuEnd - start.cpuNanos();
            long waited = wall - cpu;
            wasBlocked = waited > cpu && waited >= MIN_WAIT_NANOS;
        }
        record(wasBlocked);
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

    /** Whether at least half of the last {@link #WINDOW} measured reads waited for the storage more than they ran. */
    boolean storageBound() {
        return storageBound;
    }
}
