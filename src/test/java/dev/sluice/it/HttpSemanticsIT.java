package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.servlet.SluiceServlet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTP semantics of file responses through real containers, one case per test: ranges (RFC 9110 section 14),
 * conditional requests (section 13), dates, content types and dispositions, methods, precompressed variants,
 * directories, and paths that must never reach a file outside the root. Every body is compared byte for byte.
 */
class HttpSemanticsIT {


    /** The modification time of every test file: whole seconds, long past (If-Range dates need that). */
    private static final long MTIME = 1_700_000_000_000L;
    private static final String MTIME_IMF = "Tue, 14 Nov 2023 22:13:20 GMT";
    private static final String MTIME_RFC850 = "Tuesday, 14-Nov-23 22:13:20 GMT";
    private static final String MTIME_ASCTIME = "Tue Nov 14 22:13:20 2023";
    private static final String ONE_SECOND_EARLIER = "Tue, 14 Nov 2023 22:13:19 GMT";
    private static final String ONE_DAY_EARLIER = "Mon, 13 Nov 2023 22:13:20 GMT";
    private static final String ONE_DAY_LATER = "Wed, 15 Nov 2023 22:13:20 GMT";
    private static final String FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT";

    private static final Pattern IMF_FIXDATE = Pattern.compile(
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} "
                    + "\\d{2}:\\d{2}:\\d{2} GMT");
    private static final Pattern MULTIPART = Pattern.compile("multipart/byteranges; boundary=(SLUICE_[0-9a-f]{32})");

    private static final String TEXT_UTF8 = "text/plain;charset=utf-8";
    private static final Map<String, String> PRECOMPRESSED = Map.of("precompressed", "br,gzip");
    private static final String OCTETS = "application/octet-stream";

    /** The content of a file outside the root: no answer may ever contain it. */
    private static final String OUTSIDE_MARKER = "OUTSIDE-THE-ROOT-d41c9e";
    private static final String INSIDE_TEXT = "inside the root\n";

    @TempDir
    Path work;

    private Path root;
    private SluiceServlet servlet;
    private ContainerKind.Running container;
    private byte[] data;
    private String etag;
    /** a.txt and its precompressed variants, once {@link #writeVariants()} made them. */
    private byte[] plain;
    private byte[] gz;
    private byte[] br;

    /** A response read to the end of the connection. */
    private record Reply(TestClient.Head head, byte[] body) {
        int status() {
            return head.status();
        }

        String header(String name) {
            return head.header(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** One part of a multipart/byteranges body. */
    private record Part(Map<String, String> headers, byte[] bytes) {
    }

    // ---------------------------------------------------------------------------------------------------------
    // Set-up and helpers

    /**
     * Starts the servlet over a fresh root that holds {@code data.bin} (3 MiB of seeded random bytes, modified at
     * {@link #MTIME}), next to {@code outside.txt} which is not under the root.
     */
    private void start(ContainerKind kind, Map<String, String> extra) throws Exception {
        root = Files.createDirectory(work.resolve("root"));
        Files.writeString(work.resolve("outside.txt"), OUTSIDE_MARKER + "\n");
        data = write("data.bin", 3 * 1024 * 1024 + 7);
        etag = "\"" + Long.toHexString(data.length) + "-" + Long.toHexString(MTIME) + "\"";
        servlet = new SluiceServlet();
        Map<String, String> params = new HashMap<>(extra);
        params.put("root", root.toString());
        container = kind.start(servlet, params, 0);
    }

    @AfterEach
    void stop() throws Exception {
        if (container != null) {
            try {
                Leaks.assertNothingHeld(servlet, root);
            } finally {
                container.close();
            }
        }
    }

    private byte[] write(String name, int size) throws IOException {
        byte[] bytes = new byte[size];
        new Random(name.hashCode()).nextBytes(bytes);
        Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.fromMillis(MTIME));
        return bytes;
    }

    private byte[] writeText(String name, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.fromMillis(MTIME));
        return bytes;
    }

    private Reply get(String target) throws IOException {
        return call("GET", target, Map.of());
    }

    private Reply get(String target, Map<String, String> headers) throws IOException {
        return call("GET", target, headers);
    }

    private Reply getLines(String target, List<Map.Entry<String, String>> lines) throws IOException {
        try (TestClient client = new TestClient(container.uri())) {
            client.setReadTimeout(30_000);
            TestClient.Head head = client.sendLines("GET", target, lines, true);
            return new Reply(head, head.status() == 304 ? readToEnd(client) : client.readBody(head));
        }
    }

    /**
     * Sends one request (with {@code Connection: close}) and reads the answer to the end of the connection.
     * A body-less answer (HEAD, 304) must have no bytes at all; any other must have exactly its Content-Length.
     */
    private Reply call(String method, String target, Map<String, String> headers) throws IOException {
        try (TestClient client = new TestClient(container.uri())) {
            client.setReadTimeout(30_000);
            TestClient.Head head = client.send(method, target, headers, true);
            if (method.equals("HEAD") || head.status() == 304 || head.status() == 204) {
                return new Reply(head, readToEnd(client));
            }
            if (head.contentLength() < 0) {
                return new Reply(head, readToEnd(client));
            }
            byte[] body = client.readBody(head);
            byte[] extra = readToEnd(client);
            assertEquals(0, extra.length, method + " " + target + ": bytes after the Content-Length of the body");
            return new Reply(head, body);
        }
    }

    private static byte[] readToEnd(TestClient client) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = client.read(buffer, 0, buffer.length)) >= 0; ) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static byte[] slice(byte[] bytes, long first, long last) {
        return Arrays.copyOfRange(bytes, (int) first, (int) last + 1);
    }

    private void assertWhole(Reply reply) {
        assertWhole(reply, data);
    }

    private static void assertWhole(Reply reply, byte[] expected) {
        assertEquals(200, reply.status(), "status");
        assertNull(reply.header("content-range"), "a 200 has no Content-Range");
        assertEquals(Long.toString(expected.length), reply.header("content-length"));
        assertArrayEquals(expected, reply.body(), "body");
    }

    private void assertPart(Reply reply, long first, long last) {
        assertPart(reply, data, first, last, OCTETS);
    }

    private static void assertPart(Reply reply, byte[] file, long first, long last, String contentType) {
        assertEquals(206, reply.status(), "status");
        assertEquals("bytes " + first + "-" + last + "/" + file.length, reply.header("content-range"));
        assertEquals(Long.toString(last - first + 1), reply.header("content-length"));
        assertEquals(contentType, reply.header("content-type"));
        assertEquals("bytes", reply.header("accept-ranges"));
        assertArrayEquals(slice(file, first, last), reply.body(), "body");
    }

    private void assertNotModified(Reply reply) {
        assertEquals(304, reply.status(), "status");
        assertEquals(etag, reply.header("etag"));
        assertEquals(MTIME_IMF, reply.header("last-modified"));
        assertEquals(0, reply.body().length, "a 304 has no body");
        assertNull(reply.header("content-range"));
    }

    private static void assertNoLeak(String what, Reply reply) {
        String text = new String(reply.body(), StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(OUTSIDE_MARKER), what + " served the file outside the root");
        assertFalse(text.contains("Exception") || text.contains("\tat "), what + " leaked a stack trace: " + text);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Single ranges

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangeOfTheFirstHundredBytesIsA206WithThoseBytes(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("Range", "bytes=0-99"));
        assertPart(reply, 0, 99);
        assertEquals(etag, reply.header("etag"));
        assertEquals(MTIME_IMF, reply.header("last-modified"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void openEndedRangeRunsToTheLastByte(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertPart(get("/data.bin", Map.of("Range", "bytes=100-")), 100, data.length - 1);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void suffixRangeGivesTheLastBytes(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertPart(get("/data.bin", Map.of("Range", "bytes=-500")), data.length - 500, data.length - 1);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangePastFourGibOfASparseFileHasItsOffsetsAndMarkers(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        long size = 5L << 30;
        long first = (4L << 30) + 100; // 4294967396
        long last = first + 99; // 4294967495
        byte[] begin = "BEGIN>".getBytes(StandardCharsets.US_ASCII);
        byte[] middle = "-middle-".getBytes(StandardCharsets.US_ASCII);
        byte[] end = "<END".getBytes(StandardCharsets.US_ASCII);
        byte[] expected = new byte[100];
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("huge.bin").toFile(), "rw")) {
            file.setLength(size);
            file.seek(first - 1);
            file.write('x'); // just before the range: must not be sent
            file.seek(first);
            file.write(begin);
            file.seek(first + 40);
            file.write(middle);
            file.seek(last - end.length + 1);
            file.write(end);
            file.write('y'); // just after the range: must not be sent
        }
        System.arraycopy(begin, 0, expected, 0, begin.length);
        System.arraycopy(middle, 0, expected, 40, middle.length);
        System.arraycopy(end, 0, expected, 100 - end.length, end.length);

        Reply reply = get("/huge.bin", Map.of("Range", "bytes=4294967396-4294967495"));
        assertEquals(206, reply.status());
        assertEquals("bytes 4294967396-4294967495/5368709120", reply.header("content-range"));
        assertEquals("100", reply.header("content-length"));
        assertArrayEquals(expected, reply.body());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangeOfTheLastByteIsThatOneByte(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        long lastByte = data.length - 1;
        assertPart(get("/data.bin", Map.of("Range", "bytes=" + lastByte + "-" + lastByte)), lastByte, lastByte);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangeEndingBeyondTheLengthIsClampedToTheLastByte(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        long first = data.length - 10;
        Reply reply = get("/data.bin", Map.of("Range", "bytes=" + first + "-" + (data.length + 1_000_000L)));
        assertPart(reply, first, data.length - 1);
        assertEquals("10", reply.header("content-length"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Several ranges

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void multipleRangesComeAsMultipartByterangesPartByPart(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        // in the order asked for (RFC 9110 15.3.7.2), a mapped region (longer than a chunk) among them
        Reply reply = get("/data.bin", Map.of("Range", "bytes=100-199,0-9,1000000-1999999,20-29"));
        assertEquals(206, reply.status());
        assertNull(reply.header("content-range"), "a multipart answer has Content-Range in its parts only");
        Matcher type = MULTIPART.matcher(reply.header("content-type"));
        assertTrue(type.matches(), reply.header("content-type"));
        assertEquals(Long.toString(reply.body().length), reply.header("content-length"));
        List<Part> parts = parseMultipart(reply.body(), type.group(1));
        long[][] expected = {{100, 199}, {0, 9}, {1_000_000, 1_999_999}, {20, 29}};
        assertEquals(expected.length, parts.size(), "parts");
        for (int i = 0; i < expected.length; i++) {
            Part part = parts.get(i);
            assertEquals(Map.of("content-type", OCTETS, "content-range",
                    "bytes " + expected[i][0] + "-" + expected[i][1] + "/" + data.length), part.headers(), "part " + i);
            assertArrayEquals(slice(data, expected[i][0], expected[i][1]), part.bytes(), "bytes of part " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void twoMultipartAnswersHaveDifferentBoundaries(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply one = get("/data.bin", Map.of("Range", "bytes=0-9,20-29"));
        Reply two = get("/data.bin", Map.of("Range", "bytes=0-9,20-29"));
        Matcher first = MULTIPART.matcher(one.header("content-type"));
        Matcher second = MULTIPART.matcher(two.header("content-type"));
        assertTrue(first.matches() && second.matches(), one.header("content-type") + " / " + two.header("content-type"));
        assertNotEquals(first.group(1), second.group(1), "a fixed boundary lets a file forge parts");
        assertEquals(2, parseMultipart(one.body(), first.group(1)).size());
        assertEquals(2, parseMultipart(two.body(), second.group(1)).size());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void overlappingAndAdjacentRangesCoalesceIntoOnePlainPart(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("Range", "bytes=0-99,50-149,150-199"));
        assertPart(reply, 0, 199);
        assertEquals("bytes 0-199/" + data.length, reply.header("content-range"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void moreRangesThanMaxRangesGetTheWholeFile(ContainerKind kind) throws Exception {
        start(kind, Map.of("maxRanges", "3"));
        assertWhole(get("/data.bin", Map.of("Range", "bytes=0-0,10-10,20-20,30-30")));
        // Three are still honoured: the setting, not ranges in general, made the difference.
        assertEquals(206, get("/data.bin", Map.of("Range", "bytes=0-0,10-10,20-20")).status());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void unsatisfiableRangeIs416WithTheCompleteLength(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("Range", "bytes=" + data.length + "-"));
        assertEquals(416, reply.status());
        assertEquals("bytes */" + data.length, reply.header("content-range"));
        assertEquals(TEXT_UTF8, reply.header("content-type"));
        assertEquals("Range Not Satisfiable\n", reply.text());
    }

    static Stream<Arguments> invalidRanges() {
        return Stream.of(ContainerKind.values()).flatMap(kind -> Stream.of("bytes=abc", "items=0-1", "bytes=5-1")
                .map(range -> Arguments.of(kind, range)));
    }

    @ParameterizedTest(name = "{0} Range: {1}")
    @MethodSource("invalidRanges")
    void invalidRangeIsIgnoredAndTheWholeFileSent(ContainerKind kind, String range) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("Range", range)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void withAcceptRangesOffRangesAreIgnoredAndNoneAnnounced(ContainerKind kind) throws Exception {
        start(kind, Map.of("acceptRanges", "false"));
        Reply reply = get("/data.bin", Map.of("Range", "bytes=0-99"));
        assertWhole(reply);
        assertEquals("none", reply.header("accept-ranges"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // If-Range

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifRangeWithTheCurrentStrongEtagGivesThePart(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertPart(get("/data.bin", Map.of("Range", "bytes=0-99", "If-Range", etag)), 0, 99);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifRangeWithAnotherEtagGivesTheWholeFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("Range", "bytes=0-99", "If-Range", "\"another-tag\"")));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifRangeWithTheExactLastModifiedGivesThePart(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertPart(get("/data.bin", Map.of("Range", "bytes=0-99", "If-Range", MTIME_IMF)), 0, 99);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifRangeWithAnotherDateGivesTheWholeFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("Range", "bytes=0-99", "If-Range", ONE_DAY_LATER)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifRangeWithAWeakTagGivesTheWholeFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("Range", "bytes=0-99", "If-Range", "W/" + etag)));
    }

    // ---------------------------------------------------------------------------------------------------------
    // If-None-Match and If-Modified-Since

    static Stream<Arguments> matchingIfNoneMatch() {
        return Stream.of(ContainerKind.values()).flatMap(kind -> Stream.of("etag", "*", "list", "weak")
                .map(form -> Arguments.of(kind, form)));
    }

    @ParameterizedTest(name = "{0} If-None-Match: {1}")
    @MethodSource("matchingIfNoneMatch")
    void ifNoneMatchThatMatchesIs304WithValidatorsAndNoBody(ContainerKind kind, String form) throws Exception {
        start(kind, Map.of());
        String value = switch (form) {
            case "etag" -> etag;
            case "*" -> "*";
            case "list" -> "\"something-else\", " + etag + ", \"another\"";
            case "weak" -> "W/" + etag;
            default -> throw new IllegalArgumentException(form);
        };
        assertNotModified(get("/data.bin", Map.of("If-None-Match", value)));
    }

    /**
     * RFC 9110 8.6: a server "MUST NOT send Content-Length in such a response unless its field value equals the
     * decimal number of octets that would have been sent in the content of a 200 (OK) response". So a 304 has no
     * Content-Length, or the file's; {@code Content-Length: 0} claims the representation is empty.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void notModifiedHasNoContentLengthOrTheLengthOfTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("If-None-Match", etag));
        assertNotModified(reply);
        String length = reply.header("content-length");
        assertTrue(length == null || length.equals(Long.toString(data.length)),
                "Content-Length on a 304 must be absent or " + data.length + ", not " + length);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifNoneMatchThatDoesNotMatchGivesTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-None-Match", "\"something-else\", W/\"another\"")));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifModifiedSinceEqualToLastModifiedIs304(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertNotModified(get("/data.bin", Map.of("If-Modified-Since", MTIME_IMF)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifModifiedSinceOneSecondBeforeGivesTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-Modified-Since", ONE_SECOND_EARLIER)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void malformedIfModifiedSinceIsIgnored(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-Modified-Since", "Tue, 14 Nov 2023 25:13:20 GMT")));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifNoneMatchThatDoesNotMatchOverridesAFutureIfModifiedSince(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-None-Match", "\"something-else\"", "If-Modified-Since", FUTURE)));
    }

    /**
     * A list field sent on several lines is one list (RFC 9110 Section 5.3): the tag on the second line counts as
     * if both were on one. If-Modified-Since on two lines has more than one member and is ignored (Section 13.1.3).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void conditionalFieldsOnSeveralLinesAreOneList(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertNotModified(getLines("/data.bin", List.of(Map.entry("If-None-Match", "\"something-else\""),
                Map.entry("If-None-Match", etag))));
        assertWhole(getLines("/data.bin", List.of(Map.entry("If-Match", "\"something-else\""),
                Map.entry("If-Match", etag))));
        assertEquals(412, getLines("/data.bin", List.of(Map.entry("If-Match", "\"something-else\""),
                Map.entry("If-Match", "\"another\""))).status());
        assertNotModified(get("/data.bin", Map.of("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")));
        assertWhole(getLines("/data.bin", List.of(Map.entry("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT"),
                Map.entry("If-Modified-Since", ONE_DAY_EARLIER))));
    }

    // ---------------------------------------------------------------------------------------------------------
    // If-Match and If-Unmodified-Since

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifMatchWithTheEtagGivesTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-Match", etag)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifMatchWithAnotherEtagIs412(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("If-Match", "\"something-else\""));
        assertEquals(412, reply.status());
        assertEquals("Precondition Failed\n", reply.text());
        assertEquals(TEXT_UTF8, reply.header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifMatchStarGivesTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-Match", "*")));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void ifUnmodifiedSinceBeforeLastModifiedIs412(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = get("/data.bin", Map.of("If-Unmodified-Since", ONE_DAY_EARLIER));
        assertEquals(412, reply.status());
        assertEquals("Precondition Failed\n", reply.text());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void malformedIfUnmodifiedSinceIsIgnored(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertWhole(get("/data.bin", Map.of("If-Unmodified-Since", "yesterday, around noon")));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Dates

    static Stream<Arguments> dateFormats() {
        return Stream.of(ContainerKind.values()).flatMap(kind -> Stream.of(
                Arguments.of(kind, "IMF-fixdate", MTIME_IMF),
                Arguments.of(kind, "RFC 850", MTIME_RFC850),
                Arguments.of(kind, "asctime", MTIME_ASCTIME)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dateFormats")
    void ifModifiedSinceIsUnderstoodInEachHttpDateFormat(ContainerKind kind, String format, String date)
            throws Exception {
        start(kind, Map.of());
        assertNotModified(get("/data.bin", Map.of("If-Modified-Since", date)));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void lastModifiedIsWrittenAsAnImfFixdate(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.setLastModifiedTime(root.resolve("data.bin"), FileTime.fromMillis(1_234_567_890_999L));
        String lastModified = get("/data.bin").header("last-modified");
        assertTrue(IMF_FIXDATE.matcher(lastModified).matches(), lastModified);
        assertEquals("Fri, 13 Feb 2009 23:31:30 GMT", lastModified);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cache-Control, content types, nosniff

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void configuredCacheControlIsSentWithTheFileAndWith304(ContainerKind kind) throws Exception {
        start(kind, Map.of("cacheControl", "public, max-age=60"));
        assertEquals("public, max-age=60", get("/data.bin").header("cache-control"));
        Reply notModified = get("/data.bin", Map.of("If-None-Match", etag));
        assertNotModified(notModified);
        assertEquals("public, max-age=60", notModified.header("cache-control"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void noCacheControlByDefault(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertNull(get("/data.bin").header("cache-control"));
        assertNull(get("/data.bin", Map.of("If-None-Match", etag)).header("cache-control"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void fileResponsesForbidSniffing(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        assertEquals("nosniff", get("/data.bin").header("x-content-type-options"));
        assertEquals("nosniff", get("/data.bin", Map.of("Range", "bytes=0-0")).header("x-content-type-options"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void textFileIsTextPlainWithTheDefaultCharset(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] text = writeText("notes.txt", "grüße\n");
        Reply reply = get("/notes.txt");
        assertWhole(reply, text);
        assertEquals(TEXT_UTF8, reply.header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void htmlFileIsTextHtmlWithTheDefaultCharset(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] html = writeText("page.html", "<p>hello</p>\n");
        Reply reply = get("/page.html");
        assertWhole(reply, html);
        assertEquals("text/html;charset=utf-8", reply.header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void textCharsetNoneSendsTextTypesWithoutACharsetThatTheContainerWouldInfer(ContainerKind kind) throws Exception {
        start(kind, Map.of("textCharset", "none"));
        byte[] text = writeText("notes.txt", "plain\n");
        byte[] html = writeText("page.html", "<p>hello</p>\n");
        Reply whole = get("/notes.txt");
        assertWhole(whole, text);
        assertEquals("text/plain", whole.header("content-type"));
        Reply page = get("/page.html");
        assertWhole(page, html);
        assertEquals("text/html", page.header("content-type"));
        Reply part = get("/notes.txt", Map.of("Range", "bytes=1-2"));
        assertEquals(206, part.status());
        assertArrayEquals(Arrays.copyOfRange(text, 1, 3), part.body());
        assertEquals("text/plain", part.header("content-type"));
        assertEquals("text/plain", call("HEAD", "/notes.txt", Map.of()).header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void unknownExtensionIsOctetStreamWithoutCharset(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] bytes = write("blob.qqzz", 1000);
        Reply reply = get("/blob.qqzz");
        assertWhole(reply, bytes);
        assertEquals(OCTETS, reply.header("content-type"));
    }

    /**
     * Media files get their types in every container, whether its map knows them or not (Jetty's lacks webm, m3u8
     * and ts; embedded Tomcat's has none), and {@code mimeTypes} names the type of an extension over both.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void mediaFilesHaveTheirTypesAndMimeTypesOverridesThem(ContainerKind kind) throws Exception {
        start(kind, Map.of("mimeTypes", "log=text/plain,webm=audio/webm"));
        Map<String, String> expected = Map.of("clip.webm", "audio/webm", "index.m3u8",
                "application/vnd.apple.mpegurl", "seg.ts", "video/mp2t", "subs.vtt", "text/vtt;charset=utf-8",
                "movie.mkv", "video/x-matroska", "server.log", "text/plain;charset=utf-8", "page.xhtml",
                "application/xhtml+xml;charset=utf-8", "app.js", "text/javascript;charset=utf-8");
        for (Map.Entry<String, String> file : expected.entrySet()) {
            byte[] bytes = write(file.getKey(), 100);
            Reply reply = get("/" + file.getKey());
            assertWhole(reply, bytes);
            assertEquals(file.getValue(), reply.header("content-type"), file.getKey());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Content-Disposition

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void downloadQueryFlagMakesAnAttachment(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] text = writeText("report.txt", "report\n");
        Reply reply = get("/report.txt?download");
        assertWhole(reply, text);
        assertEquals("attachment; filename=\"report.txt\"", reply.header("content-disposition"));
        assertNull(get("/report.txt").header("content-disposition"), "no flag, no attachment");
        for (String no : List.of("download=0", "download=false", "download=No", "a=1&download=off",
                "download=%66alse", "download=%30", "%64ownload=of%66")) {
            assertNull(get("/report.txt?" + no).header("content-disposition"), no);
        }
        assertEquals("attachment; filename=\"report.txt\"",
                get("/report.txt?download=yes").header("content-disposition"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void nonAsciiNameGetsAnAsciiFallbackAndAnExtendedFilename(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] text = writeText("my file ü.txt", "umlaut\n");
        Reply reply = get("/my%20file%20%C3%BC.txt?download=1");
        assertWhole(reply, text);
        assertEquals("attachment; filename=\"my file _.txt\"; filename*=UTF-8''my%20file%20%C3%BC.txt",
                reply.header("content-disposition"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void attachmentExtensionsAreAttachmentsWithoutTheFlag(ContainerKind kind) throws Exception {
        start(kind, Map.of("attachmentExtensions", "zip,iso"));
        byte[] zip = write("bundle.zip", 2048);
        writeText("readme.txt", "read me\n");
        Reply reply = get("/bundle.zip");
        assertWhole(reply, zip);
        assertEquals("attachment; filename=\"bundle.zip\"", reply.header("content-disposition"));
        assertNull(get("/readme.txt").header("content-disposition"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Methods

    /** Allow lists GET, HEAD and OPTIONS, in any order (RFC 9110 10.2.1), each once. */
    private static void assertAllow(Reply reply) {
        String allow = reply.header("allow");
        assertTrue(allow != null, "no Allow header");
        List<String> methods = Stream.of(allow.split(",")).map(String::trim).sorted().toList();
        assertEquals(List.of("GET", "HEAD", "OPTIONS"), methods, "Allow: " + allow);
    }

    /** Registered methods other than GET, HEAD and OPTIONS: 405; methods HTTP does not know: 501 (RFC 9110 9.1). */
    static Stream<Arguments> refusedMethods() {
        Map<String, Integer> statuses = Map.of("POST", 405, "PUT", 405, "DELETE", 405, "TRACE", 405, "PROPFIND", 405,
                "FOO", 501, "get", 501, "BREW", 501);
        return Stream.of(ContainerKind.values()).flatMap(kind -> statuses.entrySet().stream()
                .map(method -> Arguments.of(kind, method.getKey(), method.getValue())));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusedMethods")
    void otherMethodsAreRefusedWithTheAllowedMethods(ContainerKind kind, String method, int status) throws Exception {
        start(kind, Map.of());
        Reply reply = call(method, "/data.bin", Map.of());
        assertEquals(status, reply.status());
        assertAllow(reply);
        assertNoLeak(method, reply);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void optionsListsTheAllowedMethods(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = call("OPTIONS", "/data.bin", Map.of());
        assertEquals(200, reply.status());
        assertAllow(reply);
        assertEquals(0, reply.body().length);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void headOfARangedRequestGivesTheHeadersOfTheWholeFileAndNoBody(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Reply reply = call("HEAD", "/data.bin", Map.of("Range", "bytes=0-99"));
        assertEquals(200, reply.status());
        assertEquals(Long.toString(data.length), reply.header("content-length"));
        assertNull(reply.header("content-range"));
        assertEquals(OCTETS, reply.header("content-type"));
        assertEquals(etag, reply.header("etag"));
        assertEquals(0, reply.body().length, "HEAD has no body");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Precompressed variants

    /** a.txt with a.txt.gz and a.txt.br (arbitrary bytes), the variants one second newer than the original. */
    private void writeVariants() throws IOException {
        plain = writeText("a.txt", "the original text, not compressed\n");
        gz = write("a.txt.gz", 777);
        br = write("a.txt.br", 555);
        Files.setLastModifiedTime(root.resolve("a.txt.gz"), FileTime.fromMillis(MTIME + 1000));
        Files.setLastModifiedTime(root.resolve("a.txt.br"), FileTime.fromMillis(MTIME + 1000));
    }

    private void assertIdentity(Reply reply) {
        assertWhole(reply, plain);
        assertNull(reply.header("content-encoding"));
        assertEquals(TEXT_UTF8, reply.header("content-type"));
        assertEquals("Accept-Encoding", reply.header("vary"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void gzipVariantIsServedWhenAccepted(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        Reply identity = get("/a.txt");
        assertIdentity(identity);
        Reply reply = get("/a.txt", Map.of("Accept-Encoding", "gzip"));
        assertWhole(reply, gz);
        assertEquals("gzip", reply.header("content-encoding"));
        assertEquals("Accept-Encoding", reply.header("vary"));
        assertEquals(TEXT_UTF8, reply.header("content-type"));
        assertTrue(reply.header("etag").startsWith("\""), "strong: " + reply.header("etag"));
        assertNotEquals(identity.header("etag"), reply.header("etag"), "two representations, one ETag");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void brotliIsPreferredWhenBothAreAccepted(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        for (String accept : List.of("br, gzip", "gzip, br")) { // equal weights: the server's order decides
            Reply reply = get("/a.txt", Map.of("Accept-Encoding", accept));
            assertWhole(reply, br);
            assertEquals("br", reply.header("content-encoding"), accept);
            assertEquals("Accept-Encoding", reply.header("vary"));
            assertEquals(TEXT_UTF8, reply.header("content-type"));
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void gzipWithQZeroGetsTheIdentity(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        assertIdentity(get("/a.txt", Map.of("Accept-Encoding", "gzip;q=0")));
    }

    /** The file itself is a choice too (RFC 9110 12.5.3): weighed above the codings, it is sent; on a tie it is not. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void identityWeighedAboveTheCodingsGetsTheIdentity(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        for (String accept : List.of("gzip;q=0.5, identity;q=1", "identity, gzip;q=0.1", "*;q=0.1, identity",
                "br;q=0.2, gzip;q=0.3, identity;q=0.4")) {
            Reply reply = get("/a.txt", Map.of("Accept-Encoding", accept));
            assertNull(reply.header("content-encoding"), accept);
            assertIdentity(reply);
        }
        Reply tie = get("/a.txt", Map.of("Accept-Encoding", "gzip, identity"));
        assertEquals("gzip", tie.header("content-encoding"), "equal weights: the server's order, codings first");
        assertWhole(tie, gz);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void noAcceptEncodingGetsTheIdentityStillWithVary(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        assertIdentity(get("/a.txt"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void variantOlderThanTheOriginalIsNotServed(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        Files.setLastModifiedTime(root.resolve("a.txt.gz"), FileTime.fromMillis(MTIME - 10_000));
        assertIdentity(get("/a.txt", Map.of("Accept-Encoding", "gzip")));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangesApplyToTheVariant(ContainerKind kind) throws Exception {
        start(kind, PRECOMPRESSED);
        writeVariants();
        Reply reply = get("/a.txt", Map.of("Accept-Encoding", "gzip", "Range", "bytes=0-3"));
        assertPart(reply, gz, 0, 3, TEXT_UTF8);
        assertEquals("gzip", reply.header("content-encoding"));
        assertEquals("Accept-Encoding", reply.header("vary"));
    }

    /**
     * A welcome file's variant is the welcome file's name plus the suffix ({@code index.html.gz}); never another
     * file of the directory, such as one named just {@code .gz}, which is not a variant of anything.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void welcomeFileIsNeverAnsweredWithAnotherFilesContent(ContainerKind kind) throws Exception {
        start(kind, Map.of("precompressed", "gzip", "serveHidden", "true"));
        byte[] index = writeText("site/index.html", "<h1>index</h1>\n");
        byte[] indexGz = write("site/index.html.gz", 300);
        write("site/.gz", 400);
        for (String name : List.of("site/index.html.gz", "site/.gz")) {
            Files.setLastModifiedTime(root.resolve(name), FileTime.fromMillis(MTIME + 1000));
        }
        Reply reply = get("/site/", Map.of("Accept-Encoding", "gzip"));
        assertEquals(200, reply.status());
        if (reply.header("content-encoding") == null) {
            assertArrayEquals(index, reply.body(), "identity must be index.html");
        } else {
            assertEquals("gzip", reply.header("content-encoding"));
            assertArrayEquals(indexGz, reply.body(), "the gzip variant of index.html is index.html.gz");
        }
        assertEquals("text/html;charset=utf-8", reply.header("content-type"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Directories

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void directoryWithoutItsSlashRedirectsKeepingTheQuery(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        writeText("dir/index.html", "<h1>dir</h1>\n");
        Reply reply = get("/dir?q=1");
        assertEquals(302, reply.status());
        assertEquals("/dir/?q=1", reply.header("location"));
        assertEquals(0, reply.body().length);
        assertEquals("/dir/?a=1&b=%41", get("/dir?a=1&b=%41").header("location"), "escapes kept");
        // What a URI query may not hold goes percent-encoded (RFC 3986 Section 3.4, RFC 9110 Section 10.2.2);
        // some containers refuse such a request before Sluice (400).
        Reply odd = get("/dir?a=<x>&q=\"|^`{}");
        if (odd.status() == 302) {
            assertEquals("/dir/?a=%3Cx%3E&q=%22%7C%5E%60%7B%7D", odd.header("location"));
        } else {
            assertEquals(400, odd.status(), "refused by the container before Sluice");
        }
    }

    /**
     * {@code //name} would make the redirect's Location {@code //name/}, a network-path reference that a browser
     * follows to the host {@code name}: an open redirect to any host named like a directory of the root.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void directoryRedirectNeverLeadsToAnotherHost(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        writeText("evil.example/index.html", "<h1>dir</h1>\n");
        Reply reply = get("//evil.example");
        if (reply.status() == 302) {
            String location = reply.header("location");
            assertFalse(location.startsWith("//") || location.startsWith("/\\"),
                    "redirect to another host: Location " + location);
        } else {
            assertTrue(reply.status() >= 400 && reply.status() < 500, "status " + reply.status());
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void directoryWithItsSlashServesIndexHtml(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] index = writeText("dir/index.html", "<h1>dir</h1>\n");
        Reply reply = get("/dir/");
        assertWhole(reply, index);
        assertEquals("text/html;charset=utf-8", reply.header("content-type"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void welcomeFilesAreTriedInTheirOrder(ContainerKind kind) throws Exception {
        start(kind, Map.of("welcomeFiles", "home.htm,index.html"));
        byte[] index = writeText("both/index.html", "<h1>index</h1>\n");
        byte[] home = writeText("both/home.htm", "<h1>home</h1>\n");
        writeText("indexonly/index.html", "<h1>only index</h1>\n");
        assertWhole(get("/both/"), home);
        assertWhole(get("/indexonly/"), "<h1>only index</h1>\n".getBytes(StandardCharsets.UTF_8));
        assertFalse(Arrays.equals(index, home));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void directoryWithoutWelcomeFileIsForbidden(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        writeText("plain/file.txt", "x\n");
        Reply reply = get("/plain/");
        assertEquals(403, reply.status());
        assertEquals("Forbidden\n", reply.text());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void directoryListingEscapesNamesAndHidesHiddenAndOutsideEntries(ContainerKind kind) throws Exception {
        start(kind, Map.of("dirListing", "true"));
        writeText("list/<b>&.txt", "markup in the name\n");
        writeText("list/plain.txt", "plain\n");
        writeText("list/.secret", "hidden\n");
        Files.createDirectory(root.resolve("list/subdir"));
        Files.createSymbolicLink(root.resolve("list/escape-link"), work.resolve("outside.txt"));
        Files.createSymbolicLink(root.resolve("list/inside-link"), root.resolve("data.bin"));

        Reply reply = get("/list/");
        assertEquals(200, reply.status());
        assertEquals("text/html;charset=utf-8", reply.header("content-type"));
        assertEquals(Long.toString(reply.body().length), reply.header("content-length"));
        String html = reply.text();
        assertTrue(html.contains("&lt;b&gt;&amp;.txt"), html);
        assertFalse(html.contains("<b>&"), "an unescaped name in the listing: " + html);
        assertTrue(html.contains("plain.txt"), html);
        assertTrue(html.contains("subdir/"), html);
        assertTrue(html.contains("inside-link"), html);
        assertFalse(html.contains(".secret"), "a hidden entry is listed: " + html);
        assertFalse(html.contains("escape-link"), "a link out of the root is listed: " + html);
        assertNoLeak("/list/", reply);
    }

    /**
     * A listing has no ETag and no Last-Modified (RFC 9110 Sections 13.1.1 and 13.1.2): no tag of If-Match can
     * match it (412), If-None-Match {@code *} matches it as it exists (304), a list of tags matches nothing, and
     * dates are ignored.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aDirectoryListingAnswersTheConditionsThatCanDecideWithoutValidators(ContainerKind kind) throws Exception {
        start(kind, Map.of("dirListing", "true"));
        writeText("list/plain.txt", "plain\n");
        Reply failed = get("/list/", Map.of("If-Match", "\"x\""));
        assertEquals(412, failed.status());
        assertFalse(failed.text().contains("plain.txt"), "the listing went with the 412");
        Reply notModified = get("/list/", Map.of("If-None-Match", "*"));
        assertEquals(304, notModified.status());
        assertEquals(0, notModified.body().length);
        for (Map<String, String> goOn : List.of(Map.of("If-Match", "*"), Map.of("If-None-Match", "\"x\""),
                Map.of("If-Modified-Since", "Sun, 06 Nov 2101 08:49:37 GMT"),
                Map.of("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"))) {
            Reply listed = get("/list/", goOn);
            assertEquals(200, listed.status(), goOn.toString());
            assertTrue(listed.text().contains("plain.txt"), goOn.toString());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Paths that must not be served

    static Stream<Arguments> refusedPaths() {
        return Stream.of(ContainerKind.values()).flatMap(kind -> Stream.of(
                "/../outside.txt", "/sub/../../outside.txt",
                "/%2e%2e/outside.txt", "/%2E%2e/outside.txt", "/.%2e/outside.txt", "/%252e%252e/outside.txt",
                "/..%2foutside.txt", "/sub%2finner.txt", "/..%5coutside.txt", "/sub%5cinner.txt",
                "/..;/outside.txt", "/sub/..;/file.txt", "/file.txt;x=1",
                "/file.txt%00", "/file.txt%00.png", "/%c0%ae%c0%ae/outside.txt", "/%u002e%u002e/outside.txt",
                "/FILE.TXT", "/file.txt.", "/file.txt%20")
                .map(path -> Arguments.of(kind, path)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusedPaths")
    void pathIsRefusedWithoutReachingOutside(ContainerKind kind, String path) throws Exception {
        start(kind, Map.of());
        writeText("file.txt", INSIDE_TEXT);
        writeText("sub/inner.txt", INSIDE_TEXT);
        assertEquals(200, get("/file.txt").status(), "the control request");

        Reply reply = get(path);
        assertNotEquals(200, reply.status(), path + " was served: " + reply.text());
        assertTrue(reply.status() >= 400 && reply.status() < 500, path + " -> " + reply.status());
        assertNoLeak(path, reply);
        assertFalse(reply.text().contains(INSIDE_TEXT), path + " served a file");
    }

    /**
     * Names Windows treats apart (device names, a dot or a space at the end) are names like any other on Linux
     * (the kernel's sources have aux.c): served, listed, and only by their exact names ("file.txt." is not
     * "file.txt").
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void namesWindowsTreatsApartAreFilesOnLinux(ContainerKind kind) throws Exception {
        start(kind, Map.of("dirListing", "true"));
        Map<String, String> files = Map.of("/CON", "CON", "/nul.txt", "nul.txt", "/drivers/aux.c", "drivers/aux.c",
                "/file.txt.", "file.txt.", "/file.txt%20", "file.txt ", "/Acme%20Inc./song.txt", "Acme Inc./song.txt");
        for (Map.Entry<String, String> file : files.entrySet()) {
            writeText(file.getValue(), "the file " + file.getValue());
        }
        for (Map.Entry<String, String> file : files.entrySet()) {
            Reply reply = get(file.getKey());
            assertEquals(200, reply.status(), file.getKey());
            assertEquals("the file " + file.getValue(), reply.text(), file.getKey());
        }
        assertEquals(404, get("/file.txt").status(), "not the name of any file");
        String listing = get("/").text();
        for (String href : List.of("href=\"CON\"", "href=\"file.txt.\"", "href=\"file.txt%20\"",
                "href=\"Acme%20Inc./\"")) {
            assertTrue(listing.contains(href), href + " in " + listing);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void symlinkInsideTheRootLeadingOutsideIsNotFound(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.createSymbolicLink(root.resolve("escape-link"), work.resolve("outside.txt"));
        Files.createDirectory(work.resolve("outside-dir"));
        Files.writeString(work.resolve("outside-dir/inner.txt"), OUTSIDE_MARKER);
        Files.createSymbolicLink(root.resolve("escape-dir"), work.resolve("outside-dir"));
        for (String path : List.of("/escape-link", "/escape-dir/inner.txt", "/escape-dir/")) {
            Reply reply = get(path);
            assertEquals(404, reply.status(), path);
            assertNoLeak(path, reply);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void symlinkInsideTheRootIsServedByDefault(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.createSymbolicLink(root.resolve("inside-link"), root.resolve("data.bin"));
        assertWhole(get("/inside-link"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void followSymlinksNeverRefusesEvenALinkInsideTheRoot(ContainerKind kind) throws Exception {
        start(kind, Map.of("followSymlinks", "never"));
        Files.createSymbolicLink(root.resolve("inside-link"), root.resolve("data.bin"));
        Files.createSymbolicLink(root.resolve("escape-link"), work.resolve("outside.txt"));
        assertEquals(404, get("/inside-link").status());
        Reply escape = get("/escape-link");
        assertEquals(404, escape.status());
        assertNoLeak("/escape-link", escape);
        assertWhole(get("/data.bin"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void hiddenGitConfigIsNotFound(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        writeText(".git/config", "[core]\n\trepositoryformatversion = 0\n");
        Reply reply = get("/.git/config");
        assertEquals(404, reply.status());
        assertFalse(reply.text().contains("repositoryformatversion"));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void serveHiddenServesGitConfig(ContainerKind kind) throws Exception {
        start(kind, Map.of("serveHidden", "true"));
        byte[] config = writeText(".git/config", "[core]\n\trepositoryformatversion = 0\n");
        assertWhole(get("/.git/config"), config);
    }

    // ---------------------------------------------------------------------------------------------------------
    // multipart/byteranges parsing

    /**
     * Splits a multipart body on its delimiter lines (RFC 2046 5.1.1), without trusting the parts' own
     * Content-Range: {@code --B CRLF headers CRLF CRLF bytes} for each part, {@code CRLF --B} before the next
     * and {@code CRLF --B-- CRLF} at the end, nothing before the first delimiter or after the last.
     */
    static List<Part> parseMultipart(byte[] body, String boundary) {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        byte[] nextDelimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
        if (indexOf(body, delimiter, 0) != 0) {
            fail("the body does not start with the delimiter");
        }
        List<Part> parts = new ArrayList<>();
        int pos = delimiter.length;
        while (true) {
            if (startsWith(body, pos, "--\r\n".getBytes(StandardCharsets.US_ASCII))) {
                assertEquals(body.length, pos + 4, "bytes after the close delimiter");
                return parts;
            }
            if (!startsWith(body, pos, "\r\n".getBytes(StandardCharsets.US_ASCII))) {
                fail("no CRLF after the delimiter at " + pos);
            }
            pos += 2;
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), pos);
            if (headersEnd < 0) {
                fail("part headers do not end");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line : new String(body, pos, headersEnd - pos, StandardCharsets.ISO_8859_1).split("\r\n")) {
                int colon = line.indexOf(':');
                assertTrue(colon > 0, "bad part header line: " + line);
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                assertNull(headers.put(name, line.substring(colon + 1).trim()), "repeated part header " + name);
            }
            int contentStart = headersEnd + 4;
            int next = indexOf(body, nextDelimiter, contentStart);
            if (next < 0) {
                fail("part at " + contentStart + " has no delimiter after it");
            }
            parts.add(new Part(headers, Arrays.copyOfRange(body, contentStart, next)));
            pos = next + nextDelimiter.length;
        }
    }

    private static boolean startsWith(byte[] bytes, int at, byte[] prefix) {
        return at + prefix.length <= bytes.length
                && Arrays.equals(bytes, at, at + prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] bytes, byte[] needle, int from) {
        for (int i = from; i + needle.length <= bytes.length; i++) {
            if (startsWith(bytes, i, needle)) {
                return i;
            }
        }
        return -1;
    }
}
