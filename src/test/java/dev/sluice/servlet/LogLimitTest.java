package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LogLimitTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void oneLineAPeriodGoesAndTheNextSaysHowManyWereHeldBack() {
        long start = -5 * SECOND; // nanoTime may be negative
        LogLimit limit = new LogLimit(SECOND, start);
        assertEquals(0, limit.admit(start), "the first line goes at once");
        assertEquals(-1, limit.admit(start + 1));
        assertEquals(-1, limit.admit(start + SECOND - 1));
        assertEquals(2, limit.admit(start + SECOND), "a period later, with the two held back");
        assertEquals(-1, limit.admit(start + SECOND + 1));
        assertEquals(1, limit.admit(start + 10 * SECOND));
        assertEquals(0, limit.admit(start + 12 * SECOND), "nothing held back since");
    }

    @Test
    void theNoteNamesTheLinesHeldBackOnlyWhenThereWereSome() {
        assertEquals("", LogLimit.heldBackNote(0));
        assertEquals(" (3 more such lines were held back: at most one a second)", LogLimit.heldBackNote(3));
    }
}
