package dev.sluice.http;

import static dev.sluice.http.Preconditions.Decision.CONTINUE;
import static dev.sluice.http.Preconditions.Decision.NOT_MODIFIED;
import static dev.sluice.http.Preconditions.Decision.PRECONDITION_FAILED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.Preconditions.Decision;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PreconditionsTest {

    /** Last modified half a second into 08:49:37, so whole-second truncation is observable. */
    private static final long LAST_MODIFIED = 784_111_777_500L;
    private static final String AT = "Sun, 06 Nov 1994 08:49:37 GMT";
    private static final String BEFORE = "Sun, 06 Nov 1994 08:49:36 GMT";
    private static final String AFTER = "Sun, 06 Nov 1994 08:49:38 GMT";
    private static final String CURRENT = "\"abc\"";
    private static final String WEAK_CURRENT = "W/\"abc\"";
    private static final String OTHER = "\"xyz\"";
    private static final long LONG_AFTER = LAST_MODIFIED + 86_400_000L;

    private static final Validators VALIDATORS = new Validators(new EntityTag("abc", false), LAST_MODIFIED);
    private static final Validators WITHOUT_ETAG = new Validators(null, LAST_MODIFIED);

    private static Decision get(ConditionalHeaders headers) {
        return Preconditions.evaluate(VALIDATORS, headers, true);
    }

    private static Decision put(ConditionalHeaders headers) {
        return Preconditions.evaluate(VALIDATORS, headers, false);
    }

    private static ConditionalHeaders ifMatch(String value) {
        return new ConditionalHeaders(value, null, null, null, null);
    }

    private static ConditionalHeaders ifNoneMatch(String value) {
        return new ConditionalHeaders(null, value, null, null, null);
    }

    private static ConditionalHeaders ifModifiedSince(String value) {
        return new ConditionalHeaders(null, null, value, null, null);
    }

    private static ConditionalHeaders ifUnmodifiedSince(String value) {
        return new ConditionalHeaders(null, null, null, value, null);
    }

    @Test
    void withoutValidatorsOnlyTheWildcardsAndIfMatchsTagsDecide() {
        assertEquals(CONTINUE, Preconditions.evaluateWithoutValidators(ConditionalHeaders.none(), true));
        assertEquals(PRECONDITION_FAILED, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders("\"x\"", null, null, null, null), true), "no tag to match");
        assertEquals(PRECONDITION_FAILED, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders("W/\"x\", \"y\"", null, null, null, null), true));
        assertEquals(CONTINUE, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders("*", null, null, null, null), true), "it exists");
        assertEquals(NOT_MODIFIED, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders(null, "*", null, null, null), true));
        assertEquals(PRECONDITION_FAILED, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders(null, "*", null, null, null), false));
        assertEquals(CONTINUE, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders(null, "\"x\"", null, null, null), true), "no tag matches");
        assertEquals(CONTINUE, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders(null, null, "Sun, 06 Nov 2101 08:49:37 GMT",
                        "Sun, 06 Nov 1994 08:49:37 GMT", null), true), "no date to compare");
        assertEquals(PRECONDITION_FAILED, Preconditions.evaluateWithoutValidators(
                new ConditionalHeaders("\"x\"", "*", null, null, null), true), "If-Match first");
    }

    @Test
    void noConditionsContinue() {
        assertEquals(CONTINUE, get(ConditionalHeaders.none()));
        assertEquals(CONTINUE, put(ConditionalHeaders.none()));
    }

    @Nested
    class IfMatch {

        @Test
        void wildcardHoldsForAnExistingRepresentation() {
            assertEquals(CONTINUE, get(ifMatch("*")));
            assertEquals(CONTINUE, Preconditions.evaluate(WITHOUT_ETAG, ifMatch("*"), false));
        }

        @Test
        void strongMatchInAListWithSpacesHolds() {
            assertEquals(CONTINUE, get(ifMatch(CURRENT)));
            assertEquals(CONTINUE, put(ifMatch(OTHER + " ,\t" + CURRENT + " , ")));
        }

        @Test
        void noMatchFails() {
            assertEquals(PRECONDITION_FAILED, get(ifMatch(OTHER)));
            assertEquals(PRECONDITION_FAILED, put(ifMatch(OTHER + ", \"abcd\"")));
        }

        @Test
        void weakTagNeverMatchesBecauseComparisonIsStrong() {
            assertEquals(PRECONDITION_FAILED, get(ifMatch(WEAK_CURRENT)));
            Validators weakCurrent = new Validators(new EntityTag("abc", true), LAST_MODIFIED);
            assertEquals(PRECONDITION_FAILED, Preconditions.evaluate(weakCurrent, ifMatch(CURRENT), true));
            assertEquals(PRECONDITION_FAILED, Preconditions.evaluate(weakCurrent, ifMatch(WEAK_CURRENT), true));
        }

        @Test
        void representationWithoutEtagMatchesNoTag() {
            assertEquals(PRECONDITION_FAILED, Preconditions.evaluate(WITHOUT_ETAG, ifMatch(CURRENT), true));
        }

        /** Decision: an If-Match that is present but unparsable or empty fails, as in Apache httpd. */
        @ParameterizedTest
        @ValueSource(strings = {"abc", "\"abc", "\"abc\" \"x\"", "*, \"abc\"", "", " "})
        void invalidOrEmptyValueFails(String value) {
            assertEquals(PRECONDITION_FAILED, get(ifMatch(value)));
        }
    }

    @Nested
    class IfUnmodifiedSince {

        @Test
        void modifiedAfterTheDateFails() {
            assertEquals(PRECONDITION_FAILED, get(ifUnmodifiedSince(BEFORE)));
            assertEquals(PRECONDITION_FAILED, put(ifUnmodifiedSince(BEFORE)));
        }

        @Test
        void sameSecondOrLaterHoldsBecauseComparisonUsesWholeSeconds() {
            assertEquals(CONTINUE, put(ifUnmodifiedSince(AT)));
            assertEquals(CONTINUE, put(ifUnmodifiedSince(AFTER)));
        }

        @ParameterizedTest
        @ValueSource(strings = {"yesterday", "", "Sun, 06 Nov 1994 08:49:36 GMT, Sun, 06 Nov 1994 08:49:36 GMT"})
        void invalidDateIsIgnored(String value) {
            assertEquals(CONTINUE, put(ifUnmodifiedSince(value)));
        }

        @Test
        void isIgnoredWhenIfMatchIsPresent() {
            assertEquals(CONTINUE, put(new ConditionalHeaders(CURRENT, null, null, BEFORE, null)));
            assertEquals(CONTINUE, put(new ConditionalHeaders("*", null, null, BEFORE, null)));
        }

        @Test
        void failingIfMatchIsNotRescuedByIt() {
            assertEquals(PRECONDITION_FAILED, put(new ConditionalHeaders(OTHER, null, null, AFTER, null)));
        }
    }

    @Nested
    class IfNoneMatch {

        @Test
        void matchIsNotModifiedForGetAndHead() {
            assertEquals(NOT_MODIFIED, get(ifNoneMatch(CURRENT)));
        }

        @Test
        void matchFailsForOtherMethods() {
            assertEquals(PRECONDITION_FAILED, put(ifNoneMatch(CURRENT)));
        }

        @Test
        void comparisonIsWeak() {
            assertEquals(NOT_MODIFIED, get(ifNoneMatch(WEAK_CURRENT)));
            Validators weakCurrent = new Validators(new EntityTag("abc", true), LAST_MODIFIED);
            assertEquals(NOT_MODIFIED, Preconditions.evaluate(weakCurrent, ifNoneMatch(CURRENT), true));
        }

        @Test
        void matchAnywhereInAListWithSpaces() {
            assertEquals(NOT_MODIFIED, get(ifNoneMatch(OTHER + " , " + WEAK_CURRENT)));
        }

        @Test
        void wildcardMatchesAnExistingRepresentation() {
            assertEquals(NOT_MODIFIED, get(ifNoneMatch(" * ")));
            assertEquals(PRECONDITION_FAILED, put(ifNoneMatch("*")));
        }

        @Test
        void noMatchContinues() {
            assertEquals(CONTINUE, get(ifNoneMatch(OTHER)));
            assertEquals(CONTINUE, put(ifNoneMatch(OTHER)));
            assertEquals(CONTINUE, Preconditions.evaluate(WITHOUT_ETAG, ifNoneMatch(CURRENT), true));
        }

        /** Decision: an unparsable If-None-Match matches nothing, so the full representation is sent. */
        @ParameterizedTest
        @ValueSource(strings = {"abc", "\"abc", "\"abc\" \"abc\"", "*, \"abc\"", ""})
        void invalidValueMatchesNothing(String value) {
            assertEquals(CONTINUE, get(ifNoneMatch(value)));
        }

        @Test
        void takesPrecedenceOverIfModifiedSince() {
            assertEquals(CONTINUE, get(new ConditionalHeaders(null, OTHER, AFTER, null, null)));
            assertEquals(CONTINUE, get(new ConditionalHeaders(null, "garbage", AFTER, null, null)));
            assertEquals(NOT_MODIFIED, get(new ConditionalHeaders(null, CURRENT, BEFORE, null, null)));
        }
    }

    @Nested
    class IfModifiedSince {

        @Test
        void notModifiedSinceTheDateIsNotModified() {
            assertEquals(NOT_MODIFIED, get(ifModifiedSince(AFTER)));
        }

        @Test
        void sameSecondIsNotModifiedBecauseComparisonUsesWholeSeconds() {
            assertEquals(NOT_MODIFIED, get(ifModifiedSince(AT)));
        }

        @Test
        void acceptsTheObsoleteDateForms() {
            assertEquals(NOT_MODIFIED, get(ifModifiedSince("Sunday, 06-Nov-94 08:49:37 GMT")));
            assertEquals(NOT_MODIFIED, get(ifModifiedSince("Sun Nov  6 08:49:37 1994")));
        }

        @Test
        void truncationOfAModificationTimeBefore1970IsTowardsThePast() {
            Validators beforeEpoch = new Validators(null, -1500);
            assertEquals(NOT_MODIFIED,
                    Preconditions.evaluate(beforeEpoch, ifModifiedSince("Wed, 31 Dec 1969 23:59:58 GMT"), true));
            assertEquals(CONTINUE,
                    Preconditions.evaluate(beforeEpoch, ifModifiedSince("Wed, 31 Dec 1969 23:59:57 GMT"), true));
        }

        @Test
        void modifiedSinceTheDateContinues() {
            assertEquals(CONTINUE, get(ifModifiedSince(BEFORE)));
        }

        @Test
        void invalidDateIsIgnored() {
            assertEquals(CONTINUE, get(ifModifiedSince("Sun, 06 Nov 1994 25:49:37 GMT")));
        }

        @Test
        void isIgnoredForMethodsOtherThanGetAndHead() {
            assertEquals(CONTINUE, put(ifModifiedSince(AFTER)));
        }

        @Test
        void appliesAfterASuccessfulIfMatch() {
            assertEquals(NOT_MODIFIED, get(new ConditionalHeaders(CURRENT, null, AFTER, null, null)));
        }
    }

    @Nested
    class Precedence {

        @Test
        void failedIfMatchWinsOverMatchingIfNoneMatch() {
            assertEquals(PRECONDITION_FAILED, get(new ConditionalHeaders(OTHER, CURRENT, null, null, null)));
        }

        @Test
        void failedIfUnmodifiedSinceWinsOverIfModifiedSince() {
            assertEquals(PRECONDITION_FAILED, get(new ConditionalHeaders(null, null, AFTER, BEFORE, null)));
        }

        @Test
        void failedIfUnmodifiedSinceWinsOverMatchingIfNoneMatch() {
            assertEquals(PRECONDITION_FAILED, get(new ConditionalHeaders(null, CURRENT, null, BEFORE, null)));
        }

        @Test
        void passingIfMatchThenMatchingIfNoneMatch() {
            assertEquals(NOT_MODIFIED, get(new ConditionalHeaders(CURRENT, CURRENT, null, null, null)));
            assertEquals(PRECONDITION_FAILED, put(new ConditionalHeaders(CURRENT, CURRENT, null, null, null)));
        }

        @Test
        void ifRangeDoesNotAffectEvaluation() {
            assertEquals(CONTINUE, get(new ConditionalHeaders(null, null, null, null, OTHER)));
        }
    }

    @Nested
    class IfRange {

        private boolean allows(String ifRange) {
            return Preconditions.ifRangeAllows(ifRange, VALIDATORS, LONG_AFTER);
        }

        @Test
        void absentAllows() {
            assertTrue(allows(null));
            assertTrue(Preconditions.ifRangeAllows(null, VALIDATORS));
        }

        @Test
        void strongTagMustMatchStrongly() {
            assertTrue(allows(CURRENT));
            assertTrue(allows(" " + CURRENT + "\t"));
            assertFalse(allows(OTHER));
            assertFalse(Preconditions.ifRangeAllows(CURRENT, WITHOUT_ETAG, LONG_AFTER));
        }

        @Test
        void weakTagNeverMatches() {
            assertFalse(allows(WEAK_CURRENT));
            Validators weakCurrent = new Validators(new EntityTag("abc", true), LAST_MODIFIED);
            assertFalse(Preconditions.ifRangeAllows(CURRENT, weakCurrent, LONG_AFTER));
        }

        @Test
        void dateMustEqualLastModifiedToTheSecond() {
            assertTrue(allows(AT));
            assertTrue(allows("Sunday, 06-Nov-94 08:49:37 GMT"));
            assertFalse(allows(BEFORE));
            assertFalse(allows(AFTER));
        }

        @Test
        void twoArgumentFormUsesTheCurrentTime() {
            assertTrue(Preconditions.ifRangeAllows(AT, VALIDATORS));
            assertTrue(Preconditions.ifRangeAllows(CURRENT, VALIDATORS));
        }

        @Test
        void dateOfARepresentationModifiedWithinTheLastSecondIsWeak() {
            assertFalse(Preconditions.ifRangeAllows(AT, VALIDATORS, LAST_MODIFIED + 999));
            assertTrue(Preconditions.ifRangeAllows(AT, VALIDATORS, LAST_MODIFIED + 1000));
            assertFalse(Preconditions.ifRangeAllows(AT, VALIDATORS, LAST_MODIFIED - 5000));
            assertFalse(Preconditions.ifRangeAllows(AT, VALIDATORS, Long.MIN_VALUE));
        }

        @ParameterizedTest
        @ValueSource(strings = {"", " ", "abc", "*", "\"abc", "\"abc\", \"xyz\"", "W/", "w/\"abc\"", "0", "yesterday"})
        void anythingElseServesTheWholeRepresentation(String value) {
            assertFalse(allows(value));
        }
    }
}
