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
        ChunkSizer sizer = new ChunkSizer(CEILING, 0);
        sizer.parked(0);
        sizer.drained(1); // pushed back once and drained again: its speed is the client's, not the kernel's
        long now = 1;
        int previous = sizer.size();
        while (sizer.size() < CEILING) {
            for (int i = 0; i < 10; i++) { // 10 chunks per window: the socket drains far more than one chunk
                sizer.written(sizer.size());
                now += TENTH;
                sizer.drained(now);
            }
            assertEquals(Math.min(2 * previous, CEILING), sizer.size(), "grows at most twofold per window");
            previous = sizer.size();
        }
        assertFalse(sizer.needsClock(), "at the ceiling with no park, nothing to measure");
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
        }
        assertEquals(64 * 1024, sizer.size());
        assertTrue(sizer.needsClock());
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
