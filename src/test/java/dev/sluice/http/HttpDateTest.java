package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDateTest {

    /** Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110 Section 5.6.7. */
    private static final long EXAMPLE_MILLIS = 784_111_777_000L;

    private static final Clock IN_2025 = Clock.fixed(Instant.parse("2025-06-15T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void parsesAllThreeFormsOfTheRfcExampleToTheSameInstant() {
        assertEquals(OptionalLong.of(EXAMPLE_MILLIS), HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(OptionalLong.of(EXAMPLE_MILLIS), HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"));
        assertEquals(OptionalLong.of(EXAMPLE_MILLIS), HttpDate.parse("Sun Nov  6 08:49:37 1994"));
    }

    @Test
    void formatsTheRfcExampleAsImfFixdate() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(EXAMPLE_MILLIS));
    }

    @Test
    void formatTruncatesMillisecondsTowardsThePast() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(EXAMPLE_MILLIS + 999));
        assertEquals("Wed, 31 Dec 1969 23:59:59 GMT", HttpDate.format(-1));
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", HttpDate.format(0));
    }

    @Test
    void formatIsEnglishWhateverTheDefaultLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(EXAMPLE_MILLIS));
            Locale.setDefault(new Locale("ar", "SA"));
            assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(EXAMPLE_MILLIS));
        } finally {
            Locale.setDefault(saved);
        }
    }

    @Test
    void formatClampsToFourDigitYears() {
        assertEquals("Fri, 31 Dec 9999 23:59:59 GMT", HttpDate.format(Long.MAX_VALUE));
        assertEquals("Sat, 01 Jan 0000 00:00:00 GMT", HttpDate.format(Long.MIN_VALUE));
    }

    @Test
    void formatThenParseRoundTripsToWholeSeconds() {
        Random random = new Random(7);
        long max = Instant.parse("9999-12-31T23:59:59Z").toEpochMilli();
        long min = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 5_000; i++) {
            long millis = min + (long) (random.nextDouble() * (max - min));
            String formatted = HttpDate.format(millis);
            assertEquals(OptionalLong.of(Math.floorDiv(millis, 1000) * 1000), HttpDate.parse(formatted), formatted);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",
        "sun, 06 nov 1994 08:49:37 gmt",
        "SUN, 06 NOV 1994 08:49:37 GMT",
        "SUNDAY, 06-NOV-94 08:49:37 GMT",
        "sun nov  6 08:49:37 1994",
        "Sun Nov 06 08:49:37 1994",
    })
    void toleratesSurroundingWhitespaceAndAnyCaseInNames(String value) {
        assertEquals(OptionalLong.of(EXAMPLE_MILLIS), HttpDate.parse(value));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {
        "   ",
        "garbage",
        "784111777",
        "Sun, 06 Nov 1994 25:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06 November 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun\tNov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 GMT\u0000",
        "\u0661\u0669\u0669\u0664",
    })
    void rejectsMalformedDates(String value) {
        assertEquals(OptionalLong.empty(), HttpDate.parse(value));
    }

    /** Decision: a day name that contradicts the date makes the value invalid, in every form. */
    @ParameterizedTest
    @ValueSource(strings = {
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Monday, 06-Nov-94 08:49:37 GMT",
        "Mon Nov  6 08:49:37 1994",
    })
    void rejectsAWeekdayThatDisagreesWithTheDate(String value) {
        assertEquals(OptionalLong.empty(), HttpDate.parse(value));
    }

    @Test
    void acceptsLeapDaysOnlyInLeapYears() {
        assertEquals(OptionalLong.of(Instant.parse("2024-02-29T00:00:00Z").toEpochMilli()),
                HttpDate.parse("Thu, 29 Feb 2024 00:00:00 GMT"));
        assertEquals(OptionalLong.empty(), HttpDate.parse("Thu, 29 Feb 2023 00:00:00 GMT"));
    }

    @Test
    void twoDigitYearUpToFiftyYearsAheadStaysInTheFuture() {
        assertEquals(OptionalLong.of(millis(2075)), HttpDate.parse(rfc850(2075), IN_2025));
    }

    @Test
    void twoDigitYearMoreThanFiftyYearsAheadIsInThePastCentury() {
        assertEquals(OptionalLong.of(millis(1976)), HttpDate.parse(rfc850(1976), IN_2025));
        assertEquals(OptionalLong.of(millis(1999)), HttpDate.parse(rfc850(1999), IN_2025));
    }

    @Test
    void twoDigitYearOfTheRecentPastAndPresentIsInThisCentury() {
        assertEquals(OptionalLong.of(millis(2000)), HttpDate.parse(rfc850(2000), IN_2025));
        assertEquals(OptionalLong.of(millis(2025)), HttpDate.parse(rfc850(2025), IN_2025));
    }

    @Test
    void twoDigitYearWindowMovesWithTheClock() {
        Clock in2080 = Clock.fixed(Instant.parse("2080-01-01T00:00:00Z"), ZoneOffset.UTC);
        assertEquals(OptionalLong.of(millis(2120)), HttpDate.parse(rfc850(2120), in2080));
        assertEquals(OptionalLong.of(millis(2031)), HttpDate.parse(rfc850(2031), in2080));
        assertEquals(OptionalLong.of(millis(2040)), HttpDate.parse(rfc850(2040), in2080));
    }

    @Test
    void parsedValuesAreWholeSeconds() {
        OptionalLong parsed = HttpDate.parse("Sat, 01 Jan 2000 00:00:01 GMT");
        assertTrue(parsed.isPresent());
        assertEquals(0, parsed.getAsLong() % 1000);
        assertEquals(946_684_801_000L, parsed.getAsLong());
    }

    /** The RFC 850 form of 6 November at 08:49:37 in {@code year}, with the correct day name. */
    private static String rfc850(int year) {
        DayOfWeek day = LocalDate.of(year, 11, 6).getDayOfWeek();
        return day.getDisplayName(TextStyle.FULL, Locale.ENGLISH) + ", 06-Nov-"
                + String.format(Locale.ROOT, "%02d", year % 100) + " 08:49:37 GMT";
    }

    private static long millis(int year) {
        return Instant.parse(year + "-11-06T08:49:37Z").toEpochMilli();
    }
}
