package dev.sluice.http;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The content codings a client accepts, from its Accept-Encoding field (RFC 9110 Section 12.5.3),
 * used to pick a precompressed variant of a file.
 *
 * <p>Syntax accepted: a comma-separated list of {@code codings [ weight ]}, where
 * {@code weight = OWS ";" OWS "q=" qvalue} and {@code qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [
 * "." 0*3("0") ] )} (RFC 9110 Section 12.4.2). Optional whitespace around elements and empty
 * elements are allowed (RFC 9110 Section 5.6.1.2). Codings and the {@code q} are matched without
 * regard to case, as ABNF literals are (RFC 5234 Section 2.3). An element that does not follow this
 * grammar, including one with a qvalue above 1, more than three decimals or any other parameter, is
 * skipped; the rest of the field still counts. When a coding is listed more than once, its first
 * valid element counts.
 *
 * <p>{@code x-gzip} and {@code x-compress} are the same codings as {@code gzip} and
 * {@code compress} (RFC 9110 Sections 8.4.1.1 and 8.4.1.3).
 *
 * <p>Rules for a coding that is not listed (RFC 9110 Section 12.5.3): the wildcard {@code *}, if
 * listed, gives its weight to every coding not listed, {@code identity} included, so
 * {@code *;q=0} without an {@code identity} element refuses identity too. Without a wildcard,
 * every other coding has weight 0 and {@code identity}, which is acceptable by default but was
 * given no weight, has the smallest positive one, 0.001: a client that lists only
 * {@code gzip;q=0.5} gets gzip, and identity only when nothing listed is available.
 *
 * <p>An absent field is treated like an empty one: only {@code identity} is acceptable. This is
 * stricter than RFC 9110 Section 12.5.3, under which a request without Accept-Encoding accepts any
 * coding, because many simple clients send no Accept-Encoding and cannot decode what they did not
 * ask for, while the uncompressed file is always correct.
 */
public final class AcceptEncoding {

    private static final int Q_SCALE = 1000;

    private static final String WILDCARD = "*";

    private static final String IDENTITY = "identity";

    private static final int IMPLICIT_IDENTITY = 1;

    private static final AcceptEncoding IDENTITY_ONLY = new AcceptEncoding(Map.of());

    /** Canonical coding, {@code *} included, to its weight in thousandths. */
    private final Map<String, Integer> weights;

    private AcceptEncoding(Map<String, Integer> weights) {
        this.weights = weights;
    }

    /**
     * Parses an Accept-Encoding field value.
     *
     * @param header the field value, possibly {@code null} (absent)
     * @return the accepted codings, never {@code null}
     */
    public static AcceptEncoding parse(String header) {
        if (header == null) {
            return IDENTITY_ONLY;
        }
        Map<String, Integer> weights = new HashMap<>();
        int start = 0;
        while (start <= header.length()) {
            int comma = header.indexOf(',', start);
            int end = comma < 0 ? header.length() : comma;
            parseElement(HeaderSyntax.trimOws(header.substring(start, end)), weights);
            start = end + 1;
        }
        return weights.isEmpty() ? IDENTITY_ONLY : new AcceptEncoding(Map.copyOf(weights));
    }

    /**
     * Returns the weight the client gives a coding.
     *
     * @param coding a content coding such as {@code gzip}, in any case, or {@code identity};
     *     possibly {@code null}
     * @return the qvalue between 0 and 1, exact to three decimals; 0 for {@code null} or a value
     *     that is not a token
     */
    public double quality(String coding) {
        return (double) thousandths(coding) / Q_SCALE;
    }

    /**
     * Returns whether the client accepts a coding: its weight is above 0
     * (RFC 9110 Section 12.4.2).
     *
     * @param coding a content coding, possibly {@code null}
     * @return whether {@link #quality(String)} is positive
     */
    public boolean accepts(String coding) {
        return thousandths(coding) > 0;
    }

    /**
     * Picks the coding to send among those the server has: the one with the highest weight above
     * 0, the earlier in {@code serverPreference} on a tie.
     *
     * <p>An empty result means none is acceptable. The server should then send the representation
     * without content coding anyway, unless identity itself is refused (RFC 9110 Section 12.5.3);
     * listing {@code identity} in {@code serverPreference} makes that case explicit.
     *
     * @param acceptEncoding what the client accepts
     * @param serverPreference the available codings, most preferred first; {@code null} elements
     *     are never chosen
     * @return the chosen element of {@code serverPreference}, exactly as given, or empty
     */
    public static Optional<String> choose(AcceptEncoding acceptEncoding, List<String> serverPreference) {
        Objects.requireNonNull(acceptEncoding, "acceptEncoding");
        Objects.requireNonNull(serverPreference, "serverPreference");
        String best = null;
        int bestWeight = 0;
        for (String coding : serverPreference) {
            int weight = acceptEncoding.thousandths(coding);
            if (weight > bestWeight) {
                best = coding;
                bestWeight = weight;
            }
        }
        return Optional.ofNullable(best);
    }

    private int thousandths(String coding) {
        if (coding == null || !isToken(coding)) {
            return 0;
        }
        String key = canonical(coding);
        Integer weight = weights.get(key);
        if (weight == null) {
            weight = weights.get(WILDCARD);
        }
        if (weight == null) {
            return key.equals(IDENTITY) ? IMPLICIT_IDENTITY : 0;
        }
        return weight;
    }

    /** Parses one trimmed list element {@code codings [ weight ]} into {@code out}, unless it is malformed. */
    private static void parseElement(String element, Map<String, Integer> out) {
        int end = 0;
        while (end < element.length() && isTchar(element.charAt(end))) {
            end++;
        }
        if (end == 0) {
            return;
        }
        String coding = canonical(element.substring(0, end));
        int weight = Q_SCALE;
        int i = HeaderSyntax.skipOws(element, end);
        if (i < element.length()) {
            if (element.charAt(i) != ';') {
                return;
            }
            i = HeaderSyntax.skipOws(element, i + 1);
            if (!element.regionMatches(true, i, "q=", 0, 2)) {
                return;
            }
            weight = qvalue(element, i + 2);
            if (weight < 0) {
                return;
            }
        }
        out.putIfAbsent(coding, weight);
    }

    /** Parses a {@code qvalue} that runs from {@code start} to the end of {@code s}, in thousandths, or returns -1. */
    private static int qvalue(String s, int start) {
        int length = s.length() - start;
        if (length < 1 || length > 5) {
            return -1;
        }
        char unit = s.charAt(start);
        if (unit != '0' && unit != '1') {
            return -1;
        }
        int value = (unit - '0') * Q_SCALE;
        if (length == 1) {
            return value;
        }
        if (s.charAt(start + 1) != '.') {
            return -1;
        }
        int scale = Q_SCALE / 10;
        for (int i = start + 2; i < s.length(); i++, scale /= 10) {
            char c = s.charAt(i);
            if (!HeaderSyntax.isDigit(c)) {
                return -1;
            }
            value += (c - '0') * scale;
        }
        return value <= Q_SCALE ? value : -1;
    }

    private static String canonical(String coding) {
        String lower = coding.toLowerCase(Locale.ROOT);
        return switch (lower) {
            case "x-gzip" -> "gzip";
            case "x-compress" -> "compress";
            default -> lower;
        };
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTchar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** {@code tchar} (RFC 9110 Section 5.6.2). */
    private static boolean isTchar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || HeaderSyntax.isDigit(c)
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
}
