package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/**
 * How a span is loaded in pieces: every piece not resident loaded exactly once, the shares handed to helpers only
 * while they take them, the rest loaded by the caller in order, and the end reported exactly once, after the
 * last share, with the first failure. Helpers run when the test says, on the test's thread.
 */
class SpanLoadTest {

    private static final int PIECE = SpanLoad.PIECE;

    /** Pages that record each load as "offset+length", resident when the test says so. */
    private final List<String> loads = new ArrayList<>();
    private final Set<Integer> resident = new HashSet<>();
    private Integer failAt;
    private final SpanLoad.Pages pages = new SpanLoad.Pages() {
        @Override
        public boolean isLoaded(int offset, int length) {
            return resident.contains(offset);
        }

        @Override
        public void load(int offset, int length) throws IOException {
            if (failAt != null && failAt == offset) {
                throw new IOException("read failed at " + offset);
            }
            loads.add(offset + "+" + length);
        }
    };

    private final List<Throwable> reports = new ArrayList<>();
    private final List<Runnable> helpers = new ArrayList<>();

    private SpanLoad load(int length) {
        return new SpanLoad(pages, length, reports::add);
    }

    private static List<String> pieces(int from, int to, int length) {
        List<String> pieces = new ArrayList<>();
        for (int piece = from; piece < to; piece++) {
            pieces.add(piece * PIECE + "+" + Math.min(PIECE, length - piece * PIECE));
        }
        return pieces;
    }

    @Test
    void aFastClientsSpanIsCutIntoEightSharesOfConsecutivePiecesAndReportsAfterTheLastShare() {
        int length = 4 * 1024 * 1024; // 32 pieces: 8 shares of 4
        SpanLoad load = load(length);
        assertEquals(8, load.shares());
        load.start(helpers::add);
        assertEquals(7, helpers.size(), "every share but the caller's went to a helper");
        assertEquals(pieces(0, 4, length), loads, "the caller loaded the first share");
        assertEquals(List.of(), reports, "not before the helpers are done");

        for (int share = 7; share >= 1; share--) { // helpers finish in any order
            helpers.get(share - 1).run();
        }
        assertReportedOnceWithoutFailure();
        assertEquals(32, loads.size());
        assertEquals(32, new HashSet<>(loads).size(), "no piece loaded twice: " + loads);
        assertTrue(loads.containsAll(pieces(0, 32, length)));
    }

    @Test
    void withNoThreadFreeTheCallerLoadsEveryPieceInOrderAfterOneOffer() {
        int length = 2 * 1024 * 1024 + 1000; // 17 pieces, the last short: 6 shares of 3
        int[] offers = {0};
        SpanLoad load = load(length);
        load.start(helper -> {
            offers[0]++;
            return false;
        });
        assertEquals(1, offers[0], "after a refusal the rest is not offered");
        assertEquals(pieces(0, 17, length), loads);
        assertEquals("2097152+1000", loads.get(16));
        assertReportedOnceWithoutFailure();
    }

    @Test
    void sharesTheHelpersDidNotTakeAreLoadedByTheCaller() {
        int length = 8 * PIECE; // 8 shares of one piece
        int[] offers = {0};
        load(length).start(helper -> {
            if (++offers[0] > 2) {
                return false;
            }
            helpers.add(helper);
            return true;
        });
        assertEquals(List.of("0+131072", "393216+131072", "524288+131072", "655360+131072", "786432+131072",
                "917504+131072"), loads, "the caller's share, then shares 3 to 7; 1 and 2 went to helpers");
        assertEquals(List.of(), reports);
        helpers.forEach(Runnable::run);
        assertEquals(8, loads.size());
        assertEquals(1, reports.size());
    }

    @Test
    void aPoolThatStopsRefusesTheHelpersAndTheCallerLoadsTheirShares() {
        assertTheCallerLoadsEveryPieceWhenTheOfferThrows(new RejectedExecutionException("read pool stopped"));
    }

    @Test
    void aHelperThatCouldNotBeStartedCountsAsNotTaken() {
        assertTheCallerLoadsEveryPieceWhenTheOfferThrows(new OutOfMemoryError("unable to create native thread"));
    }

    private void assertTheCallerLoadsEveryPieceWhenTheOfferThrows(Throwable thrown) {
        int length = 4 * PIECE;
        load(length).start(helper -> {
            if (thrown instanceof Error error) {
                throw error;
            }
            throw (RuntimeException) thrown;
        });
        assertEquals(pieces(0, 4, length), loads);
        assertReportedOnceWithoutFailure();
    }

    private void assertReportedOnceWithoutFailure() {
        assertEquals(1, reports.size());
        assertNull(reports.get(0));
    }

    @Test
    void residentPiecesAreNotLoadedAgain() {
        int length = 4 * PIECE;
        resident.add(PIECE);
        resident.add(3 * PIECE);
        load(length).start(helpers::add);
        helpers.forEach(Runnable::run);
        assertEquals(List.of("0+131072", "262144+131072"), loads.stream().sorted().toList());
        assertReportedOnceWithoutFailure();
    }

    @Test
    void aFailureIsReportedOnceAfterEveryShareEndedAndStopsTheLoadsNotYetStarted() {
        int length = 16 * PIECE; // 8 shares of 2
        failAt = 0;
        load(length).start(helpers::add);
        assertEquals(List.of(), loads, "the caller's share failed at its first piece and loaded nothing more");
        assertEquals(List.of(), reports, "the helpers still run");
        helpers.forEach(Runnable::run);
        assertEquals(List.of(), loads, "shares started after the failure load nothing");
        assertEquals(1, reports.size());
        assertEquals("read failed at 0", reports.get(0).getMessage());
    }

    @Test
    void anErrorInAShareIsReportedNotThrown() {
        InternalError fault = new InternalError("a fault in an unsafe memory access operation");
        SpanLoad load = new SpanLoad(new SpanLoad.Pages() {
            @Override
            public boolean isLoaded(int offset, int length) {
                return false;
            }

            @Override
            public void load(int offset, int length) {
                throw fault;
            }
        }, 2 * PIECE, reports::add);
        load.start(helpers::add);
        helpers.forEach(Runnable::run);
        assertEquals(1, reports.size());
        assertSame(fault, reports.get(0));
    }

    @Test
    void aSpanOfOnePieceOrLessIsLoadedByTheCallerAlone() {
        SpanLoad load = load(1000);
        assertEquals(1, load.shares());
        load.start(helpers::add);
        assertEquals(List.of(), helpers);
        assertEquals(List.of("0+1000"), loads);
        assertEquals(1, reports.size());
    }
}
