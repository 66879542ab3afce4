package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The sizing rule on a hand-moved clock. */
class ChunkSizerTest {

    private static final int CEILING = 256 * 1024;
    private static final long MS = 1_000_000L;
    private static final long TENTH = ChunkSizer.WINDOW_NANOS / 10;

    @Test
    void aNewTransferStartsAtTheFloor() {
        assertEquals(ChunkSizer.FLOOR, new ChunkSizer(CEILING, 0).size());
        assertEquals(4096, new ChunkSizer(4096, 0).size(), "the floor never exceeds the ceiling");
    }

    @Test
    void aFastSocketDoublesPerWindowUpToTheCeiling() {
        ChunkSizer sizer = pushedBackOnce(); // its speed is the client's, not the kernel's
        long now = 1;
        int previous = sizer.size();
        while (sizer.size() < CEILING) {
            for (int i = 0; i < 10; i++) { // 10 chunks per window: the socket drains far more than one chunk
                sizer.written(sizer.size());
                now += TENTH;
                if (i == 9) { // and pushes back now and then, as a fast socket does when the server outruns it
                    sizer.parked(now);
                }
                sizer.drained(now);
            }
            assertEquals(Math.min(2 * previous, CEILING), sizer.size(), "grows at most twofold per window");
            previous = sizer.size();
        }
        assertFalse(sizer.needsClock(), "at the ceiling with no park, nothing to measure");
    }

    /** Chunks that hold no buffer (mapped) grow straight to what the window measured, once the client is proven. */
    @Test
    void aSizerThatGrowsAtOnceJumpsToTheMeasuredTargetButStillWaitsForProof() {
        ChunkSizer sizer = new ChunkSizer(4 * 1024 * 1024, 0, true);
        long now = 0;
        for (int i = 0; i < 10; i++) { // one window, 160 KiB drained: no growth yet, the kernel may have taken it
            sizer.written(ChunkSizer.FLOOR);
            now += TENTH;
            sizer.drained(now);
        }
        assertEquals(ChunkSizer.FLOOR, sizer.size(), "grew before the bytes proved the client");
        sizer.parked(now);
        sizer.drained(now + 1); // proven: pushed back once and drained again
        now += 1;
        for (int i = 0; i < 10; i++) { // 10 chunks of 16 KiB in one window, then 2 MiB at once: 2.2 MiB drained
            sizer.written(i == 9 ? 2 * 1024 * 1024 : ChunkSizer.FLOOR);
            now += TENTH;
            if (i == 9) {
                sizer.parked(now);
            }
            sizer.drained(now);
        }
        assertEquals(2 * 1024 * 1024, sizer.size(), "did not jump to the class the window measured");
    }

    @Test
    void aNewTransferDoesNotGrowBeforeItSentMoreThanAKernelBufferTakes() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        long now = 0;
        long sent = 0;
        while (sent + ChunkSizer.FLOOR < ChunkSizer.UNPROVEN_BYTES) {
            sizer.written(ChunkSizer.FLOOR);
            sent += ChunkSizer.FLOOR;
            now += TENTH;
            sizer.drained(now);
            assertEquals(ChunkSizer.FLOOR, sizer.size(), "grew after " + sent + " bytes");
        }
        for (int i = 0; i < 10; i++) { // one more window
            sizer.written(ChunkSizer.FLOOR);
            now += TENTH;
            sizer.drained(now);
        }
        assertEquals(2 * ChunkSizer.FLOOR, sizer.size(), "grows once the bytes prove the client");
    }

    @Test
    void aBurstWithinOneWindowDoesNotGrowIt() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        for (int i = 0; i < 1000; i++) {
            sizer.written(sizer.size());
            sizer.drained(ChunkSizer.WINDOW_NANOS - 1);
        }
        assertEquals(ChunkSizer.FLOOR, sizer.size());
    }

    @Test
    void aSlowDrainShrinksStraightToWhatOneWindowDrains() {
        ChunkSizer sizer = grownToTheCeiling();
        long now = 1_000 * MS;
        sizer.written(CEILING);
        sizer.parked(now);
        // 256 KiB in 1 s since the last window: a few KiB per window, below the floor.
        now += 1_000 * MS;
        sizer.drained(now);
        assertEquals(ChunkSizer.FLOOR, sizer.size());
    }

    @Test
    void aModerateDrainSettlesBetweenFloorAndCeiling() {
        ChunkSizer sizer = grownToTheCeiling();
        long now = 1_000 * MS;
        for (int i = 0; i < 10; i++) {
            sizer.written(100 * 1024); // 100 KiB per window, in parked cycles
            now += ChunkSizer.WINDOW_NANOS;
            sizer.parked(now);
            sizer.drained(now);
        }
        assertEquals(64 * 1024, sizer.size());
        assertTrue(sizer.needsClock());
    }

    /**
     * A slow client (200 KB/s) whose every wake-up is followed by a refill of the kernel's buffer (1.5 MB) that
     * takes several windows because the server is busy: the refill is not the client's speed.
     */
    @Test
    void refillsAfterWakeUpsDoNotGrowASlowClient() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        long now = 0;
        for (long sent = 0; sent < 3 * 1024 * 1024; sent += ChunkSizer.FLOOR) { // the first burst, into an empty buffer
            sizer.written(ChunkSizer.FLOOR);
            now += MS;
            sizer.drained(now);
        }
        for (int cycle = 0; cycle < 5; cycle++) {
            sizer.parked(now);
            now += 7_500 * MS; // the client reads half the buffer at 200 KB/s
            for (long refilled = 0; refilled < 1_500_000; refilled += sizer.size()) { // 100 ms of refill
                sizer.written(sizer.size());
                now += MS;
                sizer.drained(now);
                assertEquals(ChunkSizer.FLOOR, sizer.size(), "grew during the refill of cycle " + cycle);
            }
        }
    }

    /** 8 MB/s, never refused again: less than a kernel buffer in a settled window, so only that window ends it. */
    @Test
    void aSocketThatStopsPushingBackGrowsOncePerSettledWindow() {
        ChunkSizer sizer = pushedBackOnce();
        long now = 1;
        long windowEnd = now + ChunkSizer.SETTLED_NANOS;
        while (now < windowEnd - TENTH) { // fast, but not yet for a whole settled window
            sizer.written(sizer.size());
            now += TENTH;
            sizer.drained(now);
        }
        assertEquals(ChunkSizer.FLOOR, sizer.size(), "grew before a settled window without a wake-up");
        sizer.written(sizer.size());
        sizer.drained(windowEnd);
        assertEquals(2 * ChunkSizer.FLOOR, sizer.size());
    }

    /**
     * A fast download that parked once, early, and never again: once the socket has taken more than a kernel buffer
     * holds since that push-back, it is not a refill, and the window ends without waiting for a settled window.
     * (Before, an 8 MiB download on loopback went whole at the floor this way, and ConnectionHistoryIT failed.)
     */
    @Test
    void aSocketThatTakesMoreThanAKernelBufferWithoutPushingBackGrowsBeforeASettledWindow() {
        ChunkSizer sizer = pushedBackOnce();
        long now = 1;
        long sincePushBack = 0;
        while (sincePushBack + 10L * ChunkSizer.FLOOR < ChunkSizer.UNPROVEN_BYTES) { // 80 MB/s
            sizer.written(10L * ChunkSizer.FLOOR);
            sincePushBack += 10L * ChunkSizer.FLOOR;
            now += TENTH;
            sizer.drained(now);
            assertEquals(ChunkSizer.FLOOR, sizer.size(), "grew after " + sincePushBack + " bytes, within a refill");
        }
        sizer.written(10L * ChunkSizer.FLOOR);
        now += TENTH;
        sizer.drained(now);
        assertTrue(now < ChunkSizer.SETTLED_NANOS, "the test must end before a settled window would");
        assertEquals(2 * ChunkSizer.FLOOR, sizer.size(), "a client draining more than a kernel buffer did not grow");
        sizer.parked(now); // a push-back starts the count again: what follows may be a refill
        sizer.drained(now + 1);
        for (long sent = 0; sent + 10L * ChunkSizer.FLOOR < ChunkSizer.UNPROVEN_BYTES; sent += 10L * ChunkSizer.FLOOR) {
            sizer.written(10L * ChunkSizer.FLOOR);
            now += TENTH;
            sizer.drained(now);
            assertEquals(2 * ChunkSizer.FLOOR, sizer.size(), "grew " + sent + " bytes into a refill");
        }
    }

    /**
     * Storage that takes 5 ms per read and a client that takes each chunk at once: counted by the clock, 16 KiB
     * per 5 ms is 64 KiB per window, but the client drained everything it was given while the transfer waited
     * for the storage. It grows as a fast client does; the same waits spent on its socket keep it at 64 KiB.
     */
    @Test
    void timeSpentWaitingForTheStorageIsNotTheClients() {
        ChunkSizer storageBound = pushedBackOnce();
        ChunkSizer socketBound = pushedBackOnce();
        long now = 1;
        for (int read = 0; read < 400; read++) { // 2 s: the storage-bound one never pushes back, so its windows
            now += 5 * MS;                       // close once settled, every 320 ms
            storageBound.readWaited(5 * MS);
            storageBound.written(ChunkSizer.FLOOR);
            storageBound.drained(now);
            socketBound.written(ChunkSizer.FLOOR);
            socketBound.parked(now - 5 * MS);
            socketBound.drained(now);
        }
        assertEquals(CEILING, storageBound.size(), "stayed as slow as the storage");
        assertEquals(64 * 1024, socketBound.size(), "64 KiB per window on the socket is the client's speed");
        assertEquals(CEILING, storageBound.earned());
    }

    /** A slow client on slow storage: leaving out the read waits does not make it look fast. */
    @Test
    void aSlowClientOnSlowStorageStaysSlow() {
        ChunkSizer sizer = grownToTheCeiling();
        long now = 1_000 * MS;
        for (int chunk = 0; chunk < 5; chunk++) { // 16 KiB per second drained, each chunk after a 5 ms read
            sizer.readWaited(5 * MS);
            now += 5 * MS;
            sizer.written(sizer.size());
            sizer.parked(now);
            now += 1_000 * MS;
            sizer.drained(now);
        }
        assertEquals(ChunkSizer.FLOOR, sizer.size());
    }

    @Test
    void aClientThatNeverProvedItselfEarnsNothing() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        long now = 0;
        for (int i = 0; i < 100; i++) { // fast, but all of it could have gone into the kernel's buffer
            sizer.written(ChunkSizer.FLOOR);
            now += TENTH;
            sizer.drained(now);
        }
        assertEquals(0, sizer.earned());
    }

    @Test
    void aClientEarnsTheSizeItReachedOnceProvenByAPushBackOrByTheBytes() {
        assertEquals(ChunkSizer.FLOOR, pushedBackOnce().earned(), "proven, at the size it has");
        ChunkSizer manyBytes = grownToTheCeiling();
        assertEquals(CEILING, manyBytes.earned());
    }

    @Test
    void aTransferStartsAtWhatAnEarlierTransferToItsClientEarned() {
        assertEquals(CEILING, new ChunkSizer(CEILING, 0, false, CEILING).size());
        assertEquals(64 * 1024, new ChunkSizer(CEILING, 0, false, 100 * 1024).size(), "the size class below");
        assertEquals(CEILING, new ChunkSizer(CEILING, 0, false, 4 * 1024 * 1024).size(), "never above the ceiling");
        assertEquals(ChunkSizer.FLOOR, new ChunkSizer(CEILING, 0, false, 0).size());
        assertEquals(ChunkSizer.FLOOR, new ChunkSizer(CEILING, 0, false, 1).size());
        assertEquals(0, new ChunkSizer(CEILING, 0, false, ChunkSizer.FLOOR).earned(),
                "a floor-size start proves nothing");
        assertEquals(CEILING, new ChunkSizer(CEILING, 0, false, CEILING).earned(),
                "proven by its history, it keeps it until a window says otherwise");
    }

    @Test
    void aStartEarnedEarlierGrowsWithoutWaitingForProofAgain() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0, false, 64 * 1024);
        long now = 0;
        for (int i = 0; i < 10; i++) { // one fast window, no push-back, far less than a kernel buffer sent
            sizer.written(sizer.size());
            now += TENTH;
            sizer.drained(now);
        }
        assertEquals(128 * 1024, sizer.size());
    }

    /** A client that was fast on its connection and then slows down is measured like any other: it shrinks. */
    @Test
    void aStartEarnedEarlierShrinksStraightToWhatTheClientDrainsNow() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0, true, CEILING);
        sizer.written(CEILING);
        sizer.parked(MS);
        sizer.drained(1_000 * MS); // 256 KiB in 1 s: a few KiB per window
        assertEquals(ChunkSizer.FLOOR, sizer.size());
        assertEquals(ChunkSizer.FLOOR, sizer.earned(), "the next transfer on the connection starts small again");
    }

    @Test
    void sizeClassesAreTheFloorTimesPowersOfTwoAndTheCeiling() {
        assertEquals(16384, ChunkSizer.classFor(1, 100_000));
        assertEquals(32768, ChunkSizer.classFor(16385, 100_000));
        assertEquals(65536, ChunkSizer.classFor(65536, 100_000));
        assertEquals(100_000, ChunkSizer.classFor(70_000, 100_000));
        assertEquals(100_000, ChunkSizer.classFor(5_000_000, 100_000));
        ChunkSizer sizer = new ChunkSizer(100_000, 0);
        assertEquals(16384, sizer.bufferFor(10), "a short tail takes the smallest class");
    }

    /** A new sizer whose socket pushed back at 0 and drained again at 1: proven, still at the floor. */
    private static ChunkSizer pushedBackOnce() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        sizer.parked(0);
        sizer.drained(1);
        return sizer;
    }

    private static ChunkSizer grownToTheCeiling() {
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        long now = 0;
        while (sizer.size() < CEILING) {
            sizer.written(CEILING * 10L);
            now += ChunkSizer.WINDOW_NANOS;
            sizer.drained(now);
        }
        return sizer;
    }
}
