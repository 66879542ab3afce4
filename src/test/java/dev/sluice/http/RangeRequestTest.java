package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class RangeRequestTest {

    private static final long LENGTH = 10_000;
    private static final int MAX = 10;
    private static final long TWO_GIB = 1L << 31;
    private static final long FOUR_GIB = 1L << 32;
    private static final long FIVE_GIB = 5L << 30;

    private static final RangeOutcome FULL = new RangeOutcome.Full();
    private static final RangeOutcome UNSATISFIABLE = new RangeOutcome.Unsatisfiable();

    @Test
    void firstToLast() {
        assertEquals(partial(0, 499), evaluate("bytes=0-499"));
        assertEquals(partial(500, 999), evaluate("bytes=500-999"));
        assertEquals(partial(0, 0), evaluate("bytes=0-0"));
        assertEquals(partial(9999, 9999), evaluate("bytes=9999-9999"));
    }

    @Test
    void openEndedRangeRunsToTheEnd() {
        assertEquals(partial(9500, 9999), evaluate("bytes=9500-"));
        assertEquals(partial(0, 9999), evaluate("bytes=0-"));
    }

    @Test
    void suffixSelectsTheFinalBytes() {
        assertEquals(partial(9500, 9999), evaluate("bytes=-500"));
        assertEquals(partial(9999, 9999), evaluate("bytes=-1"));
    }

    @Test
    void suffixAtLeastTheLengthSelectsEverything() {
        assertEquals(partial(0, 9999), evaluate("bytes=-10000"));
        assertEquals(partial(0, 9999), evaluate("bytes=-10001"));
        assertEquals(partial(0, 9999), evaluate("bytes=-999999999999999999"));
    }

    @Test
    void lastPositionBeyondTheEndIsClamped() {
        assertEquals(partial(9000, 9999), evaluate("bytes=9000-10000"));
        assertEquals(partial(9000, 9999), evaluate("bytes=9000-999999999999999999"));
        assertEquals(partial(0, 9999), evaluate("bytes=0-9999"));
    }

    @Test
    void unitIsCaseInsensitive() {
        assertEquals(partial(0, 1), evaluate("BYTES=0-1"));
        assertEquals(partial(0, 1), evaluate("Bytes=0-1"));
    }

    @Test
    void multipleRangesWithWhitespaceAroundCommas() {
        assertEquals(partial(0, 1, 5, 6), evaluate("bytes=0-1, 5-6"));
        assertEquals(partial(0, 1, 5, 6, 9990, 9999), evaluate("bytes=0-1 ,\t5-6 ,  -10"));
    }

    @Test
    void toleratesWhitespaceAfterEqualsAndAroundTheValue() {
        assertEquals(partial(0, 1), evaluate("bytes= 0-1"));
        assertEquals(partial(0, 1), evaluate(" \tbytes=0-1 "));
    }

    @Test
    void emptyListElementsAreIgnored() {
        assertEquals(partial(0, 1, 5, 6), evaluate("bytes=,0-1,, 5-6,"));
    }

    /** RFC 9110 Section 15.3.7.2: parts SHOULD come in the order of their specs. */
    @Test
    void rangesKeepTheirOrderWhenNoneIsMerged() {
        assertEquals(partial(100, 109, 50, 59, 0, 9), evaluate("bytes=100-109,50-59,0-9"));
        assertEquals(partial(9990, 9999, 0, 9), evaluate("bytes=-10,0-9"));
        assertEquals(partial(0, 9, 100, 109), evaluate("bytes=0-9,100-109"));
    }

    /** Merged ranges come sorted by offset, which the same section allows for coalesced ranges. */
    @Test
    void rangesAreSortedByOffsetWhenSomeAreMerged() {
        assertEquals(partial(0, 9, 50, 60, 100, 109), evaluate("bytes=100-109,55-60,0-9,50-56"));
    }

    @Test
    void overlappingRangesAreMerged() {
        assertEquals(partial(0, 20), evaluate("bytes=0-10,5-20"));
        assertEquals(partial(0, 100), evaluate("bytes=10-20,0-100"));
        assertEquals(partial(0, 9999), evaluate("bytes=-5,0-"));
        assertEquals(partial(5, 15), evaluate("bytes=5-15,5-15"));
    }

    @Test
    void adjacentRangesAreMergedButAOneByteGapIsKept() {
        assertEquals(partial(0, 9), evaluate("bytes=0-4,5-9"));
        assertEquals(partial(0, 9), evaluate("bytes=5-9,0-4"));
        assertEquals(partial(0, 3, 5, 6), evaluate("bytes=0-3,5-6"));
    }

    @Test
    void mergingChainsAcrossSeveralRanges() {
        assertEquals(partial(0, 30, 40, 41), evaluate("bytes=20-30,40-41,0-10,11-19"));
    }

    @Test
    void unsatisfiableSpecsAmongSatisfiableOnesAreDropped() {
        assertEquals(partial(0, 1), evaluate("bytes=0-1, 10000-10005, -0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=10000-", "bytes=10000-20000", "bytes=20000-", "bytes=-0", "bytes=10000-, -0, 99999-"})
    void noOverlapIsUnsatisfiable(String header) {
        assertEquals(UNSATISFIABLE, evaluate(header));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=0-", "bytes=0-0", "bytes=-0", "bytes=5-10"})
    void anyRangeOfAnEmptyRepresentationButANonZeroSuffixIsUnsatisfiable(String header) {
        assertEquals(UNSATISFIABLE, RangeRequest.evaluate(header, 0, MAX));
    }

    /**
     * RFC 9110 Section 14.1.1: of an empty representation, a suffix of non-zero length is satisfiable, but no
     * 206 can carry an empty range: the (empty) whole, not 416.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bytes=-1", "bytes=-5", "bytes=0-0,-1", "bytes=-0,-3"})
    void aNonZeroSuffixOfAnEmptyRepresentationGetsTheWhole(String header) {
        assertEquals(FULL, RangeRequest.evaluate(header, 0, MAX));
    }

    @Test
    void anInvalidHeaderOnAnEmptyRepresentationIsStillIgnored() {
        assertEquals(FULL, RangeRequest.evaluate("bytes=5-1", 0, MAX));
    }

    @Test
    void moreSpecsThanTheLimitAreIgnored() {
        assertEquals(partial(0, 1, 3, 4, 6, 7), RangeRequest.evaluate("bytes=0-1,3-4,6-7", LENGTH, 3));
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1,3-4,6-7", LENGTH, 2));
    }

    @Test
    void theLimitCountsSpecsBeforeDroppingOrMerging() {
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1,0-1,0-1", LENGTH, 2));
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1,20000-,30000-", LENGTH, 2));
    }

    @Test
    void theLimitDoesNotCountEmptyListElements() {
        assertEquals(partial(0, 1, 3, 4), RangeRequest.evaluate("bytes=0-1,,,,3-4", LENGTH, 2));
    }

    @Test
    void aLimitBelowOneDisablesRanges() {
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1", LENGTH, 0));
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1", LENGTH, -1));
    }

    @Test
    void overlappingAmplificationNeverSendsMoreThanTheRepresentation() {
        RangeOutcome outcome = evaluate("bytes=0-,0-,-10000,0-9999,1-,0-");
        assertEquals(partial(0, 9999), outcome);
        assertEquals(LENGTH, ((RangeOutcome.Partial) outcome).totalBytes());
    }

    @Test
    void manyOverlappingSmallRangesCollapse() {
        StringBuilder header = new StringBuilder("bytes=0-99");
        for (int i = 1; i < 50; i++) {
            header.append(',').append(i).append('-').append(i + 99);
        }
        RangeOutcome outcome = RangeRequest.evaluate(header.toString(), LENGTH, 50);
        assertEquals(partial(0, 148), outcome);
    }

    @ParameterizedTest
    @ValueSource(strings = {"items=0-1", "bytes0-1", "0-1", "bytesx=0-1", "bytes =0-1", "byte=0-1", "=0-1", "bytes", "b"})
    void unknownOrMissingUnitIsIgnored(String header) {
        assertEquals(FULL, evaluate(header));
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {
        "",
        "bytes=",
        "bytes= ",
        "bytes=,",
        "bytes=, ,",
        "bytes=5-1",
        "bytes=5-4",
        "bytes=0-1,5-1",
        "bytes=a-b",
        "bytes=1",
        "bytes=-",
        "bytes=--1",
        "bytes=0--1",
        "bytes=0-1-2",
        "bytes=0-1;x",
        "bytes=0-1 2-3",
        "bytes=0-1,2-3 x",
        "bytes==0-1",
        "bytes=+1-2",
        "bytes=1-+2",
        "bytes=0x10-20",
        "bytes=1.5-2",
        "bytes=*",
        "bytes=0-1,*",
        "bytes=1 -2",
        "bytes=1- 2",
        "bytes=\u0661-\u0662",
        "bytes=0-1\u0000",
    })
    void syntacticallyInvalidHeadersAreIgnored(String header) {
        assertEquals(FULL, evaluate(header));
    }

    @Test
    void positionsOfAnyLengthAreValidAndThoseBeyondAnyFileAreTakenAsSuch() {
        assertEquals(UNSATISFIABLE, evaluate("bytes=1000000000000000000-"));
        assertEquals(UNSATISFIABLE, evaluate("bytes=99999999999999999999-"));
        assertEquals(UNSATISFIABLE, evaluate("bytes=9223372036854775807-"));
        assertEquals(UNSATISFIABLE, evaluate("bytes=99999999999999999999-999999999999999999999"));
        assertEquals(partial(0, 9999), evaluate("bytes=0-1000000000000000000"));
        assertEquals(partial(5, 9999), evaluate("bytes=5-99999999999999999999"));
        assertEquals(partial(0, 9999), evaluate("bytes=0-9223372036854775807"));
        assertEquals(partial(0, 9999), evaluate("bytes=-1000000000000000000"));
        assertEquals(partial(0, 9999), evaluate("bytes=-99999999999999999999"));
        assertEquals(partial(0, 9999), evaluate("bytes=-9223372036854775808"));
        assertEquals(partial(1, 2), evaluate("bytes=0000000000000000001-2"));
        assertEquals(partial(0, 5), evaluate("bytes=00000000000000000000000000-5"));
        assertEquals(partial(0, 1), evaluate("bytes=0-1,99999999999999999999999999999-"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "bytes=99999999999999999999-99999999999999999998",
        "bytes=100000000000000000000-99999999999999999999",
        "bytes=99999999999999999999-1",
        "bytes=0-1,99999999999999999999-00099999999999999999998",
    })
    void aLastPositionBeforeTheFirstIsInvalidWhateverTheirLength(String header) {
        assertEquals(FULL, evaluate(header));
    }

    @Test
    void eighteenDigitPositionsAreReadExactly() {
        assertEquals(UNSATISFIABLE, evaluate("bytes=999999999999999999-"));
        assertEquals(partial(0, 9999), evaluate("bytes=000000000000000000-999999999999999999"));
        assertEquals(UNSATISFIABLE, evaluate("bytes=99999999999999999999-000099999999999999999999"));
    }

    @Test
    void aNegativeLengthMeansUnknownAndIsServedWhole() {
        assertEquals(FULL, RangeRequest.evaluate("bytes=0-1", -1, MAX));
    }

    @Test
    void offsetsPastTwoAndFourGibibytes() {
        assertEquals(partial(TWO_GIB, TWO_GIB + 6), RangeRequest.evaluate("bytes=2147483648-", TWO_GIB + 7, MAX));
        assertEquals(partial(FOUR_GIB, FOUR_GIB + 9),
                RangeRequest.evaluate("bytes=4294967296-4294967305", FIVE_GIB, MAX));
        assertEquals(partial(FOUR_GIB + 1, FIVE_GIB - 1), RangeRequest.evaluate("bytes=4294967297-", FIVE_GIB, MAX));
    }

    @Test
    void offsetsNearTheEndOfFiveGibibytes() {
        assertEquals(partial(FIVE_GIB - 1, FIVE_GIB - 1), RangeRequest.evaluate("bytes=-1", FIVE_GIB, MAX));
        assertEquals(partial(FIVE_GIB - 10, FIVE_GIB - 1),
                RangeRequest.evaluate("bytes=5368709110-6000000000", FIVE_GIB, MAX));
        assertEquals(UNSATISFIABLE, RangeRequest.evaluate("bytes=5368709120-", FIVE_GIB, MAX));
        assertEquals(partial(FIVE_GIB - 1, FIVE_GIB - 1, 0, 0),
                RangeRequest.evaluate("bytes=5368709119-,0-0", FIVE_GIB, MAX));
    }

    @Test
    void contentRangeOfAPart() {
        assertEquals("bytes 0-499/10000", RangeRequest.contentRange(new ByteRange(0, 499), 10_000));
        assertEquals("bytes 4294967296-4294967305/5368709120",
                RangeRequest.contentRange(new ByteRange(FOUR_GIB, FOUR_GIB + 9), FIVE_GIB));
    }

    @Test
    void contentRangeOfAnUnsatisfiedRequest() {
        assertEquals("bytes */10000", RangeRequest.unsatisfiedContentRange(10_000));
        assertEquals("bytes */0", RangeRequest.unsatisfiedContentRange(0));
    }

    @Test
    void byteRangeLengthIsInclusive() {
        assertEquals(1, new ByteRange(7, 7).length());
        assertEquals(FIVE_GIB, new ByteRange(0, FIVE_GIB - 1).length());
    }

    @Test
    void byteRangeRejectsImpossibleOffsets() {
        assertThrows(IllegalArgumentException.class, () -> new ByteRange(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ByteRange(5, 4));
        assertThrows(IllegalArgumentException.class, () -> new ByteRange(0, Long.MAX_VALUE));
    }

    @Test
    void partialNeedsAtLeastOneRange() {
        assertThrows(IllegalArgumentException.class, () -> new RangeOutcome.Partial(List.of()));
    }

    private static RangeOutcome evaluate(String header) {
        return RangeRequest.evaluate(header, LENGTH, MAX);
    }

    private static RangeOutcome partial(long... firstLastPairs) {
        List<ByteRange> ranges = new ArrayList<>();
        for (int i = 0; i < firstLastPairs.length; i += 2) {
            ranges.add(new ByteRange(firstLastPairs[i], firstLastPairs[i + 1]));
        }
        return new RangeOutcome.Partial(ranges);
    }
}
