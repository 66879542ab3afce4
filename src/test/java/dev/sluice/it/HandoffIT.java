package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.http.ContentDisposition;
import dev.sluice.http.EntityTag;
import dev.sluice.http.HttpDate;
import dev.sluice.servlet.HandoffFilter;
import dev.sluice.servlet.SluiceSender;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.EngineProbe;
import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.TransferEngine;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Protected downloads: an application ({@link TokenApp}) authorizes by a token and hands the file over to Sluice
 * each of the three ways (the Java API, a forward, the {@code X-Sluice-File} response header). Every way must
 * answer as Sluice answers its own URLs, byte for byte, with ranges, resume and conditionals; bad hand-offs get
 * their status and leak nothing; no {@code X-Sluice-*} header ever reaches the client.
 */
class HandoffIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final long MTIME = 1_700_000_000_000L;
    private static final List<String> WAYS = List.of("api", "forward", "header");
    private static final String OUTSIDE_MARKER = "OUTSIDE-THE-INTERNAL-ROOT-7f3a";
    private static final Pattern MULTIPART = Pattern.compile("multipart/byteranges; boundary=(\\S+)");

    @TempDir
    Path work;

    private Path root;
    private Path internal;
    private Path secret;
    private byte[] big;
    private SluiceServlet sluice;
    private TokenApp app;
    private ContainerKind.Running container;

    /** A filter without async support, as an application might have one. */
    private static final class PlainFilter implements Filter {
        @Override
        public void doFilter(jakarta.servlet.ServletRequest request, jakarta.servlet.ServletResponse response,
                jakarta.servlet.FilterChain chain) throws IOException, jakarta.servlet.ServletException {
            chain.doFilter(request, response);
        }
    }

    /**
     * Sluice at {@code /} serving {@code public/} with {@code internal/} as its internal root, the token app at
     * {@code /app/*} and {@code /noasync/*} (behind a filter without async support), the hand-off filter in front
     * of both {@code header} ways.
     */
    private void start(ContainerKind kind, Map<String, String> extra) throws Exception {
        start(kind, extra, Map.of());
    }

    private void start(ContainerKind kind, Map<String, String> extra, Map<Integer, String> errorPages)
            throws Exception {
        container = kind.start(servlets(extra), filters(), errorPages);
    }

    /** The same application on Tomcat as it comes, sendfile on. */
    private void startTomcatWithSendfile() throws Exception {
        container = ContainerKind.startTomcatWithSendfile(servlets(Map.of()), filters());
    }

    /** Writes the files and makes the servlets: Sluice with {@code extra} settings, and the token app. */
    private List<ContainerKind.ServletSpec> servlets(Map<String, String> extra) throws IOException {
        writeFiles();
        sluice = new SluiceServlet();
        Map<String, String> params = new HashMap<>(extra);
        params.put("root", root.toString());
        params.put("internalRoot", internal.toString());
        params.put("chunkSize", "64KiB");
        app = new TokenApp(internal);
        return List.of(new ContainerKind.ServletSpec("sluice", sluice, params, true, List.of("/")),
                new ContainerKind.ServletSpec("app", app, Map.of(), true, List.of("/app/*", "/noasync/*")));
    }

    private static List<ContainerKind.FilterSpec> filters() {
        Set<DispatcherType> requestAndAsync = Set.of(DispatcherType.REQUEST, DispatcherType.ASYNC);
        return List.of(new ContainerKind.FilterSpec("plain", new PlainFilter(), false, List.of("/noasync/*"),
                        Set.of(DispatcherType.REQUEST)),
                new ContainerKind.FilterSpec("handoff", new HandoffFilter(), true,
                        List.of("/app/header", "/app/header-async", "/noasync/header"), requestAndAsync));
    }

    private void writeFiles() throws IOException {
        root = Files.createDirectories(work.resolve("public"));
        internal = Files.createDirectories(work.resolve("internal"));
        secret = Files.createDirectories(work.resolve("secret"));
        Files.writeString(root.resolve("public.txt"), "public\n");
        Files.writeString(secret.resolve("outside.txt"), OUTSIDE_MARKER + "\n");
        big = new byte[3 * 1024 * 1024 + 7];
        new Random(7).nextBytes(big);
        Files.write(internal.resolve("big.bin"), big);
        Files.setLastModifiedTime(internal.resolve("big.bin"), FileTime.fromMillis(MTIME));
        Files.writeString(internal.resolve("notes.txt"), "notes\n".repeat(100));
        Files.createDirectories(internal.resolve("dir"));
        Files.writeString(internal.resolve("dir/inner.txt"), "inner\n");
        Files.createSymbolicLink(internal.resolve("link-out"), secret.resolve("outside.txt"));
        Files.createSymbolicLink(internal.resolve("link-in"), internal.resolve("big.bin"));
    }

    @AfterEach
    void stop() throws Exception {
        if (container != null) {
            try {
                Leaks.assertNothingHeld(sluice, internal);
                assertEquals(0, OpenFiles.countUnder(secret), "a file outside the internal root is open");
                // The file cache reads a small public file on its own thread after the request that found it
                // (FileCache): that read may still hold it for a moment.
                Await.until("no public file open", java.time.Duration.ofSeconds(10),
                        () -> OpenFiles.countUnder(root) == 0, () -> OpenFiles.countUnder(root) + " open");
            } finally {
                container.close();
            }
        }
    }

    private static String query(Map<String, String> parameters) {
        StringBuilder query = new StringBuilder();
        parameters.forEach((name, value) -> query.append(query.length() == 0 ? "?" : "&").append(name).append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8)));
        return query.toString();
    }

    /** The app's URL for {@code way} with the token, {@code f} and the other parameters. */
    private static String url(String way, String f, String... more) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("token", TokenApp.TOKEN);
        parameters.put("f", f);
        for (int i = 0; i < more.length; i += 2) {
            parameters.put(more[i], more[i + 1]);
        }
        return "/app/" + way + query(parameters);
    }

    /**
     * A {@code Content-Encoding} or {@code Content-Range} the application set before {@code send} is removed: it
     * would make clients decode or place the file's bytes wrongly. Its {@code Cache-Control} stays, unless the call
     * asks for none ({@code withCacheControl("")}).
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void headersThatDescribeTheBytesAreSluicesAlone(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        byte[] notes = Files.readAllBytes(internal.resolve("notes.txt"));
        String path = "/app/api?token=" + TokenApp.TOKEN + "&f=notes.txt&stale=1";
        TestClient.Response kept = get(path);
        assertEquals(200, kept.status());
        assertArrayEquals(notes, kept.body());
        assertNull(kept.header("Content-Encoding"));
        assertNull(kept.header("Content-Range"));
        assertEquals("private, max-age=7", kept.header("Cache-Control"));

        TestClient.Response ranged = get(path + "&cache=", "Range", "bytes=1-3");
        assertEquals(206, ranged.status());
        assertArrayEquals(java.util.Arrays.copyOfRange(notes, 1, 4), ranged.body());
        assertNull(ranged.header("Content-Encoding"));
        assertEquals("bytes 1-3/" + notes.length, ranged.header("Content-Range"));
        assertNull(ranged.header("Cache-Control"), "withCacheControl(\"\") is none");
    }

    /**
     * An exception that leaves the application's servlet after {@code send} fails the request on every container:
     * a bare 500, and the download's transfer and file let go at once. Tomcat never calls the {@code WriteListener}
     * after such an exception, only the request's {@code AsyncListener}s: before Sluice listened there, the client
     * got no answer, and the transfer, its file and its {@code maxTransfers} place waited for the stall timeout.
     * Closing or writing the stream after {@code send} (documented as misuse) lets everything go at once too.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anExceptionAfterSendFailsTheRequestAndHoldsNothing(ContainerKind kind) throws Exception {
        try (LogCapture access = LogCapture.of("dev.sluice.access")) {
            start(kind, Map.of("stallTimeout", "10m", "accessLog", "true"));
            String big = "/app/api?token=" + TokenApp.TOKEN + "&f=big.bin";
            List<String[]> ranges = List.of(new String[0], new String[] {"Range", "bytes=0-9,100-109"});
            for (String[] range : ranges) {
                TestClient.Response failed = get(big + "&fail=1", range);
                assertEquals(500, failed.status(), String.join(" ", range));
                assertEquals("0", failed.header("Content-Length"));
                assertEquals(0, failed.body().length);
                assertNull(failed.header("ETag"), "Sluice's head is gone");
                Leaks.assertNothingHeld(sluice, internal);
            }
            Supplier<List<String>> lines = () -> access.messages(java.util.logging.Level.INFO);
            Await.until("their access-log lines", DEADLINE, () -> lines.get().size() == ranges.size(),
                    () -> lines.get().toString());
            assertTrue(lines.get().stream().allMatch(line -> line.contains(" status=500 ")
                    && line.contains(" outcome=aborted ") && line.contains(" sent=0 ")), lines.get().toString());

            for (String[] range : ranges) {
                for (String misuse : List.of("closeafter", "writeafter")) {
                    try (TestClient client = new TestClient(container.uri())) {
                        client.setReadTimeout(30_000);
                        client.send("GET", big + "&" + misuse + "=1", range.length == 0 ? Map.of()
                                : Map.of(range[0], range[1]), true);
                        client.skip(Long.MAX_VALUE); // to the connection's end: what arrives is spoilt, as documented
                    } catch (IOException e) {
                        // an empty reply: spoilt as well
                    }
                    Leaks.assertNothingHeld(sluice, internal);
                }
            }
        }
    }

    /**
     * An application that refuses after {@code send} ({@code sendError(403)}, or {@code setStatus(403)}) answers 403
     * without a byte of the file, on every container, and the download lets everything go. Before, Tomcat let the
     * download start once the servlet returned, and it sent the file under the 403.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aRefusalAfterSendAnswersItsStatusWithoutTheFile(ContainerKind kind) throws Exception {
        try (LogCapture access = LogCapture.of("dev.sluice.access")) {
            start(kind, Map.of("accessLog", "true"));
            String file = new String(big, 0, 64, StandardCharsets.ISO_8859_1);
            int answers = 0;
            for (String how : List.of("errorafter", "statusafter")) {
                for (Map<String, String> range : List.of(Map.<String, String>of(), Map.of("Range", "bytes=0-99"))) {
                    TestClient.Head head = refusedToTheEnd(url("api", "big.bin", how, "403"), range, file);
                    assertEquals(403, head.status(), how + " " + range);
                    if (how.equals("statusafter")) {
                        assertEquals("0", head.header("content-length"), "an empty 403");
                        assertNull(head.header("etag"), "Sluice's head is gone");
                    }
                    answers++;
                    Leaks.assertNothingHeld(sluice, internal);
                }
            }
            int expected = answers;
            Supplier<List<String>> lines = () -> access.messages(java.util.logging.Level.INFO);
            Await.until("their access-log lines", DEADLINE, () -> lines.get().size() == expected,
                    () -> lines.get().toString());
            assertTrue(lines.get().stream().allMatch(line -> line.contains(" status=403 ")
                    && line.contains(" outcome=aborted ") && line.contains(" sent=0 ")), lines.get().toString());
        }
    }

    /**
     * The head of a GET of {@code path}, with what follows it read to the connection's end (the client asks for its
     * close): Tomcat's head of a {@code sendError} keeps Sluice's Content-Length over its own page, so no length can
     * be trusted. Fails if {@code fileStart} is in what came.
     */
    private TestClient.Head refusedToTheEnd(String path, Map<String, String> headers, String fileStart)
            throws IOException {
        try (TestClient client = new TestClient(container.uri())) {
            client.setReadTimeout(30_000);
            TestClient.Head head = client.send("GET", path, headers, true);
            java.io.ByteArrayOutputStream rest = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            for (int n; (n = client.read(buffer, 0, buffer.length)) > 0; ) {
                rest.write(buffer, 0, n);
            }
            assertFalse(rest.toString(StandardCharsets.ISO_8859_1).contains(fileStart),
                    path + " " + headers + ": the file went out under " + head.status());
            return head;
        }
    }

    /**
     * On Tomcat with its sendfile on, an application's answer after {@code send} (an exception, a
     * {@code sendError}) never carries the file: {@code send} keeps the body in the engine, whose download starts
     * only once the servlet returned. Before, Tomcat's sendfile sent the file's bytes as the body of Tomcat's error
     * page, under its status and {@code text/html} (a black-box run: an uploaded file with a script in it, a stored
     * XSS). The header hand-off, after which none of the application runs, keeps Tomcat's sendfile.
     */
    @Test
    void onTomcatsSendfileAnAnswerAfterSendNeverCarriesTheFile() throws Exception {
        startTomcatWithSendfile();
        String notes = "/app/api?token=" + TokenApp.TOKEN + "&f=notes.txt&filename=notes.txt";
        byte[] file = Files.readAllBytes(internal.resolve("notes.txt"));

        TestClient.Response failed = get(notes + "&fail=1");
        assertEquals(500, failed.status());
        assertEquals(0, failed.body().length, failed.text());
        assertNull(failed.header("ETag"), "Sluice's head is gone");
        assertEquals(403, refusedToTheEnd(notes + "&errorafter=403", Map.of(),
                new String(file, StandardCharsets.ISO_8859_1)).status());
        Await.until("both downloads let go", DEADLINE, () -> sluice.metrics().activeTransfers() == 0,
                () -> sluice.metrics().toString());
        assertEquals(0, sluice.metrics().handedOff(), sluice.metrics().toString());

        TestClient.Response sent = get(notes);
        assertEquals(200, sent.status());
        assertArrayEquals(file, sent.body());
        TestClient.Response byHeader = get(url("header", "big.bin"));
        assertEquals(200, byHeader.status());
        assertArrayEquals(big, byHeader.body());
        Await.until("the downloads done", DEADLINE, () -> sluice.metrics().activeTransfers() == 0,
                () -> sluice.metrics().toString());
        assertEquals(1, sluice.metrics().handedOff(), "the header's hand-off went to Tomcat's sendfile: "
                + sluice.metrics());
        Leaks.assertNothingHeld(sluice, internal);
    }

    private TestClient.Response get(String path, String... headers) throws IOException {
        return exchange("GET", path, headers);
    }

    private TestClient.Response exchange(String method, String path, String... headers) throws IOException {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            map.put(headers[i], headers[i + 1]);
        }
        TestClient.Response response;
        try (TestClient client = new TestClient(container.uri())) {
            TestClient.Head head = client.send(method, path, map, true);
            boolean bodyless = method.equals("HEAD") || head.status() == 304; // a 304 has the 200's Content-Length
            response = new TestClient.Response(head, bodyless ? new byte[0] : client.readBody(head));
        }
        assertNoSluiceHeaders(response, method + " " + path);
        return response;
    }

    private static void assertNoSluiceHeaders(TestClient.Response response, String what) {
        for (String name : response.head().headers().keySet()) {
            assertFalse(name.startsWith("x-sluice"), what + " let " + name + " reach the client");
        }
    }

    private static void assertNeverTheSecret(TestClient.Response response, String what) {
        assertFalse(response.text().contains(OUTSIDE_MARKER), what + " sent the file outside the internal root");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void eachWaySendsTheFileByteExactWithItsHeaders(ContainerKind kind) throws Exception {
        start(kind, Map.of("precompressed", "gzip"));
        byte[] gz = gzip(Files.readAllBytes(internal.resolve("notes.txt")));
        Files.write(internal.resolve("notes.txt.gz"), gz);
        String etag = EntityTag.strong(big.length, MTIME).toHeaderValue();
        for (String way : WAYS) {
            TestClient.Response whole = get(url(way, "big.bin"));
            assertEquals(200, whole.status(), way);
            assertArrayEquals(big, whole.body(), way + ": the body is not the file");
            assertEquals(Long.toString(big.length), whole.header("content-length"), way);
            assertEquals("application/octet-stream", whole.header("content-type"), way);
            assertEquals(etag, whole.header("etag"), way);
            assertEquals(HttpDate.format(MTIME), whole.header("last-modified"), way);
            assertEquals("bytes", whole.header("accept-ranges"), way);
            assertNull(whole.header("content-disposition"), way);
            assertNull(whole.header("x-app"), way + ": the app's own headers are dropped");

            TestClient.Response head = exchange("HEAD", url(way, "big.bin"));
            assertEquals(200, head.status(), way);
            for (String name : List.of("content-length", "content-type", "etag", "last-modified", "accept-ranges")) {
                assertEquals(whole.header(name), head.header(name), way + " HEAD " + name);
            }

            String name = "Report 2024 \u00e9t\u00e9.pdf";
            TestClient.Response named = get(url(way, "big.bin", "filename", name, "type", "application/pdf",
                    "cache", "private, max-age=60"));
            assertArrayEquals(big, named.body(), way);
            assertEquals(ContentDisposition.attachment(name), named.header("content-disposition"), way);
            assertEquals("application/pdf", named.header("content-type"), way);
            assertEquals("private, max-age=60", named.header("cache-control"), way);

            TestClient.Response text = get(url(way, "notes.txt"), "Accept-Encoding", "gzip");
            assertEquals("text/plain;charset=utf-8", text.header("content-type").replace(" ", ""), way);
            assertNull(text.header("content-encoding"), way + ": variants only where asked");
            TestClient.Response variant = get(url(way, "notes.txt", "precompressed", "true"),
                    "Accept-Encoding", "gzip");
            assertEquals("gzip", variant.header("content-encoding"), way);
            assertEquals("Accept-Encoding", variant.header("vary"), way);
            assertArrayEquals(gz, variant.body(), way);
        }
        TestClient.Response cookie = get(url("header", "notes.txt", "cookie", "kept"));
        assertEquals(200, cookie.status());
        assertTrue(String.valueOf(cookie.header("set-cookie")).contains("app=kept"), "the app's cookie is kept");
        assertEquals("public\n", get("/public.txt").text(), "Sluice's own URLs still answer");
        assertEquals(404, get("/big.bin").status(), "no URL reaches the internal root");
    }

    /**
     * An application that calls the API on an async dispatch of the request (it checked something without holding
     * a container thread, then dispatched the request back to itself) sends the whole file and its ranges.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theApiCalledOnAnAsyncDispatchSendsTheWholeBody(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        for (int i = 0; i < 2; i++) {
            TestClient.Response whole = get(url("api-dispatched", "big.bin"));
            assertEquals(200, whole.status());
            assertArrayEquals(big, whole.body(), "the body is not the file");
            TestClient.Response range = get(url("api-dispatched", "big.bin"), "Range", "bytes=100-1099");
            assertEquals(206, range.status());
            assertArrayEquals(Arrays.copyOfRange(big, 100, 1100), range.body(), "the range is not the file's");
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void rangesMultipartResumeAndConditionalsGoThroughEachWay(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        String etag = EntityTag.strong(big.length, MTIME).toHeaderValue();
        int half = big.length / 2;
        for (String way : WAYS) {
            TestClient.Response range = get(url(way, "big.bin"), "Range", "bytes=100-199");
            assertEquals(206, range.status(), way);
            assertEquals("bytes 100-199/" + big.length, range.header("content-range"), way);
            assertArrayEquals(Arrays.copyOfRange(big, 100, 200), range.body(), way);

            TestClient.Response multi = get(url(way, "big.bin"), "Range", "bytes=0-9,1000000-1065535");
            assertEquals(206, multi.status(), way);
            Matcher type = MULTIPART.matcher(multi.header("content-type"));
            assertTrue(type.matches(), multi.header("content-type"));
            List<byte[]> parts = parts(multi.body(), type.group(1));
            assertEquals(2, parts.size(), way);
            assertArrayEquals(Arrays.copyOfRange(big, 0, 10), parts.get(0), way);
            assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 1_065_536), parts.get(1), way);

            TestClient.Response rest = get(url(way, "big.bin"), "Range", "bytes=" + half + "-", "If-Range", etag);
            assertEquals(206, rest.status(), way + ": resume with the ETag");
            byte[] joined = Arrays.copyOf(big, big.length);
            System.arraycopy(rest.body(), 0, joined, half, rest.body().length);
            assertEquals(big.length - half, rest.body().length, way);
            assertArrayEquals(big, joined, way + ": the resumed download joins into the file");

            TestClient.Response stale = get(url(way, "big.bin"), "Range", "bytes=" + half + "-",
                    "If-Range", "\"another\"");
            assertEquals(200, stale.status(), way + ": another version is sent whole");
            assertArrayEquals(big, stale.body(), way);

            TestClient.Response notModified = get(url(way, "big.bin"), "If-None-Match", etag);
            assertEquals(304, notModified.status(), way);
            assertEquals(0, notModified.body().length, way);
            if (way.equals("api")) { // a 304 carries no type (RFC 9110 15.4.5), least of all one the 200 has not
                TestClient.Response typed = get(url(way, "big.bin", "apptype", "application/x-app"),
                        "If-None-Match", etag);
                assertEquals(304, typed.status(), way);
                assertNull(typed.header("content-type"), way + ": a cache would store the app's type");
                assertFalse(get(url(way, "big.bin", "apptype", "application/x-app")).header("content-type")
                        .startsWith("application/x-app"), way + ": Sluice's type, as for the 200 without it");
            }
            assertEquals(412, get(url(way, "big.bin"), "If-Match", "\"another\"").status(), way);
            assertEquals(416, get(url(way, "big.bin"), "Range", "bytes=" + big.length + "-").status(), way);
        }
    }

    /**
     * An error page whose location Sluice serves (in the WAR every location is Sluice's) keeps the error's status,
     * sends the whole file whatever the request's Range and conditions, and nothing that describes the file as a
     * resource (validators, ranges); a large page as well as a small one, also on Tomcat, which ends the response
     * when its forward to the page returns.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anErrorPageSluiceServesKeepsTheErrorsStatusAndSendsTheWholePage(ContainerKind kind) throws Exception {
        byte[] large = new byte[300 * 1024 + 11];
        new Random(11).nextBytes(large);
        start(kind, Map.of("precompressed", "gzip"), Map.of(404, "/errors/404.html", 405, "/errors/large.bin"));
        Files.createDirectories(root.resolve("errors"));
        Files.writeString(root.resolve("errors/404.html"), "<p>not here</p>\n");
        Files.writeString(root.resolve("errors/404.html.gz"), "not gzip, and never sent");
        Files.write(root.resolve("errors/large.bin"), large);
        String missing = "/app/missing?token=" + TokenApp.TOKEN; // the app answers sendError(404)
        for (String[] headers : new String[][] {{}, {"Range", "bytes=0-3"}, {"If-None-Match", "*"},
            {"Accept-Encoding", "gzip"}}) {
            for (int round = 0; round < 2; round++) { // the second may come from Sluice's cache of small files
                TestClient.Response page = get(missing, headers);
                String what = kind + " " + String.join(" ", headers) + " round " + round;
                assertEquals(404, page.status(), what);
                assertEquals("<p>not here</p>\n", page.text(), what);
                assertTrue(page.header("content-type").startsWith("text/html"), what + ": " + page.header("content-type"));
                assertNull(page.header("etag"), what);
                assertNull(page.header("content-range"), what);
                assertEquals("nosniff", page.header("x-content-type-options"), what);
                assertNull(page.header("content-encoding"), what);
            }
        }
        TestClient.Response head = exchange("HEAD", missing);
        assertEquals(404, head.status());
        assertEquals(Integer.toString("<p>not here</p>\n".length()), head.header("content-length"));

        TestClient.Response big = exchange("POST", "/app/api?token=" + TokenApp.TOKEN); // the app has no doPost: 405
        assertEquals(405, big.status());
        assertArrayEquals(large, big.body());
    }

    /** Turned away by maxTransfers, a hand-off keeps the application's cookies (its session goes on). */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aHandoffTurnedAwayByMaxTransfersKeepsTheApplicationsCookies(ContainerKind kind) throws Exception {
        start(kind, Map.of("maxTransfers", "1"));
        try (RandomAccessFile huge = new RandomAccessFile(root.resolve("huge.bin").toFile(), "rw")) {
            huge.setLength(256L * 1024 * 1024);
        }
        TestClient slow = new TestClient(container.uri(), 4096);
        try {
            assertEquals(200, slow.send("GET", "/huge.bin", Map.of(), true).status());
            Await.until("one download running", DEADLINE, () -> sluice.metrics().activeTransfers() == 1,
                    () -> sluice.metrics().toString());
            for (String way : WAYS) {
                TestClient.Response refused = get(url(way, "notes.txt", "cookie", "kept"));
                assertEquals(503, refused.status(), way);
                assertEquals("5", refused.header("retry-after"), way);
                if (way.equals("header")) { // the app of the other ways sets no cookie
                    assertEquals("app=kept", refused.header("set-cookie"), way);
                }
                assertNull(refused.header("x-app"), way + ": the app's other headers go");
            }
        } finally {
            slow.abort();
        }
        Await.until("the slow download released", DEADLINE, () -> sluice.metrics().activeTransfers() == 0,
                () -> sluice.metrics().toString());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBadTokenGetsTheAppsAnswerAndNoByteOfTheFile(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        for (String way : WAYS) {
            TestClient.Response refused = get("/app/" + way + "?token=guess&f=big.bin");
            assertEquals(403, refused.status(), way);
            assertEquals("the app says: no\n", refused.text(), way);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void badHandoffsGetTheirStatusAndLeakNothing(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Map<String, Integer> both = new LinkedHashMap<>();
        both.put("../secret/outside.txt", 404);
        both.put("dir", 404);
        both.put("dir/", 404);
        both.put("missing.bin", 404);
        both.put("link-out", 404);
        both.put("", 404);
        both.put(".", 404);
        for (String way : List.of("forward", "header")) {
            for (Map.Entry<String, Integer> bad : both.entrySet()) {
                TestClient.Response response = get(url(way, bad.getKey()));
                assertEquals(bad.getValue(), response.status(), way + " " + bad.getKey());
                assertNeverTheSecret(response, way + " " + bad.getKey());
            }
            assertEquals(200, get(url(way, "link-in")).status(), way + ": a symlink inside is followed");
            assertEquals(500, get(url(way, "big.bin", "rate", "fast")).status(), way + ": a bad rate");
        }
        for (String encoded : List.of("%2e%2e/secret/outside.txt", "..%2Fsecret%2Foutside.txt",
                "%252e%252e/secret/outside.txt", "..%5Csecret%5Coutside.txt", "..\\secret\\outside.txt",
                "%C0%AE%C0%AE/secret/outside.txt", "big.bin%00", "/../secret/outside.txt",
                "dir/..%2f..%2fsecret/outside.txt", "link-out%00.txt", "%2Fetc%2Fpasswd",
                work + "/secret/outside.txt")) {
            TestClient.Response response = get(url("header", encoded));
            assertEquals(404, response.status(), "header " + encoded);
            assertNeverTheSecret(response, "header " + encoded);
        }
        assertEquals(200, get(url("header", "dir/inner%2etxt")).status(), "escapes are decoded once");
        assertEquals(500, get(url("header", "big.bin", "raw", "X-Sluice-Limit-Rat:1MiB")).status(), "misspelt");
        TestClient.Response twice = get(url("header", "big.bin", "raw", "X-Sluice-File:notes.txt"));
        assertEquals(500, twice.status(), "two files: which one is not known");
        assertEquals(0, twice.body().length);
        assertEquals(500, get(url("forward", "big.bin", "raw", "dev.sluice.limitRat:1MiB")).status(), "misspelt");
        assertEquals(404, get(url("forward", "../secret/outside.txt", "how", "path")).status(), "a Path with ..");
        assertEquals(404, get(url("forward", secret.resolve("outside.txt").toString(), "how", "absolute")).status(),
                "an absolute Path elsewhere");
        assertEquals(200, get(url("forward", "big.bin", "how", "path")).status(), "a Path under the internal root");

        for (String f : List.of("dir", "missing.bin", "link-in", "link-out")) {
            TestClient.Response response = get(url("api", f));
            assertEquals(404, response.status(), "api " + f + ": opened without following a symlink");
            assertNeverTheSecret(response, "api " + f);
        }
        assertApiThrows(IllegalArgumentException.class, "absolute", url("api", "big.bin", "how", "relative"), 500);
        assertApiThrows(NullPointerException.class, "file", url("api", "big.bin", "how", "none"), 500);
        int before = app.errors.size();
        TestClient.Response committed = get(url("api", "big.bin", "commit", "1"));
        assertEquals("committed by the app\n", committed.text(), "only what the app sent");
        // The app's answer is complete before its call to send returns: wait for what the call threw.
        Await.until("the call on a committed response threw", DEADLINE, () -> app.errors.size() == before + 1);
        assertInstanceOf(IllegalStateException.class, app.errors.get(before));
        assertTrue(app.errors.get(before).getMessage().contains("committed"), app.errors.get(before).getMessage());
        TestClient.Response closed = get(url("api", "big.bin", "close", "1"));
        assertEquals(0, closed.body().length, "a closed response stays empty");
        Await.until("the call on a closed response threw", DEADLINE, () -> app.errors.size() == before + 2);
        assertInstanceOf(IllegalStateException.class, app.errors.get(before + 1));
        Await.until("no transfer running", DEADLINE, () -> sluice.metrics().activeTransfers() == 0);
        assertEquals(0, sluice.metrics().failed(), sluice.metrics().toString());
    }

    private void assertApiThrows(Class<? extends Throwable> type, String message, String url, int status)
            throws IOException {
        int before = app.errors.size();
        TestClient.Response response = get(url);
        assertEquals(status, response.status(), url);
        assertEquals(before + 1, app.errors.size(), url);
        Throwable thrown = app.errors.get(before);
        assertInstanceOf(type, thrown, url);
        assertTrue(String.valueOf(thrown.getMessage()).contains(message), thrown.toString());
        assertFalse(response.text().contains(new String(big, 0, 64, StandardCharsets.ISO_8859_1)), url);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aChainWithoutAsyncSupportGetsTheClearExceptionAndNoHalfResponse(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        for (String way : WAYS) {
            TestClient.Response response = get("/noasync/" + way + "?token=" + TokenApp.TOKEN + "&f=big.bin");
            assertEquals(500, response.status(), way);
            assertTrue(response.body().length < 64 * 1024, way + ": " + response.body().length + " bytes");
            assertNull(response.header("etag"), way + ": no head of the file");
        }
        assertEquals(1, app.errors.size());
        assertInstanceOf(IllegalStateException.class, app.errors.get(0));
        assertTrue(app.errors.get(0).getMessage().startsWith("request does not support async: a filter or servlet"
                + " in the chain lacks async-supported"), app.errors.get(0).getMessage());
    }

    /**
     * An application that calls {@code send} a second time on the same request (a whole file, and one with a
     * rate) gets an {@code IllegalStateException} and the first answer goes on, byte-exact.
     * Before, Tomcat held a second transfer until the stall timeout and Jetty sent the file twice.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aSecondSendOnTheSameRequestIsRefusedAndTheFirstGoesOn(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        for (String[] more : List.of(new String[] {"twice", "1"}, new String[] {"twice", "1", "rate", "100000000"})) {
            int before = app.errors.size();
            TestClient.Response response = get(url("api", "big.bin", more));
            assertEquals(200, response.status(), List.of(more).toString());
            assertArrayEquals(big, response.body(), List.of(more) + ": the body is not the file");
            assertEquals(before + 1, app.errors.size(), List.of(more).toString());
            assertTrue(app.errors.get(before).getMessage().contains("once per request"),
                    app.errors.get(before).toString());
        }
    }

    /**
     * An exception the application throws after setting {@code X-Sluice-File} sends no file (it may be the
     * application's refusal) and none of what the application wrote before: the container answers the exception.
     * Removing the header again is a 500, with nothing of the file or the application's answer. A plain name with
     * a {@code %} that starts no escape is the name.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anAppThatThrowsOrTakesTheFileHeaderBackGetsNoFileAndNoHalfAnswer(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        for (String then : List.of("throw", "cancel")) {
            TestClient.Response response = get(url("header", "notes.txt", "then", then));
            assertEquals(500, response.status(), then);
            assertNull(response.header("x-app"), then + ": the app's own headers went out");
            assertFalse(response.text().contains("the app's own"), then + ": the app's own body went out");
            assertFalse(response.text().contains("notes\nnotes\n"), then + ": the file went out");
        }

        TestClient.Response named = get(url("header", "notes.txt", "raw", "X-Sluice-Filename:100% done.pdf"));
        assertEquals(200, named.status());
        assertEquals(ContentDisposition.attachment("100% done.pdf"), named.header("content-disposition"));
    }

    /**
     * An application that answers asynchronously, started by {@code startAsync()} without arguments (which hands
     * it the container's own response, not the filter's), sets {@code X-Sluice-File} on its async context's
     * response from a thread of its own: the path never reaches the client ({@link #exchange} checks every
     * response), which gets an empty 500 and no byte of the application's body.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileHeaderFromAnApplicationThatWentAsyncNeverReachesTheClient(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        TestClient.Response response = get(url("header-async", "big.bin"));
        assertEquals(500, response.status());
        assertEquals("", response.text());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aCallsOwnRateLimitPacesItsDownload(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        Files.write(internal.resolve("paced.bin"), Arrays.copyOf(big, 1024 * 1024));
        for (String way : WAYS) {
            long start = System.nanoTime();
            TestClient.Response paced = get(url(way, "paced.bin", "rate", Integer.toString(512 * 1024),
                    "after", Integer.toString(128 * 1024)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertArrayEquals(Arrays.copyOf(big, 1024 * 1024), paced.body(), way);
            assertTrue(millis >= 1_000, way + ": 896 KiB at 512 KiB/s after 128 KiB took only " + millis + " ms");
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aFileThatShrinksMidHandoffCutsTheConnection(ContainerKind kind) throws Exception {
        start(kind, Map.of("readAhead", "1"));
        int size = 32 * 1024 * 1024;
        int failed = 0;
        for (String way : WAYS) {
            byte[] data = Arrays.copyOf(big, size);
            Files.write(internal.resolve("shrinking.bin"), data);
            try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
                client.setReadTimeout(20_000);
                TestClient.Head head = client.send("GET", url(way, "shrinking.bin"), Map.of(), false);
                assertEquals(size, head.contentLength(), way);
                assertTrue(client.skip(1024 * 1024), way);
                try (RandomAccessFile file = new RandomAccessFile(internal.resolve("shrinking.bin").toFile(), "rw")) {
                    file.setLength(4 * 1024 * 1024);
                }
                long rest = client.drainToEnd(); // must end: a connection kept open would time out here
                assertTrue(1024 * 1024 + rest < size, way + ": the short body was passed off as complete");
            }
            int expected = ++failed;
            Await.until(way + ": the transfer failed", DEADLINE, () -> sluice.metrics().failed() == expected,
                    () -> sluice.metrics().toString());
        }
        assertEquals(4 * 1024 * 1024, get(url("api", "shrinking.bin")).body().length, "still healthy afterwards");
    }

    /**
     * A client that stops reading on a kept-alive connection is ended by {@code stallTimeout}, each way in, and its
     * connection is closed: after a forward, Tomcat, told to complete the short response, kept the connection open
     * until its own timeout (found by a black-box run). The download is cut off as a failed one is.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientThatStopsReadingHasItsConnectionClosedEachWayIn(ContainerKind kind) throws Exception {
        start(kind, Map.of("stallTimeout", "1s"));
        try (RandomAccessFile file = new RandomAccessFile(internal.resolve("stall.bin").toFile(), "rw")) {
            file.setLength(256L << 20); // holes: more than any socket buffer takes from a client that reads nothing
        }
        int aborted = 0;
        for (String way : WAYS) {
            try (TestClient client = new TestClient(container.uri(), 4096)) {
                client.setReadTimeout(20_000);
                assertEquals(200, client.send("GET", url(way, "stall.bin"), Map.of(), false).status(), way);
                int expected = ++aborted;
                Await.until(way + ": the stalled transfer ended", DEADLINE,
                        () -> sluice.metrics().aborted() == expected, () -> sluice.metrics().toString());
                assertTrue(client.drainUntilEnded() >= 0,
                        way + ": the connection stayed open after its download ended");
            }
        }
    }

    /** An application that embeds Sluice: its own engine (user rate groups on) and sender, no SluiceServlet. */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anEmbeddedSendersUserGroupsAreLeftWhenDownloadsEnd(ContainerKind kind) throws Exception {
        writeFiles();
        try (TransferEngine engine = new TransferEngine(EngineSettings.defaults().withLimitRatePerUser(256L << 20)
                .withLimitRatePerClient(256L << 20))) {
            SluiceSender sender = new SluiceSender(engine, SluiceSender.Settings.defaults().withInternalRoot(internal));
            TokenApp embedded = new TokenApp(internal, sender);
            try (ContainerKind.Running running = kind.start(List.of(new ContainerKind.ServletSpec("app", embedded,
                    Map.of(), true, List.of("/app/*"))), List.of(new ContainerKind.FilterSpec("handoff",
                    new HandoffFilter(), true, List.of("/app/header"), Set.of(DispatcherType.REQUEST))))) {
                container = null;
                var clients = java.util.concurrent.Executors.newFixedThreadPool(4);
                List<java.util.concurrent.Future<byte[]>> bodies = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String path = url("api", "big.bin", "user", "user" + (i % 2));
                    bodies.add(clients.submit(() -> TestClient.get(running.uri(), path).body()));
                }
                for (var body : bodies) {
                    assertArrayEquals(big, body.get(), "a download of a user's group");
                }
                clients.shutdown();
                for (String f : List.of("dir", "missing.bin", "link-out")) {
                    assertEquals(404, TestClient.get(running.uri(), url("api", f, "user", "bad")).status(), f);
                }
                assertEquals(500, TestClient.get(running.uri(), url("api", "big.bin", "user", "bad", "how",
                        "relative")).status());
                TestClient.Response unpublished = TestClient.get(running.uri(), url("header", "big.bin"));
                assertEquals(500, unpublished.status(), "no sender published in the context for the filter");
                assertNoSluiceHeaders(unpublished, "header without a sender");
                // Larger than any socket buffer, so the client's abort always ends it unfinished (3 MiB could
                // fit in the kernel's buffers and complete before the abort is seen: once in a clean-clone run).
                try (RandomAccessFile huge = new RandomAccessFile(internal.resolve("huge.bin").toFile(), "rw")) {
                    huge.setLength(1L << 30);
                }
                try (TestClient cut = new TestClient(running.uri(), 16 * 1024)) {
                    cut.send("GET", url("api", "huge.bin", "user", "gone"), Map.of(), false);
                    cut.abort();
                }
                Await.until("no transfer, no buffer, no user or client group", DEADLINE, () ->
                        engine.metrics().activeTransfers() == 0 && engine.metrics().bufferBytesInUse() == 0
                                && EngineProbe.userRateGroups(engine) == 0 && EngineProbe.clientRateGroups(engine) == 0,
                        () -> engine.metrics() + " users " + EngineProbe.userRateGroups(engine));
                Await.until("no file left open", DEADLINE, () -> OpenFiles.countUnder(internal) == 0);
                assertEquals(4, engine.metrics().completed(), engine.metrics().toString());
                assertEquals(1, engine.metrics().aborted(), engine.metrics().toString());
            }
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    /** The bodies of a multipart/byteranges answer's parts. */
    private static List<byte[]> parts(byte[] body, String boundary) {
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
        byte[] withLeadingCrlf = new byte[body.length + 2];
        withLeadingCrlf[0] = '\r';
        withLeadingCrlf[1] = '\n';
        System.arraycopy(body, 0, withLeadingCrlf, 2, body.length);
        List<byte[]> parts = new ArrayList<>();
        int at = indexOf(withLeadingCrlf, delimiter, 0);
        if (at != 0) {
            fail("the body does not start with the delimiter");
        }
        while (true) {
            int afterDelimiter = at + delimiter.length;
            if (withLeadingCrlf[afterDelimiter] == '-') {
                return parts;
            }
            int content = indexOf(withLeadingCrlf, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), afterDelimiter) + 4;
            int next = indexOf(withLeadingCrlf, delimiter, content);
            parts.add(Arrays.copyOfRange(withLeadingCrlf, content, next));
            at = next;
        }
    }

    private static int indexOf(byte[] bytes, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= bytes.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (bytes[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
