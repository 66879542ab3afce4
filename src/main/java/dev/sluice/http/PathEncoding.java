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
                encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return encoded.toString();
    }

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
