package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class FilePlannerTest {

    private static final long LENGTH = 10_000;
    private static final long MTIME = 1_700_000_000_000L;
    private static final EntityTag ETAG = EntityTag.strong(LENGTH, MTIME);
    private static final FilePlanner.Options OPTIONS = new FilePlanner.Options(true, 4, null);
    private static final FilePlanner.Representation FILE = new FilePlanner.Representation(LENGTH, MTIME, ETAG,
            "text/plain;charset=utf-8", null, false, null);

    private static ResponsePlan plan(String method, String range, ConditionalHeaders conditional) {
        return plan(method, range, conditional, FILE, OPTIONS);
    }

    private static ResponsePlan plan(String method, String range, ConditionalHeaders conditional,
            FilePlanner.Representation file, FilePlanner.Options options) {
        return FilePlanner.plan(new FilePlanner.Request(method, conditional, range), file, options,
                () -> "BOUNDARY");
    }

    private static ConditionalHeaders ifNoneMatch(String value) {
        return new ConditionalHeaders(null, value, null, null, null);
    }

    private static ConditionalHeaders ifRange(String value) {
        return new ConditionalHeaders(null, null, null, null, value);
    }

    @Test
    void aPlainGetIsTheWholeFileWithItsValidators() {
        ResponsePlan plan = plan("GET", null, ConditionalHeaders.none());
        assertEquals(200, plan.status());
        assertEquals(LENGTH, plan.contentLength());
        assertEquals(List.of(new ResponsePlan.FilePart(0, LENGTH)), plan.body());
        assertEquals(ETAG.toHeaderValue(), plan.header("ETag"));
        assertEquals(HttpDate.format(MTIME), plan.header("Last-Modified"));
        assertEquals("bytes", plan.header("Accept-Ranges"));
        assertEquals("nosniff", plan.header("X-Content-Type-Options"));
        assertEquals("text/plain;charset=utf-8", plan.header("Content-Type"));
        assertNull(plan.header("Cache-Control"));
        assertNull(plan.header("Vary"));
    }

    @Test
    void aModificationTimeInTheFutureIsSentAndComparedAsNow() {
        long now = MTIME - 3_600_000; // the file's time is an hour ahead of the server's clock
        FilePlanner.Request get = new FilePlanner.Request("GET", ConditionalHeaders.none(), null);
        ResponsePlan plan = FilePlanner.plan(get, FILE, OPTIONS, () -> "B", now);
        assertEquals(200, plan.status());
        assertEquals(HttpDate.format(now), plan.header("Last-Modified"));
        assertEquals(ETAG.toHeaderValue(), plan.header("ETag"), "the tag still names the version");

        // a client that got that date and asks a second later gets the file again: the date says nothing yet
        ConditionalHeaders sinceThen = new ConditionalHeaders(null, null, HttpDate.format(now), null, null);
        assertEquals(200, FilePlanner.plan(new FilePlanner.Request("GET", sinceThen, null), FILE, OPTIONS,
                () -> "B", now + 1000).status());
        assertEquals(304, FilePlanner.plan(new FilePlanner.Request("GET", sinceThen, null), FILE, OPTIONS,
                () -> "B", now).status());

        // a date that is now is not a strong validator: If-Range by it gets the whole file
        ConditionalHeaders ifRangeDate = new ConditionalHeaders(null, null, null, null, HttpDate.format(now));
        assertEquals(200, FilePlanner.plan(new FilePlanner.Request("GET", ifRangeDate, "bytes=0-1"), FILE, OPTIONS,
                () -> "B", now).status());
        // and a file whose time has passed keeps its own
        ResponsePlan later = FilePlanner.plan(get, FILE, OPTIONS, () -> "B", MTIME + 1);
        assertEquals(HttpDate.format(MTIME), later.header("Last-Modified"));
    }

    @Test
    void notModifiedRepeatsTheValidatorsAndHasNoBodyNorLength() {
        FilePlanner.Options cached = new FilePlanner.Options(true, 4, "public, max-age=60");
        FilePlanner.Representation varies = new FilePlanner.Representation(LENGTH, MTIME, ETAG, "text/plain", null,
                true, null);
        ResponsePlan plan = plan("GET", "bytes=0-1", ifNoneMatch(ETAG.toHeaderValue()), varies, cached);
        assertEquals(304, plan.status());
        assertEquals(-1, plan.contentLength());
        assertTrue(plan.body().isEmpty());
        assertEquals(Long.toString(LENGTH), plan.header("Content-Length"), "the length a 200 would have had");
        assertEquals(ETAG.toHeaderValue(), plan.header("ETag"));
        assertEquals("public, max-age=60", plan.header("Cache-Control"));
        assertEquals("Accept-Encoding", plan.header("Vary"));
        assertNull(plan.header("Content-Type"));
    }

    /**
     * The 412 and 416 of a precompressed variant sent as an attachment, with a Cache-Control configured: their body
     * is a line of plain text, so neither the variant's coding nor its disposition is announced (a client decoding
     * "gzip" failed on it), and no Cache-Control lets a cache keep the error; the validators, Vary and, for the 416,
     * the variant's length stay. The 200 and 206 of the same file carry all three.
     */
    @Test
    void errorsOfAVariantCarryNeitherItsCodingNorItsDispositionNorCacheControl() {
        FilePlanner.Options cached = new FilePlanner.Options(true, 4, "public, max-age=60");
        FilePlanner.Representation gzip = new FilePlanner.Representation(LENGTH, MTIME, ETAG, "text/html", "gzip",
                true, "attachment; filename=\"p.html\"");
        ResponsePlan refused = plan("GET", "bytes=20000-", ConditionalHeaders.none(), gzip, cached);
        ResponsePlan failed = plan("GET", null, new ConditionalHeaders("\"other\"", null, null, null, null), gzip,
                cached);
        assertEquals(416, refused.status());
        assertEquals("bytes */" + LENGTH, refused.header("Content-Range"));
        assertEquals(412, failed.status());
        for (ResponsePlan error : List.of(refused, failed)) {
            assertNull(error.header("Content-Encoding"), error.headers().toString());
            assertNull(error.header("Content-Disposition"), error.headers().toString());
            assertNull(error.header("Cache-Control"), error.headers().toString());
            assertEquals("text/plain;charset=utf-8", error.header("Content-Type"));
            assertEquals("Accept-Encoding", error.header("Vary"));
            assertEquals(ETAG.toHeaderValue(), error.header("ETag"));
        }
        for (String range : java.util.Arrays.asList(null, "bytes=0-9")) {
            ResponsePlan served = plan("GET", range, ConditionalHeaders.none(), gzip, cached);
            assertEquals(range == null ? 200 : 206, served.status());
            assertEquals("gzip", served.header("Content-Encoding"));
            assertEquals("attachment; filename=\"p.html\"", served.header("Content-Disposition"));
            assertEquals("public, max-age=60", served.header("Cache-Control"));
        }
    }

    @Test
    void aFailedPreconditionIs412WithAShortText() {
        ResponsePlan plan = plan("GET", null, new ConditionalHeaders("\"other\"", null, null, null, null));
        assertEquals(412, plan.status());
        assertEquals("Precondition Failed\n", new String(((ResponsePlan.Bytes) plan.body().get(0)).bytes(),
                StandardCharsets.UTF_8));
        assertEquals(plan.contentLength(), plan.body().get(0).length());
    }

    @Test
    void oneRangeIs206WithItsContentRange() {
        ResponsePlan plan = plan("GET", "bytes=100-199", ConditionalHeaders.none());
        assertEquals(206, plan.status());
        assertEquals("bytes 100-199/10000", plan.header("Content-Range"));
        assertEquals(List.of(new ResponsePlan.FilePart(100, 100)), plan.body());
        assertEquals(100, plan.contentLength());
    }

    @Test
    void anUnsatisfiableRangeIs416WithTheLength() {
        ResponsePlan plan = plan("GET", "bytes=20000-", ConditionalHeaders.none());
        assertEquals(416, plan.status());
        assertEquals("bytes */10000", plan.header("Content-Range"));
    }

    @Test
    void severalRangesAreAMultipartBodyWithAnExactLength() {
        ResponsePlan plan = plan("GET", "bytes=0-9,100-109", ConditionalHeaders.none());
        assertEquals(206, plan.status());
        assertEquals("multipart/byteranges; boundary=BOUNDARY", plan.header("Content-Type"));
        String expectedFirst = "--BOUNDARY\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Range: bytes 0-9/10000"
                + "\r\n\r\n";
        assertArrayEquals(expectedFirst.getBytes(StandardCharsets.US_ASCII),
                ((ResponsePlan.Bytes) plan.body().get(0)).bytes());
        assertEquals(new ResponsePlan.FilePart(0, 10), plan.body().get(1));
        assertEquals(new ResponsePlan.FilePart(100, 10), plan.body().get(3));
        long sum = plan.body().stream().mapToLong(ResponsePlan.Part::length).sum();
        assertEquals(sum, plan.contentLength());
        assertTrue(new String(((ResponsePlan.Bytes) plan.body().get(4)).bytes(), StandardCharsets.US_ASCII)
                .endsWith("--BOUNDARY--\r\n"));
    }

    @Test
    void ifRangeThatDoesNotMatchGivesTheWholeFile() {
        assertEquals(206, plan("GET", "bytes=0-1", ifRange(ETAG.toHeaderValue())).status());
        assertEquals(200, plan("GET", "bytes=0-1", ifRange("\"changed\"")).status());
        assertEquals(206, plan("GET", "bytes=0-1", ifRange(HttpDate.format(MTIME))).status());
        assertEquals(200, plan("GET", "bytes=0-1", ifRange(HttpDate.format(MTIME - 5000))).status());
    }

    @Test
    void rangesAreIgnoredForHeadAndWhenSwitchedOff() {
        assertEquals(200, plan("HEAD", "bytes=0-1", ConditionalHeaders.none()).status());
        ResponsePlan off = plan("GET", "bytes=0-1", ConditionalHeaders.none(), FILE,
                new FilePlanner.Options(false, 4, null));
        assertEquals(200, off.status());
        assertEquals("none", off.header("Accept-Ranges"));
    }

    @Test
    void moreRangesThanAllowedGiveTheWholeFile() {
        assertEquals(200, plan("GET", "bytes=0-1,10-11,20-21,30-31,40-41", ConditionalHeaders.none()).status());
    }

    @Test
    void aVariantCarriesItsEncodingAndVaryAndADisposition() {
        FilePlanner.Representation gz = new FilePlanner.Representation(500, MTIME,
                new EntityTag(ETAG.opaque() + "-gzip", false), "text/plain", "gzip", true,
                ContentDisposition.attachment("a.txt"));
        ResponsePlan plan = plan("GET", "bytes=0-3", ConditionalHeaders.none(), gz, OPTIONS);
        assertEquals(206, plan.status());
        assertEquals("gzip", plan.header("Content-Encoding"));
        assertEquals("Accept-Encoding", plan.header("Vary"));
        assertEquals("bytes 0-3/500", plan.header("Content-Range"));
        assertTrue(plan.header("Content-Disposition").startsWith("attachment"));
    }

    /**
     * Several ranges of a precompressed variant get the whole variant: a Content-Encoding over a multipart body
     * would say the multipart is encoded, and curl --compressed failed to decode it. The identity file's ranges
     * stay multipart.
     */
    @Test
    void severalRangesOfAVariantGetTheWholeVariant() {
        FilePlanner.Representation gz = new FilePlanner.Representation(500, MTIME,
                new EntityTag(ETAG.opaque() + "-gzip", false), "text/plain", "gzip", true, null);
        ResponsePlan plan = plan("GET", "bytes=0-9,20-29", ConditionalHeaders.none(), gz, OPTIONS);
        assertEquals(200, plan.status());
        assertEquals(500, plan.contentLength());
        assertEquals("gzip", plan.header("Content-Encoding"));
        assertEquals("text/plain", plan.header("Content-Type"));
        assertNull(plan.header("Content-Range"));
        assertTrue(plan("GET", "bytes=0-9,20-29", ConditionalHeaders.none()).header("Content-Type")
                .startsWith("multipart/byteranges"));
    }

    @Test
    void anEmptyFileHasAnEmptyBody() {
        FilePlanner.Representation empty = new FilePlanner.Representation(0, MTIME, EntityTag.strong(0, MTIME),
                "text/plain", null, false, null);
        ResponsePlan plan = plan("GET", null, ConditionalHeaders.none(), empty, OPTIONS);
        assertEquals(200, plan.status());
        assertEquals(0, plan.contentLength());
        assertTrue(plan.body().isEmpty());
        assertEquals(416, plan("GET", "bytes=0-0", ConditionalHeaders.none(), empty, OPTIONS).status());
    }
}
