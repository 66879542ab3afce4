package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The verdict: half of the last reads measured waited off the CPU more than they ran, and only those measured. */
class StorageGaugeTest {

    /** Clocks that a read moves by hand: {@code wall}, {@code cpu} and {@code runQueue} are the next readings. */
    private static final class HandClocks implements StorageGauge.Clocks {
        long wall;
        long cpu;
        long runQueue;

        @Override
        public long wallNanos() {
            return wall;
        }

        @Override
        public long cpuNanos() {
            return cpu;
        }

        @Override
        public long runQueueNanos() {
            return runQueue;
        }
    }

    private final HandClocks clocks = new HandClocks();
    private boolean worthMeasuring = true;
    private final StorageGauge gauge = new StorageGauge(clocks, () -> worthMeasuring);

    private void read(long wallNanos, long cpuNanos) {
        StorageGauge.Start start = gauge.start();
        clocks.wall += wallNanos;
        clocks.cpu += cpuNanos;
        gauge.stop(start);
    }

    private void reads(int count, long wallNanos, long cpuNanos) {
        for (int i = 0; i < count; i++) {
            read(wallNanos, cpuNanos);
        }
    }

    /** Reads that took {@code wallNanos}, of which {@code cpuNanos} on a core and {@code runQueueNanos} waiting for one. */
    private void reads(int count, long wallNanos, long cpuNanos, long runQueueNanos) {
        for (int i = 0; i < count; i++) {
            StorageGauge.Start start = gauge.start();
            clocks.wall += wallNanos;
            clocks.cpu += cpuNanos;
            clocks.runQueue += runQueueNanos;
            gauge.stop(start);
        }
    }

    @Test
    void halfTheWindowBlockedMakesTheVerdict() {
        reads(StorageGauge.WINDOW / 2 - 1, 5_000_000, 30_000);
        reads(StorageGauge.WINDOW / 2 + 1, 30_000, 30_000);
        assertFalse(gauge.storageBound(), "one vote short");
        reads(StorageGauge.WINDOW / 2, 5_000_000, 30_000);
        reads(StorageGauge.WINDOW / 2 - 1, 30_000, 30_000);
        assertFalse(gauge.storageBound(), "not before the window is full");
        read(30_000, 30_000);
        assertTrue(gauge.storageBound());
    }

    @Test
    void aStorageThatTurnsFastIsNoLongerBound() {
        reads(StorageGauge.WINDOW, 5_000_000, 20_000);
        assertTrue(gauge.storageBound());
        reads(StorageGauge.WINDOW, 200_000, 200_000);
        assertFalse(gauge.storageBound());
    }

    @Test
    void aReadPreemptedNowAndThenIsOneVoteNotASum() {
        reads(StorageGauge.WINDOW - 1, 30_000, 30_000);
        read(40_000_000, 30_000); // descheduled for 40 ms in the middle of a page-cache read
        assertFalse(gauge.storageBound());
    }

    @Test
    void aReadThatWaitedForACoreIsNotAReadThatWaitedForTheStorage() {
        reads(StorageGauge.WINDOW, 5_000_000, 30_000, 4_970_000); // overloaded cores: a page-cache read preempted
        assertFalse(gauge.storageBound());
        reads(StorageGauge.WINDOW, 10_000_000, 30_000, 4_970_000); // 5 ms for the storage, then 5 ms for a core
        assertTrue(gauge.storageBound());
    }

    @Test
    void aReadThatFoundItsBytesInMemoryIsNotBlockedWhateverItTook() {
        reads(StorageGauge.WINDOW, 50_000_000, 30_000); // asleep on a lock for 50 ms, timed: blocked
        assertTrue(gauge.storageBound());
        for (int i = 0; i < StorageGauge.WINDOW; i++) {
            clocks.wall += 50_000_000;
            gauge.readFromMemory();
        }
        assertFalse(gauge.storageBound(), "the same reads, from memory");
    }

    @Test
    void aReadFromMemoryVotesOnlyWhenReadsAreWorthMeasuring() {
        worthMeasuring = false;
        for (int i = 0; i < StorageGauge.WINDOW - 1; i++) { // counted, they would outvote the window below
            gauge.readFromMemory();
        }
        worthMeasuring = true;
        reads(StorageGauge.WINDOW, 5_000_000, 30_000);
        assertTrue(gauge.storageBound(), "the reads from memory were not counted");
        StorageGauge.OFF.readFromMemory();
    }

    @Test
    void shortWaitsSayNothingAboutTheStorage() {
        reads(StorageGauge.WINDOW, StorageGauge.MIN_WAIT_NANOS - 1, 0);
        assertFalse(gauge.storageBound());
        reads(StorageGauge.WINDOW, StorageGauge.MIN_WAIT_NANOS, 0);
        assertTrue(gauge.storageBound());
    }

    @Test
    void withoutACpuClockASlowReadCountsAsBlocked() {
        StorageGauge gauge = new StorageGauge(new StorageGauge.Clocks() {
            @Override
            public long wallNanos() {
                return clocks.wall;
            }

            @Override
            public long cpuNanos() {
                return -1;
            }
        }, () -> true);
        for (int i = 0; i < StorageGauge.WINDOW; i++) {
            StorageGauge.Start start = gauge.start();
            clocks.wall += StorageGauge.SLOW_READ_NANOS - 1;
            gauge.stop(start);
        }
        assertFalse(gauge.storageBound());
        for (int i = 0; i < StorageGauge.WINDOW; i++) {
            StorageGauge.Start start = gauge.start();
            clocks.wall += StorageGauge.SLOW_READ_NANOS;
            gauge.stop(start);
        }
        assertTrue(gauge.storageBound());
    }

    @Test
    void readsNotWorthMeasuringAreNotMeasured() {
        worthMeasuring = false;
        assertNull(gauge.start());
        reads(StorageGauge.WINDOW, 5_000_000, 0);
        assertFalse(gauge.storageBound());
        assertNull(StorageGauge.OFF.start());
    }
}
