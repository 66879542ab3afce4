package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.Preconditions.Decision;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Seeded random headers: the parsers never throw and their results always keep their invariants. */
class HeaderFuzzTest {

    private static final int RUNS = 20_000;

    private static final long[] LENGTHS = {0, 1, -1, (1L << 31) + 7, 5L << 30};

    private static final String[] RANGE_PIECES = {
        "bytes", "BYTES", "=", "-", ",", " ", "items", "\t", ";", "*", "#DIGITS",
    };

    private static final String[] CONDITION_PIECES = {
        "\"", "W/", "w/", "*", ",", " ", "\t", "abc", "xyz", "\u00e9", "\u0001", "\u0100", "#DIGITS", "#DATE",
        "GMT", "Sun", "Nov", "-", ":",
    };

    @Test
    void randomRangeHeadersNeverThrowAndPartialsAreWellFormed() {
        Random random = new Random(0x5111CEL);
        Map<Class<?>, Integer> seen = new HashMap<>();
        for (int run = 0; run < RUNS; run++) {
            String header = random.nextBoolean() ? concatenate(random, RANGE_PIECES, 12) : nearlyValidRange(random);
            long length = representationLength(random);
            int maxRanges = random.nextInt(14) - 1;
            RangeOutcome outcome = assertDoesNotThrow(() -> RangeRequest.evaluate(header, length, maxRanges), header);
            assertNotNull(outcome, header);
            seen.merge(outcome.getClass(), 1, Integer::sum);
            if (outcome instanceof RangeOutcome.Partial partial) {
                assertWellFormed(partial, length, maxRanges, header);
            }
        }
        assertTrue(seen.getOrDefault(RangeOutcome.Partial.class, 0) > RUNS / 10, "too few partial outcomes: " + seen);
        assertTrue(seen.getOrDefault(RangeOutcome.Unsatisfiable.class, 0) > RUNS / 100, "too few unsatisfiable: " + seen);
        assertTrue(seen.getOrDefault(RangeOutcome.Full.class, 0) > RUNS / 10, "too few full outcomes: " + seen);
    }

    /** Valid range sets on small representations agree with a byte-by-byte model of RFC 9110 Section 14.1.2. */
    @Test
    void validRangeSetsSelectExactlyTheRequestedBytes() {
        Random random = new Random(42);
        for (int run = 0; run < RUNS; run++) {
            int length = random.nextInt(40);
            int maxRanges = 1 + random.nextInt(8);
            int specs = 1 + random.nextInt(10);
            boolean[] selected = new boolean[length];
            boolean suffixOfEmpty = false;
            List<String> parts = new ArrayList<>();
            for (int s = 0; s < specs; s++) {
                int kind = random.nextInt(3);
                int a = random.nextInt(50);
                int b = a + random.nextInt(50);
                if (kind == 0) {
                    parts.add(a + "-" + b);
                    mark(selected, a, Math.min(b, length - 1));
                } else if (kind == 1) {
                    parts.add(a + "-");
                    mark(selected, a, length - 1);
                } else {
                    parts.add("-" + a);
                    mark(selected, Math.max(0, length - a), a == 0 ? -1 : length - 1);
                    suffixOfEmpty |= length == 0 && a > 0;
                }
            }
            String header = "bytes=" + String.join(random.nextBoolean() ? "," : " ,\t", parts);
            RangeOutcome expected = specs > maxRanges || suffixOfEmpty ? new RangeOutcome.Full() : model(selected);
            assertEquals(expected, byOffset(RangeRequest.evaluate(header, length, maxRanges)), header + " on " + length);
        }
    }

    @Test
    void randomConditionalHeadersNeverThrow() {
        Random random = new Random(0xC0FFEE);
        Map<Decision, Integer> seen = new EnumMap<>(Decision.class);
        int rangesAllowed = 0;
        for (int run = 0; run < RUNS; run++) {
            Validators validators = new Validators(entityTag(random), lastModified(random));
            ConditionalHeaders headers = new ConditionalHeaders(
                    conditionValue(random), conditionValue(random), conditionValue(random),
                    conditionValue(random), conditionValue(random));
            boolean getOrHead = random.nextBoolean();
            long now = random.nextInt(10) == 0 ? Long.MIN_VALUE : random.nextLong();
            Decision decision = assertDoesNotThrow(
                    () -> Preconditions.evaluate(validators, headers, getOrHead), headers::toString);
            assertNotNull(decision);
            if (!getOrHead) {
                assertNotEquals(Decision.NOT_MODIFIED, decision, headers::toString);
            }
            seen.merge(decision, 1, Integer::sum);
            assertDoesNotThrow(() -> Preconditions.ifRangeAllows(headers.ifRange(), validators), headers::toString);
            if (assertDoesNotThrow(() -> Preconditions.ifRangeAllows(headers.ifRange(), validators, now))) {
                rangesAllowed++;
            }
        }
        assertEquals(Decision.values().length, seen.size(), "every decision should occur: " + seen);
        assertTrue(rangesAllowed > 0 && rangesAllowed < RUNS, "If-Range always gave the same answer");
    }

    @Test
    void randomEntityTagListsNeverThrowAndRoundTrip() {
        Random random = new Random(7);
        int valid = 0;
        for (int run = 0; run < RUNS; run++) {
            String value = random.nextBoolean() ? concatenate(random, CONDITION_PIECES, 10) : nearlyValidTagList(random);
            Optional<List<EntityTag>> tags = assertDoesNotThrow(() -> EntityTag.parseList(value), value);
            assertDoesNotThrow(() -> EntityTag.parse(value), value);
            assertDoesNotThrow(() -> EntityTag.isAny(value), value);
            if (tags.isPresent()) {
                valid++;
                String serialized = tags.get().stream().map(EntityTag::toHeaderValue).collect(Collectors.joining(", "));
                assertEquals(tags, EntityTag.parseList(serialized), value);
            }
        }
        assertTrue(valid > RUNS / 10, "too few valid lists: " + valid);
    }

    @Test
    void randomDatesNeverThrow() {
        Random random = new Random(11);
        int valid = 0;
        for (int run = 0; run < RUNS; run++) {
            String value = random.nextBoolean() ? concatenate(random, CONDITION_PIECES, 8) : mutatedDate(random);
            if (assertDoesNotThrow(() -> HttpDate.parse(value), value).isPresent()) {
                valid++;
            }
        }
        assertTrue(valid > 0 && valid < RUNS, "parse gave the same answer every time: " + valid);
    }

    /** The outcome with its ranges sorted by offset: parts come in request order, the model knows none. */
    private static RangeOutcome byOffset(RangeOutcome outcome) {
        if (outcome instanceof RangeOutcome.Partial partial) {
            List<ByteRange> sorted = new ArrayList<>(partial.ranges());
            sorted.sort(java.util.Comparator.comparingLong(ByteRange::first));
            return new RangeOutcome.Partial(sorted);
        }
        return outcome;
    }

    /** In range order, well formed; by offset, no two ranges overlap or touch. */
    private static void assertWellFormed(RangeOutcome.Partial partial, long length, int maxRanges, String header) {
        List<ByteRange> ranges = ((RangeOutcome.Partial) byOffset(partial)).ranges();
        String context = header + " on " + length + " max " + maxRanges + " -> " + ranges;
        assertTrue(!ranges.isEmpty() && ranges.size() <= maxRanges, context);
        long total = 0;
        ByteRange previous = null;
        for (ByteRange range : ranges) {
            assertTrue(0 <= range.first() && range.first() <= range.last() && range.last() < length, context);
            if (previous != null) {
                assertTrue(range.first() > previous.last() + 1, context);
            }
            total += range.length();
            previous = range;
        }
        assertTrue(total <= length, context);
        assertEquals(total, partial.totalBytes(), context);
    }

    private static RangeOutcome model(boolean[] selected) {
        List<ByteRange> runs = new ArrayList<>();
        int i = 0;
        while (i < selected.length) {
            if (!selected[i]) {
                i++;
                continue;
            }
            int start = i;
            while (i < selected.length && selected[i]) {
                i++;
            }
            runs.add(new ByteRange(start, i - 1));
        }
        return runs.isEmpty() ? new RangeOutcome.Unsatisfiable() : new RangeOutcome.Partial(runs);
    }

    private static void mark(boolean[] selected, int first, int last) {
        for (int i = first; i <= last && i < selected.length; i++) {
            selected[i] = true;
        }
    }

    private static long representationLength(Random random) {
        return random.nextInt(4) == 0 ? 2 + random.nextInt(5000) : LENGTHS[random.nextInt(LENGTHS.length)];
    }

    private static String concatenate(Random random, String[] pieces, int maxPieces) {
        StringBuilder out = new StringBuilder();
        int count = random.nextInt(maxPieces + 1);
        for (int i = 0; i < count; i++) {
            out.append(expand(random, pieces[random.nextInt(pieces.length)]));
        }
        return out.toString();
    }

    private static String expand(Random random, String piece) {
        switch (piece) {
            case "#DIGITS":
                return digits(random);
            case "#DATE":
                return HttpDate.format(random.nextLong());
            default:
                return piece;
        }
    }

    /** Mostly 1 to 4 digits, sometimes up to 25, so positions of 19 digits and more occur. */
    private static String digits(Random random) {
        int count = random.nextInt(5) == 0 ? 1 + random.nextInt(25) : 1 + random.nextInt(4);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < count; i++) {
            out.append((char) ('0' + random.nextInt(10)));
        }
        return out.toString();
    }

    private static String position(Random random) {
        return random.nextInt(6) == 0 ? digits(random) : Long.toString(random.nextInt(6000));
    }

    private static String nearlyValidRange(Random random) {
        StringBuilder out = new StringBuilder(random.nextBoolean() ? "bytes=" : "BYTES=");
        int specs = 1 + (random.nextInt(4) == 0 ? random.nextInt(15) : random.nextInt(4));
        for (int s = 0; s < specs; s++) {
            if (s > 0) {
                out.append(random.nextBoolean() ? "," : " ,\t");
            }
            switch (random.nextInt(3)) {
                case 0:
                    if (random.nextInt(8) == 0) {
                        out.append(position(random)).append('-').append(position(random));
                    } else {
                        long first = random.nextInt(6000);
                        out.append(first).append('-').append(first + random.nextInt(3000));
                    }
                    break;
                case 1:
                    out.append(position(random)).append('-');
                    break;
                default:
                    out.append('-').append(position(random));
                    break;
            }
            if (random.nextInt(40) == 0) {
                out.append(expand(random, RANGE_PIECES[random.nextInt(RANGE_PIECES.length)]));
            }
        }
        return out.toString();
    }

    private static String nearlyValidTagList(Random random) {
        StringBuilder out = new StringBuilder();
        int tags = random.nextInt(5);
        for (int t = 0; t < tags; t++) {
            if (t > 0) {
                out.append(random.nextBoolean() ? "," : " , ");
            }
            out.append(random.nextBoolean() ? "W/\"" : "\"").append(concatenate(random, new String[] {"a", "1", "-", "\u00ff"}, 6)).append('"');
            if (random.nextInt(20) == 0) {
                out.append(CONDITION_PIECES[random.nextInt(CONDITION_PIECES.length)]);
            }
        }
        return out.toString();
    }

    private static String mutatedDate(Random random) {
        String date = HttpDate.format(random.nextLong());
        switch (random.nextInt(4)) {
            case 0:
                return date;
            case 1:
                return date.toLowerCase(Locale.ROOT);
            case 2:
                int cut = random.nextInt(date.length());
                return date.substring(0, cut) + date.substring(cut + 1);
            default:
                char[] chars = date.toCharArray();
                chars[random.nextInt(chars.length)] = (char) random.nextInt(0x200);
                return new String(chars);
        }
    }

    private static String conditionValue(Random random) {
        switch (random.nextInt(6)) {
            case 0:
                return null;
            case 1:
                return "\"abc\"";
            case 2:
                return HttpDate.format(pickMillis(random));
            case 3:
                return nearlyValidTagList(random);
            default:
                return concatenate(random, CONDITION_PIECES, 8);
        }
    }

    private static EntityTag entityTag(Random random) {
        switch (random.nextInt(4)) {
            case 0:
                return null;
            case 1:
                return new EntityTag("abc", random.nextBoolean());
            default:
                return EntityTag.strong(random.nextLong(), random.nextLong());
        }
    }

    private static long lastModified(Random random) {
        switch (random.nextInt(5)) {
            case 0:
                return Long.MIN_VALUE;
            case 1:
                return Long.MAX_VALUE;
            default:
                return pickMillis(random);
        }
    }

    private static long pickMillis(Random random) {
        return random.nextBoolean() ? 784_111_777_000L + random.nextInt(3) * 1000L : random.nextLong();
    }
}
