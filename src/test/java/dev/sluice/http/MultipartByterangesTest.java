package dev.sluice.http;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.MultipartByteranges.Piece;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MultipartByterangesTest {

    private static final byte[] ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(US_ASCII);
    private static final long GIB = 1L << 30;

    @Test
    void singleRangeHasExactFraming() {
        MultipartByteranges body = MultipartByteranges.of(List.of(new ByteRange(10, 19)), 36, "text/plain", "B0UND");
        byte[] expected = ("--B0UND\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Range: bytes 10-19/36\r\n"
                + "\r\n"
                + "abcdefghij"
                + "\r\n--B0UND--\r\n").getBytes(US_ASCII);
        assertArrayEquals(expected, render(body, ALPHABET));
        assertEquals(91, body.contentLength());
        assertEquals(List.of(
                        literal("--B0UND\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-19/36\r\n\r\n"),
                        new Piece.Range(new ByteRange(10, 19)),
                        literal("\r\n--B0UND--\r\n")),
                body.pieces());
        assertEquals("multipart/byteranges; boundary=B0UND", body.contentType());
    }

    @Test
    void threeRangesOfBinaryContentMatchAHandBuiltBody() {
        byte[] source = new byte[256];
        for (int i = 0; i < source.length; i++) {
            source[i] = (byte) i;
        }
        String type = "application/octet-stream";
        MultipartByteranges body = MultipartByteranges.of(
                List.of(new ByteRange(0, 0), new ByteRange(10, 14), new ByteRange(250, 255)), 256, type, "xyz");

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(("--xyz\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Range: bytes 0-0/256\r\n\r\n").getBytes(US_ASCII));
        expected.writeBytes(new byte[] {0x00});
        expected.writeBytes(("\r\n--xyz\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Range: bytes 10-14/256\r\n\r\n").getBytes(US_ASCII));
        expected.writeBytes(new byte[] {0x0A, 0x0B, 0x0C, 0x0D, 0x0E});
        expected.writeBytes(("\r\n--xyz\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Range: bytes 250-255/256\r\n\r\n").getBytes(US_ASCII));
        expected.writeBytes(new byte[] {(byte) 0xFA, (byte) 0xFB, (byte) 0xFC, (byte) 0xFD, (byte) 0xFE, (byte) 0xFF});
        expected.writeBytes("\r\n--xyz--\r\n".getBytes(US_ASCII));

        byte[] rendered = render(body, source);
        assertArrayEquals(expected.toByteArray(), rendered);
        assertEquals(rendered.length, body.contentLength());
        assertEquals(7, body.pieces().size());
        assertEquals(literal("\r\n--xyz\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Range: bytes 10-14/256\r\n\r\n"), body.pieces().get(2));
    }

    @Test
    void nullOrEmptyContentTypeOmitsThePartHeader() {
        for (String type : new String[] {null, ""}) {
            MultipartByteranges body = MultipartByteranges.of(
                    List.of(new ByteRange(0, 1), new ByteRange(5, 5)), 36, type, "b");
            assertArrayEquals(("--b\r\nContent-Range: bytes 0-1/36\r\n\r\n01"
                            + "\r\n--b\r\nContent-Range: bytes 5-5/36\r\n\r\n5"
                            + "\r\n--b--\r\n").getBytes(US_ASCII),
                    render(body, ALPHABET));
            assertEquals(86, body.contentLength());
        }
    }

    @Test
    void rangesKeepTheGivenOrderEvenWhenUnsortedOrOverlapping() {
        MultipartByteranges body = MultipartByteranges.of(
                List.of(new ByteRange(30, 35), new ByteRange(0, 3), new ByteRange(2, 4)), 36, null, "b");
        List<Part> parts = parse(render(body, ALPHABET), "b");
        assertEquals(List.of("bytes 30-35/36", "bytes 0-3/36", "bytes 2-4/36"),
                parts.stream().map(p -> p.headers().get("Content-Range")).toList());
        assertEquals(List.of("uvwxyz", "0123", "234"), parts.stream().map(p -> new String(p.content(), US_ASCII)).toList());
    }

    @Test
    void literalsAndRangesAlternateSoNoTwoLiteralsAreAdjacent() {
        List<ByteRange> ranges = List.of(new ByteRange(0, 0), new ByteRange(2, 2), new ByteRange(4, 4), new ByteRange(6, 9));
        List<Piece> pieces = MultipartByteranges.of(ranges, 36, "text/plain", "b").pieces();
        assertEquals(2 * ranges.size() + 1, pieces.size());
        for (int i = 0; i < pieces.size(); i++) {
            if (i % 2 == 0) {
                assertInstanceOf(Piece.Literal.class, pieces.get(i));
            } else {
                assertEquals(new Piece.Range(ranges.get(i / 2)), pieces.get(i));
            }
        }
    }

    @Test
    void piecesAreImmutable() {
        List<Piece> pieces = MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, "b").pieces();
        assertThrows(UnsupportedOperationException.class, () -> pieces.add(literal("x")));
    }

    @Test
    void offsetsBeyondFourGibAreWrittenInFull() {
        MultipartByteranges body = MultipartByteranges.of(
                List.of(new ByteRange(5 * GIB, 5 * GIB + 9), new ByteRange(6 * GIB - 1, 6 * GIB - 1)),
                6 * GIB, null, "SLUICE_x");
        assertEquals(List.of(
                        literal("--SLUICE_x\r\nContent-Range: bytes 5368709120-5368709129/6442450944\r\n\r\n"),
                        new Piece.Range(new ByteRange(5_368_709_120L, 5_368_709_129L)),
                        literal("\r\n--SLUICE_x\r\nContent-Range: bytes 6442450943-6442450943/6442450944\r\n\r\n"),
                        new Piece.Range(new ByteRange(6_442_450_943L, 6_442_450_943L)),
                        literal("\r\n--SLUICE_x--\r\n")),
                body.pieces());
        assertEquals(167, body.contentLength());
    }

    @Test
    void contentLengthOfARangeLongerThanFourGibDoesNotOverflowAnInt() {
        MultipartByteranges body = MultipartByteranges.of(List.of(new ByteRange(0, 5 * GIB - 1)), 6 * GIB, null, "SLUICE_x");
        assertEquals(5_368_709_196L, body.contentLength());
        assertEquals(5 * GIB + literalBytes(body), body.contentLength());
    }

    @Test
    void aBodyLongerThanLongMaxValueIsRejected() {
        ByteRange huge = new ByteRange(0, Long.MAX_VALUE - 2);
        assertThrows(IllegalArgumentException.class,
                () -> MultipartByteranges.of(List.of(huge, huge), Long.MAX_VALUE - 1, null, "b"));
    }

    @Test
    void newBoundaryIsFreshPrefixedHexWithinTheRfc2046Limits() {
        Pattern shape = Pattern.compile("SLUICE_[0-9a-f]{32}");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String boundary = MultipartByteranges.newBoundary();
            assertTrue(shape.matcher(boundary).matches(), boundary);
            assertTrue(boundary.length() <= 70, boundary);
            assertTrue(MultipartByteranges.isValidBoundary(boundary), boundary);
            assertTrue(seen.add(boundary), "repeated boundary " + boundary);
        }
    }

    @Test
    void newBoundaryUsesAllHexDigitsInEveryPosition() {
        List<Set<Character>> digitsByPosition = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            digitsByPosition.add(new HashSet<>());
        }
        for (int i = 0; i < 2_000; i++) {
            String hex = MultipartByteranges.newBoundary().substring("SLUICE_".length());
            for (int p = 0; p < 32; p++) {
                digitsByPosition.get(p).add(hex.charAt(p));
            }
        }
        digitsByPosition.forEach(digits -> assertEquals(16, digits.size(), digits::toString));
    }

    @Test
    void newBoundaryNeedsNoQuotingInContentType() {
        String boundary = MultipartByteranges.newBoundary();
        assertEquals("multipart/byteranges; boundary=" + boundary,
                MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, boundary).contentType());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", "a:b", "a/b", "(x)", "a,b", "a=b", "a?b"})
    void boundaryThatIsNotATokenIsQuotedInContentType(String boundary) {
        MultipartByteranges body = MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, boundary);
        assertEquals("multipart/byteranges; boundary=\"" + boundary + "\"", body.contentType());
        assertTrue(new String(render(body, ALPHABET), US_ASCII).startsWith("--" + boundary + "\r\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a'b", "a+b", "a_b", "a-b", "a.b", "0"})
    void tokenBoundaryIsNotQuoted(String boundary) {
        assertEquals("multipart/byteranges; boundary=" + boundary,
                MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, boundary).contentType());
    }

    @Test
    void seventyCharacterBoundaryIsTheLongestAccepted() {
        String seventy = "b".repeat(70);
        assertTrue(MultipartByteranges.isValidBoundary(seventy));
        MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, seventy);
        assertThrows(IllegalArgumentException.class,
                () -> MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, seventy + "b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ends with space ", "a\r\nb", "a;b", "a\"b", "a\\b", "ü", "a*b", "a\tb", "a%b"})
    void invalidBoundaryIsRejected(String boundary) {
        assertFalse(MultipartByteranges.isValidBoundary(boundary));
        assertThrows(IllegalArgumentException.class,
                () -> MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, null, boundary));
    }

    @Test
    void invalidArgumentsAreRejected() {
        List<ByteRange> one = List.of(new ByteRange(0, 0));
        assertThrows(IllegalArgumentException.class, () -> MultipartByteranges.of(List.of(), 1, null, "b"));
        assertThrows(IllegalArgumentException.class,
                () -> MultipartByteranges.of(List.of(new ByteRange(0, 36)), 36, null, "b"));
        assertThrows(IllegalArgumentException.class, () -> MultipartByteranges.of(one, 0, null, "b"));
        assertThrows(IllegalArgumentException.class,
                () -> MultipartByteranges.of(one, 1, "text/plain\r\nX-Injected: 1", "b"));
        assertThrows(IllegalArgumentException.class, () -> MultipartByteranges.of(one, 1, "text/plaïn", "b"));
        assertThrows(NullPointerException.class, () -> MultipartByteranges.of(null, 1, null, "b"));
        assertThrows(NullPointerException.class, () -> MultipartByteranges.of(one, 1, null, null));
        assertThrows(NullPointerException.class,
                () -> MultipartByteranges.of(Arrays.asList(new ByteRange(0, 0), null), 1, null, "b"));
    }

    @Test
    void lastByteOfTheRepresentationIsAccepted() {
        assertEquals(new Piece.Range(new ByteRange(35, 35)),
                MultipartByteranges.of(List.of(new ByteRange(35, 35)), 36, null, "b").pieces().get(1));
    }

    @Test
    void contentTypeParametersAndTabsAreCopiedVerbatim() {
        MultipartByteranges body = MultipartByteranges.of(List.of(new ByteRange(0, 0)), 1, "text/plain;\tcharset=utf-8", "b");
        assertEquals(literal("--b\r\nContent-Type: text/plain;\tcharset=utf-8\r\nContent-Range: bytes 0-0/1\r\n\r\n"),
                body.pieces().get(0));
    }

    @Test
    void literalComparesContentsAndDefendsItsBytes() {
        byte[] bytes = "abc".getBytes(US_ASCII);
        Piece.Literal lit = new Piece.Literal(bytes);
        bytes[0] = 'x';
        assertArrayEquals("abc".getBytes(US_ASCII), lit.bytes());
        lit.bytes()[1] = 'x';
        assertArrayEquals("abc".getBytes(US_ASCII), lit.bytes());
        assertEquals(3, lit.length());
        assertEquals(literal("abc"), lit);
        assertEquals(literal("abc").hashCode(), lit.hashCode());
        assertNotEquals(literal("abd"), lit);
        assertEquals("Literal[a\\r\\n]", literal("a\r\n").toString());
    }

    @Test
    void randomRangesRoundTripThroughAMultipartParser() {
        Random random = new Random(2046);
        for (int run = 0; run < 500; run++) {
            byte[] source = new byte[1 + random.nextInt(3_000)];
            random.nextBytes(source);
            plantFakeDelimiters(source, random);
            List<ByteRange> ranges = new ArrayList<>();
            int count = 1 + random.nextInt(8);
            for (int i = 0; i < count; i++) {
                int first = random.nextInt(source.length);
                int last = first + random.nextInt(source.length - first);
                ranges.add(new ByteRange(first, last));
            }
            String type = random.nextBoolean() ? null : "video/mp4";
            String boundary = MultipartByteranges.newBoundary();
            MultipartByteranges body = MultipartByteranges.of(ranges, source.length, type, boundary);

            byte[] rendered = render(body, source);
            assertEquals(rendered.length, body.contentLength());
            List<Part> parts = parse(rendered, boundary);
            assertEquals(ranges.size(), parts.size());
            for (int i = 0; i < ranges.size(); i++) {
                ByteRange range = ranges.get(i);
                Part part = parts.get(i);
                Map<String, String> headers = new LinkedHashMap<>();
                if (type != null) {
                    headers.put("Content-Type", type);
                }
                headers.put("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + source.length);
                assertEquals(headers, part.headers());
                assertArrayEquals(Arrays.copyOfRange(source, (int) range.first(), (int) range.last() + 1), part.content());
            }
        }
    }

    @Test
    void parserRejectsABodyFramedWithAnotherBoundary() {
        byte[] rendered = render(MultipartByteranges.of(List.of(new ByteRange(0, 3)), 36, null, "one"), ALPHABET);
        assertThrows(IllegalStateException.class, () -> parse(rendered, "two"));
        assertThrows(IllegalStateException.class, () -> parse(rendered, "on"));
        assertEquals(1, parse(rendered, "one").size());
    }

    /** Writes text such as {@code \r\n--SLUICE_} into the content, which the boundary's random part must survive. */
    private static void plantFakeDelimiters(byte[] source, Random random) {
        byte[] fake = "\r\n--SLUICE_0123\r\n\r\n--".getBytes(US_ASCII);
        if (source.length > fake.length && random.nextBoolean()) {
            System.arraycopy(fake, 0, source, random.nextInt(source.length - fake.length), fake.length);
        }
    }

    private static Piece.Literal literal(String text) {
        return new Piece.Literal(text.getBytes(US_ASCII));
    }

    private static long literalBytes(MultipartByteranges body) {
        return body.pieces().stream()
                .filter(Piece.Literal.class::isInstance)
                .mapToLong(p -> ((Piece.Literal) p).length())
                .sum();
    }

    /** Writes the body as an engine would, taking range bytes from {@code source}. */
    static byte[] render(MultipartByteranges body, byte[] source) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Piece piece : body.pieces()) {
            if (piece instanceof Piece.Literal lit) {
                out.writeBytes(lit.bytes());
            } else {
                ByteRange range = ((Piece.Range) piece).range();
                out.write(source, (int) range.first(), (int) range.length());
            }
        }
        return out.toByteArray();
    }

    record Part(Map<String, String> headers, byte[] content) {
    }

    /**
     * A minimal RFC 2046 Section 5.1.1 reader for bodies without preamble: parts are separated by
     * {@code CRLF --boundary CRLF}, the last is followed by {@code CRLF --boundary-- CRLF} and
     * nothing else, and headers end at the first empty line.
     */
    static List<Part> parse(byte[] body, String boundary) {
        byte[] dashBoundary = ("--" + boundary).getBytes(US_ASCII);
        byte[] delimiter = ("\r\n--" + boundary).getBytes(US_ASCII);
        int pos = expect(body, 0, dashBoundary);
        pos = expect(body, pos, new byte[] {'\r', '\n'});
        List<Part> parts = new ArrayList<>();
        while (true) {
            int end = indexOf(body, delimiter, pos);
            if (end < 0) {
                throw new IllegalStateException("no delimiter after offset " + pos);
            }
            parts.add(parsePart(Arrays.copyOfRange(body, pos, end)));
            pos = end + delimiter.length;
            if (startsWith(body, pos, "--\r\n".getBytes(US_ASCII))) {
                if (pos + 4 != body.length) {
                    throw new IllegalStateException("bytes after the close delimiter");
                }
                return parts;
            }
            pos = expect(body, pos, new byte[] {'\r', '\n'});
        }
    }

    private static Part parsePart(byte[] part) {
        int headerEnd = indexOf(part, "\r\n\r\n".getBytes(US_ASCII), 0);
        if (headerEnd < 0) {
            throw new IllegalStateException("part without header section");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : new String(part, 0, headerEnd, US_ASCII).split("\r\n")) {
            int colon = line.indexOf(": ");
            headers.put(line.substring(0, colon), line.substring(colon + 2));
        }
        return new Part(headers, Arrays.copyOfRange(part, headerEnd + 4, part.length));
    }

    private static int expect(byte[] body, int pos, byte[] expected) {
        if (!startsWith(body, pos, expected)) {
            throw new IllegalStateException("expected " + new String(expected, US_ASCII) + " at offset " + pos);
        }
        return pos + expected.length;
    }

    private static boolean startsWith(byte[] body, int pos, byte[] prefix) {
        return pos + prefix.length <= body.length
                && Arrays.equals(body, pos, pos + prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] body, byte[] needle, int from) {
        for (int i = from; i + needle.length <= body.length; i++) {
            if (startsWith(body, i, needle)) {
                return i;
            }
        }
        return -1;
    }
}
