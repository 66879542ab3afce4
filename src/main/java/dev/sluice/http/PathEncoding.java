package dev.sluice.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Percent-encoding of URI paths, both ways, strictly as UTF-8: the one decoder the resolver and the signed-link
 * check share, so that a path is read the same way wherever it is judged.
 */
public final class PathEncoding {

    private PathEncoding() {
    }

    /** A path that cannot be decoded; the message says why. */
    public static final class MalformedPathException extends Exception {

        MalformedPathException(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Encodes every byte of the UTF-8 form but {@code /} and RFC 3986's unreserved characters. */
    public static String encode(String decodedPath) {
        StringBuilder encoded = new StringBuilder(decodedPath.length() + 16);
        for (byte b : decodedPath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c == '/' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~') {
                encoded.append((char) c);
            } else {
                appendEscaped(encoded, c);
            }
        }
        return encoded.toString();
    }

    /**
     * A request's raw query made fit for a URI (RFC 3986 Section 3.4): what a query may hold (unreserved and
     * sub-delimiter characters, {@code : @ / ?}) and well-formed {@code %XX} escapes are kept as they are, so the
     * query means what it meant; every other character (a space, {@code " < > \ ^ ` { | }}, a {@code %} that
     * starts no escape, controls, anything outside ASCII) is percent-encoded as its UTF-8 bytes.
     */
    public static String encodeQuery(String rawQuery) {
        StringBuilder encoded = new StringBuilder(rawQuery.length() + 16);
        for (int i = 0; i < rawQuery.length(); i++) {
            char c = rawQuery.charAt(i);
            boolean escape = c == '%' && i + 2 < rawQuery.length() && hexValue(rawQuery.charAt(i + 1)) >= 0
                    && hexValue(rawQuery.charAt(i + 2)) >= 0;
            if (escape || c < 0x80 && QUERY_CHARACTERS.indexOf(c) >= 0) {
                encoded.append(c);
                continue;
            }
            int cp = rawQuery.codePointAt(i);
            String character = Character.isBmpCodePoint(cp) && Character.isSurrogate((char) cp) ? "\uFFFD"
                    : Character.toString(cp);
            for (byte b : character.getBytes(StandardCharsets.UTF_8)) {
                appendEscaped(encoded, b & 0xff);
            }
            i += Character.charCount(cp) - 1;
        }
        return encoded.toString();
    }

    private static void appendEscaped(StringBuilder encoded, int octet) {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit(octet >> 4, 16)))
                .append(Character.toUpperCase(Character.forDigit(octet & 15, 16)));
    }

    /** RFC 3986's query characters but {@code %}: unreserved, sub-delims, {@code : @ / ?}. */
    private static final String QUERY_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            + "-._~!$&'()*+,;=:@/?";

    /**
     * Decodes every {@code %XX} escape once and reads the bytes as UTF-8. Characters outside ASCII that arrive
     * unescaped are taken as their UTF-8 bytes.
     *
     * @throws MalformedPathException for a malformed escape, an unpaired surrogate or bytes that are not UTF-8
     */
    public static String decode(String raw) throws MalformedPathException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 1 < raw.length() ? hexValue(raw.charAt(i + 1)) : -1;
                int lo = i + 2 < raw.length() ? hexValue(raw.charAt(i + 2)) : -1;
                if (hi < 0 || lo < 0) {
                    throw new MalformedPathException("malformed percent-escape");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c < 0x80) {
                bytes.write(c);
            } else {
                int cp = raw.codePointAt(i);
                if (Character.isBmpCodePoint(cp) && Character.isSurrogate((char) cp)) {
                    throw new MalformedPathException("unpaired surrogate");
                }
                bytes.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedPathException("invalid UTF-8");
        }
    }

    /** {@link #decode}, or {@code null} where the raw text cannot be decoded. */
    public static String decodeOrNull(String raw) {
        try {
            return decode(raw);
        } catch (MalformedPathException e) {
            return null;
        }
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
