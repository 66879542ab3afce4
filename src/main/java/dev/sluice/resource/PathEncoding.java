package dev.sluice.resource;

import java.nio.charset.StandardCharsets;

/** Percent-encoding of decoded paths, so that a path Sluice builds can be checked and sent like a request path. */
public final class PathEncoding {

    private PathEncoding() {
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
}
