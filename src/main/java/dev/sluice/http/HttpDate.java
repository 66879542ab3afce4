package dev.sluice.http;

import static java.time.temporal.ChronoField.DAY_OF_MONTH;
import static java.time.temporal.ChronoField.DAY_OF_WEEK;
import static java.time.temporal.ChronoField.HOUR_OF_DAY;
import static java.time.temporal.ChronoField.MINUTE_OF_HOUR;
import static java.time.temporal.ChronoField.MONTH_OF_YEAR;
import static java.time.temporal.ChronoField.SECOND_OF_MINUTE;
import static java.time.temporal.ChronoField.YEAR;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.chrono.IsoChronology;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.format.SignStyle;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Formats and parses HTTP-date values (RFC 9110 Section 5.6.7).
 *
 * <p>Day and month names come from fixed English tables, never from the default locale, and all
 * formatters are immutable, so the class is thread-safe.
 */
public final class HttpDate {

    private static final Map<Long, String> SHORT_DAY_NAMES = Map.of(
            1L, "Mon", 2L, "Tue", 3L, "Wed", 4L, "Thu", 5L, "Fri", 6L, "Sat", 7L, "Sun");

    private static final Map<Long, String> LONG_DAY_NAMES = Map.of(
            1L, "Monday", 2L, "Tuesday", 3L, "Wednesday", 4L, "Thursday", 5L, "Friday",
            6L, "Saturday", 7L, "Sunday");

    private static final Map<Long, String> MONTH_NAMES = Map.ofEntries(
            Map.entry(1L, "Jan"), Map.entry(2L, "Feb"), Map.entry(3L, "Mar"), Map.entry(4L, "Apr"),
            Map.entry(5L, "May"), Map.entry(6L, "Jun"), Map.entry(7L, "Jul"), Map.entry(8L, "Aug"),
            Map.entry(9L, "Sep"), Map.entry(10L, "Oct"), Map.entry(11L, "Nov"), Map.entry(12L, "Dec"));

    /** {@code IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT}. */
    private static final DateTimeFormatter IMF_FIXDATE = strict(new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendText(DAY_OF_WEEK, SHORT_DAY_NAMES).appendLiteral(", ")
            .appendValue(DAY_OF_MONTH, 2).appendLiteral(' ')
            .appendText(MONTH_OF_YEAR, MONTH_NAMES).appendLiteral(' ')
            .appendValue(YEAR, 4).appendLiteral(' ')
            .append(timeOfDay())
            .appendLiteral(" GMT"));

    /** {@code asctime-date = day-name SP date3 SP time-of-day SP year}. */
    private static final DateTimeFormatter ASCTIME = strict(new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendText(DAY_OF_WEEK, SHORT_DAY_NAMES).appendLiteral(' ')
            .appendText(MONTH_OF_YEAR, MONTH_NAMES).appendLiteral(' ')
            .padNext(2, ' ').appendValue(DAY_OF_MONTH, 1, 2, SignStyle.NOT_NEGATIVE).appendLiteral(' ')
            .append(timeOfDay()).appendLiteral(' ')
            .appendValue(YEAR, 4));

    private static final long MIN_FORMATTABLE_SECOND =
            LocalDateTime.of(0, 1, 1, 0, 0, 0).toEpochSecond(ZoneOffset.UTC);

    private static final long MAX_FORMATTABLE_SECOND =
            LocalDateTime.of(9999, 12, 31, 23, 59, 59).toEpochSecond(ZoneOffset.UTC);

    private HttpDate() {
    }

    /**
     * Formats an instant as an IMF-fixdate, the only form a sender may generate
     * (RFC 9110 Section 5.6.7), for example {@code Sun, 06 Nov 1994 08:49:37 GMT}.
     *
     * <p>Milliseconds are truncated towards the past, since HTTP-date has whole-second precision.
     * IMF-fixdate has a four-digit year, so instants before year 0000 or after year 9999 are
     * clamped to the first or last second of that range.
     *
     * @param epochMillis milliseconds since 1970-01-01T00:00:00Z
     * @return the IMF-fixdate, always in English and GMT
     */
    public static String format(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000L);
        long clamped = Math.max(MIN_FORMATTABLE_SECOND, Math.min(MAX_FORMATTABLE_SECOND, second));
        return IMF_FIXDATE.format(LocalDateTime.ofEpochSecond(clamped, 0, ZoneOffset.UTC));
    }

    /**
     * Parses an HTTP-date in any of the three forms a recipient must accept
     * (RFC 9110 Section 5.6.7): IMF-fixdate, the obsolete RFC 850 form and ANSI C asctime.
     *
     * <p>Surrounding spaces and tabs are ignored and day and month names are matched without regard
     * to case. Everything else follows the grammar exactly: fixed field widths, a single space as
     * separator, a literal {@code GMT}, no leap second ({@code :60}) and a day name that agrees
     * with the date, so {@code Mon, 06 Nov 1994 08:49:37 GMT} is rejected because that day was a
     * Sunday. The two-digit year of the RFC 850 form is read as the matching year in the window
     * from 49 years before to 50 years after the current year, so a year that would appear more
     * than 50 years in the future belongs to the previous century (RFC 9110 Section 5.6.7).
     *
     * @param value a field value, possibly {@code null}
     * @return the instant in epoch milliseconds (a whole number of seconds), or empty if the value
     *     is absent or not a valid HTTP-date, which recipients ignore (RFC 9110 Section 5.6.7)
     */
    public static OptionalLong parse(String value) {
        return parse(value, Clock.systemUTC());
    }

    static OptionalLong parse(String value, Clock clock) {
        if (value == null) {
            return OptionalLong.empty();
        }
        String text = HeaderSyntax.trimOws(value);
        int comma = text.indexOf(',');
        DateTimeFormatter formatter;
        if (comma < 0) {
            formatter = ASCTIME;
        } else if (comma == 3) {
            formatter = IMF_FIXDATE;
        } else {
            formatter = rfc850(LocalDateTime.now(clock).getYear());
        }
        try {
            LocalDateTime dateTime = formatter.parse(text, LocalDateTime::from);
            return OptionalLong.of(dateTime.toEpochSecond(ZoneOffset.UTC) * 1000L);
        } catch (DateTimeException e) {
            return OptionalLong.empty();
        }
    }

    /** {@code rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT}. */
    private static DateTimeFormatter rfc850(int currentYear) {
        return strict(new DateTimeFormatterBuilder()
                .parseCaseInsensitive()
                .appendText(DAY_OF_WEEK, LONG_DAY_NAMES).appendLiteral(", ")
                .appendValue(DAY_OF_MONTH, 2).appendLiteral('-')
                .appendText(MONTH_OF_YEAR, MONTH_NAMES).appendLiteral('-')
                .appendValueReduced(YEAR, 2, 2, currentYear - 49).appendLiteral(' ')
                .append(timeOfDay())
                .appendLiteral(" GMT"));
    }

    private static DateTimeFormatter timeOfDay() {
        return new DateTimeFormatterBuilder()
                .appendValue(HOUR_OF_DAY, 2).appendLiteral(':')
                .appendValue(MINUTE_OF_HOUR, 2).appendLiteral(':')
                .appendValue(SECOND_OF_MINUTE, 2)
                .toFormatter(Locale.ROOT);
    }

    private static DateTimeFormatter strict(DateTimeFormatterBuilder builder) {
        return builder.toFormatter(Locale.ROOT)
                .withChronology(IsoChronology.INSTANCE)
                .withResolverStyle(ResolverStyle.STRICT);
    }
}
