package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The JVM's clocks as the storage gauge reads them, with the kernel's count of time spent waiting for a core. */
class SystemClocksTest {

    private final StorageGauge.Clocks clocks = StorageGauge.Clocks.system();

    private static void assumeLinuxSchedstat() {
        assumeTrue(Files.isReadable(StorageGauge.SystemClocks.SCHEDSTAT), "no /proc/thread-self/schedstat here");
    }

    /** Runs {@code reads} on a thread of its own that has opened its counters, as a read thread of the pool has. */
    private void onAReadThread(Runnable reads) throws Exception {
        CompletableFuture.runAsync(() -> {
            clocks.threadStarts();
            try {
                reads.run();
            } finally {
                clocks.threadEnds();
            }
        }).get(60, TimeUnit.SECONDS);
    }

    @Test
    void onlyAThreadThatStartedReadsItsRunQueueTimeAndItsEndClosesIt() throws Exception {
        assumeLinuxSchedstat();
        CompletableFuture.runAsync(() -> {
            assertEquals(-1, clocks.runQueueNanos(), "not started");
            clocks.threadStarts();
            assertTrue(clocks.runQueueNanos() >= 0);
            clocks.threadEnds();
            assertEquals(-1, clocks.runQueueNanos(), "ended");
        }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void withoutTheKernelsCountAThreadStartsAndHasNone() throws Exception {
        StorageGauge.Clocks none = new StorageGauge.SystemClocks(null, Path.of("/nonexistent/schedstat"));
        CompletableFuture.runAsync(() -> {
            none.threadStarts();
            assertEquals(-1, none.runQueueNanos());
            assertEquals(-1, none.cpuNanos());
            none.threadEnds();
        }).get(10, TimeUnit.SECONDS);
    }

    /**
     * Page-cache reads on cores overloaded by other threads take several times their CPU time, and the gauge must
     * not take that for the storage; reads that sleep as a slow storage makes them must still count.
     */
    @Test
    void onOverloadedCoresAReadThatRunsIsNotBlockedAndAReadThatSleepsIs() throws Exception {
        assumeLinuxSchedstat();
        AtomicBoolean spin = new AtomicBoolean(true);
        List<Thread> spinners = new ArrayList<>();
        for (int i = 0; i < 4 * Runtime.getRuntime().availableProcessors(); i++) {
            Thread spinner = new Thread(() -> {
                while (spin.get()) {
                    Thread.onSpinWait();
                }
            }, "spinner-" + i);
            spinner.setDaemon(true);
            spinner.start();
            spinners.add(spinner);
        }
        StorageGauge gauge = new StorageGauge(clocks, () -> true);
        long[] spent = new long[3]; // wall, CPU, run queue: of the running reads together
        try {
            onAReadThread(() -> {
                for (int i = 0; i < StorageGauge.WINDOW; i++) {
                    long wall = clocks.wallNanos();
                    long cpu = clocks.cpuNanos();
                    long runQueue = clocks.runQueueNanos();
                    StorageGauge.Start start = gauge.start();
                    while (clocks.cpuNanos() - cpu < 2_000_000) { // a read that copies memory for 2 ms
                        Thread.onSpinWait();
                    }
                    gauge.stop(start);
                    spent[0] += clocks.wallNanos() - wall;
                    spent[1] += clocks.cpuNanos() - cpu;
                    spent[2] += clocks.runQueueNanos() - runQueue;
                }
            });
        } finally {
            spin.set(false);
            for (Thread spinner : spinners) {
                spinner.join(TimeUnit.SECONDS.toMillis(10));
            }
        }
        assertTrue(spent[0] - spent[1] > spent[1], "the cores were overloaded (without the run queue the reads"
                + " would look blocked): wall " + spent[0] + " ns, CPU " + spent[1] + " ns");
        assertTrue(spent[2] > spent[1], "run queue " + spent[2] + " ns, CPU " + spent[1] + " ns");
        assertFalse(gauge.storageBound(), "reads that waited for a core");

        onAReadThread(() -> {
            for (int i = 0; i < StorageGauge.WINDOW; i++) {
                StorageGauge.Start start = gauge.start();
                long until = System.nanoTime() + 5_000_000; // a read that waits 5 ms for the storage
                while (System.nanoTime() < until) {
                    LockSupport.parkNanos(until - System.nanoTime());
                }
                gauge.stop(start);
            }
        });
        assertTrue(gauge.storageBound(), "reads that slept");
    }
}
