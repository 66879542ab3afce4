package dev.sluice.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The body layout of a 206 (Partial Content) response carrying several ranges as
 * {@code multipart/byteranges} (RFC 9110 Sections 14.6 and 15.3.7.2, RFC 2046 Section 5.1.1).
 *
 * <p>The body is described, not produced: {@link #pieces()} interleaves the framing bytes with the
 * ranges of the representation, so an engine can copy each range straight from the file. For each
 * part the body holds a delimiter line, {@code Content-Type} when known, {@code Content-Range}, an
 * empty line and the range's bytes; a close delimiter follows the last part:
 *
 * <pre>
 * --BOUNDARY CRLF
 * Content-Type: text/plain CRLF
 * Content-Range: bytes 0-99/1000 CRLF
 * CRLF
 * (bytes 0-99)
 * CRLF --BOUNDARY CRLF
 * ...
 * (last range)
 * CRLF --BOUNDARY-- CRLF
 * </pre>
 *
 * <p>The first delimiter line has no CRLF before it, since the body has no preamble. The CRLF that
 * precedes every later delimiter belongs to the delimiter, not to the preceding part
 * (RFC 2046 Section 5.1.1), and the CRLF after the close delimiter begins an empty epilogue.
 *
 * <p>A server must not send a multipart body in answer to a request for a single range
 * (RFC 9110 Section 15.3.7.2); this class nevertheless lays out any non-empty list of ranges, in
 * the order given.
 */
public final class MultipartByteranges {

    /** One stretch of the body, in order. */
    public sealed interface Piece {

        /**
         * Framing bytes: delimiter lines and part headers.
         *
         * @param bytes the bytes; the record keeps and hands out copies, and compares contents
         */
        record Literal(byte[] bytes) implements Piece {

            /**
             * Copies the bytes.
             *
             * @param bytes the bytes
             * @throws NullPointerException if {@code bytes} is null
             */
            public Literal {
                bytes = bytes.clone();
            }

            /**
             * Returns a copy of the bytes.
             *
             * @return a fresh array holding the bytes
             */
            @Override
            public byte[] bytes() {
                return bytes.clone();
            }

            /**
             * Returns the number of bytes.
             *
             * @return the length of {@link #bytes()}
             */
            public int length() {
                return bytes.length;
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Literal other && Arrays.equals(bytes, other.bytes);
            }

            @Override
            public int hashCode() {
                return Arrays.hashCode(bytes);
            }

            @Override
            public String toString() {
                return "Literal[" + new String(bytes, StandardCharsets.ISO_8859_1)
                        .replace("\r", "\\r").replace("\n", "\\n") + "]";
            }
        }

        /**
         * Bytes of the representation, copied from its source.
         *
         * @param range the range to copy
         */
        record Range(ByteRange range) implements Piece {

            /**
             * Validates the range.
             *
             * @param range the range to copy
             * @throws NullPointerException if {@code range} is null
             */
            public Range {
                Objects.requireNonNull(range, "range");
            }
        }
    }

    private static final String BOUNDARY_PREFIX = "SLUICE_";

    private static final int BOUNDARY_RANDOM_BYTES = 16;

    private static final int MAX_BOUNDARY_LENGTH = 70;

    private static final byte[] CRLF = {'\r', '\n'};

    /**
     * Shared by all threads; {@link SecureRandom} is thread-safe. Seeded once, from the platform's
     * non-blocking source by default.
     */
    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<Piece> pieces;

    private final long contentLength;

    private final String contentType;

    private MultipartByteranges(List<Piece> pieces, long contentLength, String contentType) {
        this.pieces = pieces;
        this.contentLength = contentLength;
        this.contentType = contentType;
    }

    /**
     * Returns a new boundary: {@code SLUICE_} followed by 32 lowercase hexadecimal digits, 128 bits
     * from a {@link SecureRandom}.
     *
     * <p>The boundary must not occur in any part (RFC 2046 Section 5.1.1), and the parts are file
     * bytes the server does not scan and that whoever supplied the file controls. A fixed or
     * guessable boundary would let such a file embed the delimiter and make a client split the body
     * at the wrong place, so the boundary is unpredictable and fresh for every response; the chance
     * that some content contains it by accident is negligible.
     *
     * @return a boundary of 39 characters, all of them {@code bchars} and {@code tchar}
     */
    public static String newBoundary() {
        byte[] random = new byte[BOUNDARY_RANDOM_BYTES];
        RANDOM.nextBytes(random);
        return BOUNDARY_PREFIX + HexFormat.of().formatHex(random);
    }

    /**
     * Lays out a multipart body.
     *
     * @param ranges the ranges, one part each, in body order; they need not be sorted
     * @param completeLength the length of the whole representation, written after the {@code /} of
     *     every Content-Range (RFC 9110 Section 14.4)
     * @param contentType the Content-Type of the representation, repeated in every part, or
     *     {@code null} or empty to omit that header (RFC 9110 Section 14.6)
     * @param boundary 1 to 70 {@code bchars}, not ending with a space (RFC 2046 Section 5.1.1),
     *     typically from {@link #newBoundary()}
     * @return the layout
     * @throws NullPointerException if {@code ranges}, one of its elements or {@code boundary} is
     *     null
     * @throws IllegalArgumentException if {@code ranges} is empty, a range ends at or beyond
     *     {@code completeLength}, {@code contentType} has a character other than visible ASCII,
     *     space and tab, the boundary is invalid, or the body would exceed {@link Long#MAX_VALUE}
     *     bytes
     */
    public static MultipartByteranges of(
            List<ByteRange> ranges, long completeLength, String contentType, String boundary) {
        Objects.requireNonNull(ranges, "ranges");
        Objects.requireNonNull(boundary, "boundary");
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("a multipart body needs at least one range");
        }
        requireValidBoundary(boundary);
        boolean hasType = contentType != null && !contentType.isEmpty();
        if (hasType) {
            requireFieldValue(contentType);
        }
        List<Piece> pieces = new ArrayList<>(2 * ranges.size() + 1);
        ByteArrayOutputStream literal = new ByteArrayOutputStream();
        long length = 0;
        for (ByteRange range : ranges) {
            Objects.requireNonNull(range, "range");
            if (range.last() >= completeLength) {
                throw new IllegalArgumentException(
                        "range " + range.first() + "-" + range.last() + " beyond length " + completeLength);
            }
            if (!pieces.isEmpty()) {
                literal.writeBytes(CRLF);
            }
            writeAscii(literal, "--" + boundary + "\r\n");
            if (hasType) {
                writeAscii(literal, "Content-Type: " + contentType + "\r\n");
            }
            writeAscii(literal, "Content-Range: " + RangeRequest.contentRange(range, completeLength) + "\r\n\r\n");
            length = addLength(length, literal.size());
            pieces.add(new Piece.Literal(literal.toByteArray()));
            literal.reset();
            length = addLength(length, range.length());
            pieces.add(new Piece.Range(range));
        }
        writeAscii(literal, "\r\n--" + boundary + "--\r\n");
        length = addLength(length, literal.size());
        pieces.add(new Piece.Literal(literal.toByteArray()));
        return new MultipartByteranges(List.copyOf(pieces), length, mediaType(boundary));
    }

    /**
     * Returns the pieces of the body in order. Literals and ranges alternate, beginning and ending
     * with a literal, so no two literals are adjacent.
     *
     * @return an immutable list of {@code 2 * ranges + 1} pieces
     */
    public List<Piece> pieces() {
        return pieces;
    }

    /**
     * Returns the exact length of the body, for the Content-Length field
     * (RFC 9110 Section 8.6).
     *
     * @return the sum of the literal and range lengths
     */
    public long contentLength() {
        return contentLength;
    }

    /**
     * Returns the Content-Type field value of the response (RFC 9110 Section 14.6). The boundary is
     * sent as a quoted-string when it is not a token (RFC 9110 Section 5.6.6).
     *
     * @return {@code multipart/byteranges; boundary=BOUNDARY}
     */
    public String contentType() {
        return contentType;
    }

    private static String mediaType(String boundary) {
        boolean token = boundary.chars().allMatch(MultipartByteranges::isTchar);
        return "multipart/byteranges; boundary=" + (token ? boundary : '"' + boundary + '"');
    }

    /**
     * {@code boundary := 0*69<bchars> bcharsnospace}, where {@code bchars} are
     * {@code bcharsnospace / " "} and {@code bcharsnospace} are
     * {@code DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?"}
     * (RFC 2046 Section 5.1.1).
     */
    static boolean isValidBoundary(String boundary) {
        return !boundary.isEmpty() && boundary.length() <= MAX_BOUNDARY_LENGTH
                && boundary.charAt(boundary.length() - 1) != ' '
                && boundary.chars().allMatch(c -> c == ' ' || isBcharNoSpace(c));
    }

    private static boolean isBcharNoSpace(int c) {
        return isAlphaOrDigit(c) || "'()+_,-./:=?".indexOf(c) >= 0;
    }

    /** {@code tchar} (RFC 9110 Section 5.6.2). */
    private static boolean isTchar(int c) {
        return isAlphaOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean isAlphaOrDigit(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    private static void requireValidBoundary(String boundary) {
        if (!isValidBoundary(boundary)) {
            throw new IllegalArgumentException("invalid multipart boundary: " + boundary);
        }
    }

    private static void requireFieldValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c == '\t' || (c >= 0x20 && c <= 0x7E))) {
                throw new IllegalArgumentException("invalid character at index " + i + " of content type");
            }
        }
    }

    private static long addLength(long total, long more) {
        try {
            return Math.addExact(total, more);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("multipart body longer than Long.MAX_VALUE bytes", e);
        }
    }

    private static void writeAscii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
}
