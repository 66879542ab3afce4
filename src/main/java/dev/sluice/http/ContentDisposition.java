package dev.sluice.http;

import java.nio.charset.StandardCharsets;

/**
 * Builds Content-Disposition field values (RFC 6266) that carry a file name.
 *
 * <p>A name that is plain safe ASCII is sent only as {@code filename="..."}. Any other name is sent
 * twice, as RFC 6266 Appendix D advises: first an ASCII approximation in {@code filename} for user
 * agents that do not understand the extended form, then the exact name in
 * {@code filename*=UTF-8''...} (RFC 8187 Section 3.2), which takes precedence where it is understood
 * (RFC 6266 Section 4.3).
 *
 * <p>In the approximation, every character that is not ASCII, a double quote, a backslash, a control
 * character or {@code %} becomes {@code _}, one per code point. Quotes and backslashes are replaced
 * instead of escaped because several user agents do not unescape quoted-pairs in this parameter,
 * and {@code %} because some decode percent-escapes in it (RFC 6266 Appendix D). Spaces are kept.
 * The result never contains CR, LF or any other control character, so it cannot split a header.
 */
public final class ContentDisposition {

    private static final char[] HEX_DIGITS = "0123456789ABCDEF".toCharArray();

    private static final char REPLACEMENT = '_';

    private ContentDisposition() {
    }

    /**
     * Returns a value asking the user agent to save the representation
     * (RFC 6266 Section 4.2), for example {@code attachment; filename="report.pdf"}.
     *
     * @param filename the suggested file name, possibly {@code null} or empty
     * @return the field value; just {@code attachment} if there is no name
     */
    public static String attachment(String filename) {
        return build("attachment", filename);
    }

    /**
     * Returns a value asking the user agent to display the representation
     * (RFC 6266 Section 4.2), with a name to use should it be saved later.
     *
     * @param filename the suggested file name, possibly {@code null} or empty
     * @return the field value; just {@code inline} if there is no name
     */
    public static String inline(String filename) {
        return build("inline", filename);
    }

    private static String build(String type, String filename) {
        if (filename == null || filename.isEmpty()) {
            return type;
        }
        String fallback = asciiFallback(filename);
        StringBuilder value = new StringBuilder(type).append("; filename=\"").append(fallback).append('"');
        if (!fallback.equals(filename)) {
            value.append("; filename*=UTF-8''").append(extValue(filename));
        }
        return value.toString();
    }

    private static String asciiFallback(String filename) {
        StringBuilder out = new StringBuilder(filename.length());
        filename.codePoints().forEach(cp -> out.append(isSafeInQuotedString(cp) ? (char) cp : REPLACEMENT));
        return out.toString();
    }

    private static boolean isSafeInQuotedString(int cp) {
        return cp >= 0x20 && cp <= 0x7E && cp != '"' && cp != '\\' && cp != '%';
    }

    /**
     * Percent-encodes the UTF-8 bytes of {@code filename} except {@code attr-char}
     * (RFC 8187 Section 3.2.1). An unpaired surrogate, which has no UTF-8 form, is encoded as
     * U+FFFD REPLACEMENT CHARACTER.
     */
    private static String extValue(String filename) {
        StringBuilder out = new StringBuilder(filename.length() * 3);
        filename.codePoints().forEach(cp -> {
            if (isAttrChar(cp)) {
                out.append((char) cp);
                return;
            }
            int scalar = cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE ? 0xFFFD : cp;
            for (byte b : Character.toString(scalar).getBytes(StandardCharsets.UTF_8)) {
                out.append('%').append(HEX_DIGITS[(b >> 4) & 0xF]).append(HEX_DIGITS[b & 0xF]);
            }
        });
        return out.toString();
    }

    /**
     * {@code attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`"
     * / "|" / "~"} (RFC 8187 Section 3.2.1).
     */
    static boolean isAttrChar(int cp) {
        return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')
                || "!#$&+-.^_`|~".indexOf(cp) >= 0;
    }
}
