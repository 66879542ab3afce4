package dev.sluice.http;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Interprets a Range header field against a representation (RFC 9110 Sections 14.1 and 14.2).
 *
 * <p>Syntax accepted: the case-insensitive unit {@code bytes}, {@code =}, then a comma-separated
 * list of {@code first-last}, {@code first-} and {@code -suffix} specs with optional whitespace
 * around the commas and after {@code =}, and empty list elements ignored
 * (RFC 9110 Sections 5.6.1.2, 14.1.1 and 14.1.2). A position is any run of digits, as the grammar
 * says ({@code 1*DIGIT}): one of more than 18 significant digits (10^18 bytes and up, far beyond any
 * real file) is taken for what it is, a position past the end of the representation, so
 * {@code 0-99999999999999999999} is the rest of the file, {@code -99999999999999999999} all of it, and
 * {@code 99999999999999999999-} unsatisfiable, as their shorter forms are.
 *
 * <p>Defences against range abuse (RFC 9110 Sections 14.2 and 17.15):
 * <ul>
 *   <li>More syntactically valid specs than {@code maxRanges}: the field is ignored and the whole
 *       representation is served, so a request for many small ranges costs no more than one plain
 *       GET.</li>
 *   <li>Overlapping or adjacent ranges are always merged, which RFC 9110 Section 15.3.7.2 permits
 *       regardless of the order the specs appeared in, so the bytes sent never exceed the
 *       representation length however often a request repeats them.</li>
 *   <li>Ranges come out in the order of their specs, as RFC 9110 Section 15.3.7.2 says a server
 *       SHOULD, unless some were merged: then in ascending order of offset, which the same section
 *       permits for coalesced ranges.</li>
 * </ul>
 */
public final class RangeRequest {

    private static final String BYTES_UNIT = "bytes";

    /** The most significant digits a position is read with exactly; a longer one is {@link #BEYOND_ANY_FILE}. */
    private static final int MAX_POSITION_DIGITS = 18;

    /** Stands for every position of more than {@link #MAX_POSITION_DIGITS} significant digits. */
    private static final long BEYOND_ANY_FILE = Long.MAX_VALUE;

    private static final RangeOutcome FULL = new RangeOutcome.Full();

    private static final RangeOutcome UNSATISFIABLE = new RangeOutcome.Unsatisfiable();

    private RangeRequest() {
    }

    /**
     * Decides how to answer a Range header field.
     *
     * <ul>
     *   <li>{@link RangeOutcome.Full}: the field is absent, has a unit other than {@code bytes}, is
     *       syntactically invalid (including a spec whose last position is below its first, or an
     *       empty range set), has more than {@code maxRanges} specs, or the length is unknown
     *       (negative). A server may ignore Range (RFC 9110 Section 14.2) and must ignore an
     *       invalid one.</li>
     *   <li>{@link RangeOutcome.Partial}: at least one spec is satisfiable (RFC 9110 Section
     *       14.1.1). Each is clamped to the representation: a last position at or beyond the end
     *       means the last byte, {@code first-} runs to the end and {@code -n} selects the final
     *       {@code n} bytes, or all of them when {@code n} is at least the length. Unsatisfiable
     *       specs are dropped; the rest keep their order, unless some overlap or touch: then
     *       they are merged and sorted by offset.</li>
     *   <li>{@link RangeOutcome.Unsatisfiable}: the field is valid but no spec overlaps the
     *       representation, because each spec starts at or beyond the length or is {@code -0}
     *       (RFC 9110 Sections 14.1.1 and 15.5.17). For an empty representation a suffix range of
     *       non-zero length is satisfiable (Section 14.1.1), but no 206 can carry its empty range:
     *       then the (empty) representation is sent whole, {@link RangeOutcome.Full}.</li>
     * </ul>
     *
     * @param rangeHeader the Range field value, possibly {@code null}
     * @param representationLength the selected representation's length in bytes, or negative if
     *     unknown
     * @param maxRanges the largest number of specs honoured; below 1 disables range requests
     * @return the outcome, never {@code null}
     */
    public static RangeOutcome evaluate(String rangeHeader, long representationLength, int maxRanges) {
        if (rangeHeader == null || representationLength < 0 || maxRanges < 1) {
            return FULL;
        }
        String text = HeaderSyntax.trimOws(rangeHeader);
        int equals = BYTES_UNIT.length();
        if (text.length() <= equals || text.charAt(equals) != '='
                || !text.regionMatches(true, 0, BYTES_UNIT, 0, equals)) {
            return FULL;
        }
        List<ByteRange> satisfiable = new ArrayList<>();
        boolean[] suffixOfEmpty = new boolean[1];
        int specs = 0;
        boolean separatorRequired = false;
        int i = equals + 1;
        while (true) {
            i = HeaderSyntax.skipOws(text, i);
            if (i == text.length()) {
                break;
            }
            if (text.charAt(i) == ',') {
                separatorRequired = false;
                i++;
                continue;
            }
            if (separatorRequired || ++specs > maxRanges) {
                return FULL;
            }
            i = parseSpec(text, i, representationLength, satisfiable, suffixOfEmpty);
            if (i < 0) {
                return FULL;
            }
            separatorRequired = true;
        }
        if (specs == 0) {
            return FULL;
        }
        if (satisfiable.isEmpty()) {
            return suffixOfEmpty[0] ? FULL : UNSATISFIABLE;
        }
        return new RangeOutcome.Partial(coalesce(satisfiable));
    }

    /**
     * Formats the Content-Range field value of one part of a 206 response (RFC 9110 Section 14.4).
     *
     * @param range the range being sent
     * @param length the complete representation length
     * @return {@code bytes first-last/length}
     */
    public static String contentRange(ByteRange range, long length) {
        return BYTES_UNIT + " " + range.first() + "-" + range.last() + "/" + length;
    }

    /**
     * Formats the Content-Range field value of a 416 response (RFC 9110 Sections 14.4 and 15.5.17).
     *
     * @param length the complete representation length
     * @return {@code bytes *&#47;length}
     */
    public static String unsatisfiedContentRange(long length) {
        return BYTES_UNIT + " */" + length;
    }

    /**
     * Parses one {@code int-range} or {@code suffix-range} at {@code start}, adds its clamped form to
     * {@code out} when satisfiable, and returns the index after it, or -1 if it is invalid. Sets
     * {@code suffixOfEmpty[0]} for a non-zero suffix of an empty representation.
     */
    private static int parseSpec(String s, int start, long length, List<ByteRange> out, boolean[] suffixOfEmpty) {
        if (s.charAt(start) == '-') {
            int end = digitsEnd(s, start + 1);
            if (end < 0) {
                return -1;
            }
            long suffix = position(s, start + 1, end);
            if (suffix > 0 && length > 0) {
                out.add(new ByteRange(Math.max(0, length - suffix), length - 1));
            } else if (suffix > 0) {
                suffixOfEmpty[0] = true;
            }
            return end;
        }
        int firstEnd = digitsEnd(s, start);
        if (firstEnd < 0 || firstEnd == s.length() || s.charAt(firstEnd) != '-') {
            return -1;
        }
        long first = position(s, start, firstEnd);
        long last = Long.MAX_VALUE;
        int end = firstEnd + 1;
        if (end < s.length() && HeaderSyntax.isDigit(s.charAt(end))) {
            end = digitsEnd(s, end);
            last = position(s, firstEnd + 1, end);
            if (last < first || last == BEYOND_ANY_FILE && first == BEYOND_ANY_FILE
                    && lessThan(s, firstEnd + 1, end, start, firstEnd)) {
                return -1;
            }
        }
        if (first < length) {
            out.add(new ByteRange(first, Math.min(last, length - 1)));
        }
        return end;
    }

    /** Returns the index after the run of digits at {@code start}, or -1 if there is none. */
    private static int digitsEnd(String s, int start) {
        int end = start;
        while (end < s.length() && HeaderSyntax.isDigit(s.charAt(end))) {
            end++;
        }
        return end == start ? -1 : end;
    }

    /** The position the digits {@code [start, end)} of {@code s} write, or {@link #BEYOND_ANY_FILE}. */
    private static long position(String s, int start, int end) {
        int significant = skipZeros(s, start, end);
        return end - significant > MAX_POSITION_DIGITS ? BEYOND_ANY_FILE : Long.parseLong(s, significant, end, 10);
    }

    /** Whether the number the digits {@code [aStart, aEnd)} write is less than the one {@code [bStart, bEnd)} write. */
    private static boolean lessThan(String s, int aStart, int aEnd, int bStart, int bEnd) {
        int a = skipZeros(s, aStart, aEnd);
        int b = skipZeros(s, bStart, bEnd);
        if (aEnd - a != bEnd - b) {
            return aEnd - a < bEnd - b;
        }
        return s.substring(a, aEnd).compareTo(s.substring(b, bEnd)) < 0;
    }

    private static int skipZeros(String s, int start, int end) {
        while (start < end - 1 && s.charAt(start) == '0') {
            start++;
        }
        return start;
    }

    /** {@code ranges} as requested when none overlaps or touches another; else merged, by offset. */
    private static List<ByteRange> coalesce(List<ByteRange> ranges) {
        List<ByteRange> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(ByteRange::first));
        List<ByteRange> merged = new ArrayList<>(sorted.size());
        ByteRange current = sorted.get(0);
        for (ByteRange next : sorted.subList(1, sorted.size())) {
            if (next.first() <= current.last() + 1) {
                current = new ByteRange(current.first(), Math.max(current.last(), next.last()));
            } else {
                merged.add(current);
                current = next;
            }
        }
        merged.add(current);
        return merged.size() == ranges.size() ? ranges : merged;
    }
}
