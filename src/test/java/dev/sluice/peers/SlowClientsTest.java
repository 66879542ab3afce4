package dev.sluice.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark client's first byte counted from each client's due time, which its connect may miss. */
class SlowClientsTest {

    private static final long MS = 1_000_000L;

    @Test
    void aClientHeldBackOrNeverAnsweredCountsFromItsDueTimeUntilItsFirstByteOrTheEnd() {
        long start = 1_000 * MS;
        long end = start + 10_000 * MS;
        // four clients due at 0, 1, 2 and 3 s (spread over 4 s)
        SlowClients.Client onTime = answeredAt(start + 500 * MS);
        SlowClients.Client late = answeredAt(start + 3_200 * MS); // its connect started 2 s late, at 3 s
        SlowClients.Client neverAnswered = answeredAt(0);
        // the fourth was never started: the connects in flight held it back

        long[] waits = SlowClients.fromDue(List.of(onTime, late, neverAnswered), 4, start, 4_000 * MS, end);

        assertArrayEquals(new long[] {500 * MS, 2_200 * MS, 7_000 * MS, 8_000 * MS}, waits);
    }

    @Test
    void clientsDueAfterTheEndAreNotCounted() {
        long start = 0;
        long end = 15_000 * MS;
        // due at 0, 10, 20 and 30 s: the last two after the end
        SlowClients.Client first = answeredAt(100 * MS);
        SlowClients.Client second = answeredAt(0);

        long[] waits = SlowClients.fromDue(List.of(first, second), 4, start, 40_000 * MS, end);

        assertArrayEquals(new long[] {100 * MS, 5_000 * MS}, waits);
    }

    /** A client whose first byte came at {@code firstByte} (0: none came). */
    private static SlowClients.Client answeredAt(long firstByte) {
        SlowClients.Client client = new SlowClients.Client(null);
        client.firstByteNanos = firstByte;
        return client;
    }
}
