package dev.sluice.http;

/**
 * Character classes and whitespace rules shared by the header parsers of this package
 * (RFC 9110 Section 5.6).
 */
final class HeaderSyntax {

    private HeaderSyntax() {
    }

    /** {@code OWS = *( SP / HTAB )} (RFC 9110 Section 5.6.3). */
    static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /** Returns the first index at or after {@code from} that is not optional whitespace. */
    static int skipOws(String s, int from) {
        int i = from;
        while (i < s.length() && isOws(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Removes leading and trailing optional whitespace (RFC 9110 Section 5.5). */
    static String trimOws(String s) {
        int start = skipOws(s, 0);
        int end = s.length();
        while (end > start && isOws(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    /** {@code DIGIT}: ASCII only, unlike {@link Character#isDigit(char)}. */
    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** {@code etagc = %x21 / %x23-7E / obs-text} (RFC 9110 Section 8.8.3). */
    static boolean isEtagc(char c) {
        return c == 0x21 || (c >= 0x23 && c <= 0x7E) || (c >= 0x80 && c <= 0xFF);
    }
}
