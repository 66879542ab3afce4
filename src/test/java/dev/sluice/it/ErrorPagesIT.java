package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.LinkSigner;
import dev.sluice.servlet.SluiceServlet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sluice's own error answers and the error pages a webapp declares in its {@code web.xml}: a status with a page gets
 * the page, as from the containers' own file servlets; a status without one keeps Sluice's plain-text line, never
 * the container's default page.
 */
class ErrorPagesIT {

    private static final String NOT_FOUND_PAGE = "<p>No such file here.</p>\n";
    private static final String OTHER_PAGE = "<p>Not like this.</p>\n";

    @TempDir
    Path root;

    private ContainerKind.Running container;
    private SluiceServlet sluice;
    private byte[] file;

    @AfterEach
    void stop() {
        if (container != null) {
            try {
                Leaks.assertNothingHeld(sluice, root);
            } finally {
                container.close();
            }
        }
    }

    private void start(ContainerKind kind, Map<Integer, String> errorPages) throws Exception {
        start(kind, errorPages, Map.of());
    }

    private void start(ContainerKind kind, Map<Integer, String> errorPages, Map<String, String> settings)
            throws Exception {
        start(kind, errorPages, settings, List.of());
    }

    private void start(ContainerKind kind, Map<Integer, String> errorPages, Map<String, String> settings,
            List<ContainerKind.FilterSpec> filters) throws Exception {
        file = new byte[100_000];
        new Random(5).nextBytes(file);
        Files.write(root.resolve("file.bin"), file);
        Files.createDirectories(root.resolve("listless"));
        Files.createDirectories(root.resolve("errors"));
        Files.writeString(root.resolve("errors/404.html"), NOT_FOUND_PAGE);
        Files.writeString(root.resolve("errors/other.html"), OTHER_PAGE);
        sluice = new SluiceServlet();
        container = kind.start(List.of(new ContainerKind.ServletSpec("sluice", sluice, params(settings), true,
                List.of("/"))), filters, errorPages);
    }

    private Map<String, String> params(Map<String, String> settings) {
        Map<String, String> params = new java.util.HashMap<>(settings);
        params.put("root", root.toString());
        return params;
    }

    private TestClient.Response exchange(String method, String path, String... headers) throws Exception {
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            fields.put(headers[i], headers[i + 1]);
        }
        return TestClient.exchange(container.uri(), method, path, fields);
    }

    private static void assertPage(String page, int status, TestClient.Response response, String what) {
        assertEquals(status, response.status(), what);
        assertEquals(page, response.text(), what);
        assertTrue(response.header("content-type").startsWith("text/html"),
                what + ": " + response.header("content-type"));
    }

    private static void assertPlain(String line, int status, TestClient.Response response, String what) {
        assertEquals(status, response.status(), what);
        assertEquals(line + "\n", response.text(), what);
        assertEquals("text/plain;charset=utf-8", response.header("content-type").replace(" ", "").toLowerCase(), what);
    }

    /**
     * A missing file (answered after the storage calls' detour through a read thread, {@code OpenAhead}, and again),
     * a method Sluice does not allow, a range past the end: each gets the page for its status, with its status and
     * the headers that say what was wrong ({@code Allow}; {@code Content-Range} on Tomcat). A status without a page
     * keeps the plain line.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void sluicesOwnErrorsShowTheDeclaredPages(ContainerKind kind) throws Exception {
        start(kind, Map.of(404, "/errors/404.html", 405, "/errors/other.html", 416, "/errors/other.html"));
        for (int round = 0; round < 3; round++) {
            assertPage(NOT_FOUND_PAGE, 404, exchange("GET", "/missing.txt"), kind + " missing, round " + round);
        }
        TestClient.Response head = exchange("HEAD", "/missing.txt");
        assertEquals(404, head.status(), kind + " HEAD");
        assertEquals(0, head.body().length, kind + " HEAD");

        TestClient.Response post = exchange("POST", "/file.bin");
        assertPage(OTHER_PAGE, 405, post, kind + " POST");
        assertEquals("GET, HEAD, OPTIONS", post.header("allow"), kind + " POST");

        TestClient.Response unsatisfiable = exchange("GET", "/file.bin", "Range", "bytes=200000-");
        assertPage(OTHER_PAGE, 416, unsatisfiable, kind + " 416");
        // Jetty's sendError drops the content headers, this one too, as for its own DefaultServlet's 416
        assertEquals(kind == ContainerKind.TOMCAT ? "bytes */100000" : null, unsatisfiable.header("content-range"),
                kind + " 416");

        assertPlain("Forbidden", 403, exchange("GET", "/listless/"), kind + " a directory without a page for 403");
        TestClient.Response whole = exchange("GET", "/file.bin");
        assertEquals(200, whole.status(), kind.name());
        assertArrayEquals(file, whole.body(), kind.name());
    }

    /**
     * A default page ({@code <error-page>} with no code) covers every status, Sluice's as the container's. Jetty
     * shows error pages for GET, POST and HEAD only: to a DELETE it sends the status, the {@code Allow} and an empty
     * body, as for its own {@code DefaultServlet}; Tomcat shows the page.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theDefaultPageCoversEveryStatus(ContainerKind kind) throws Exception {
        start(kind, Map.of(ContainerKind.EVERY_STATUS, "/errors/other.html"));
        assertPage(OTHER_PAGE, 404, exchange("GET", "/missing.txt"), kind + " missing");
        assertPage(OTHER_PAGE, 403, exchange("GET", "/listless/"), kind + " directory");
        assertPage(OTHER_PAGE, 405, exchange("POST", "/file.bin"), kind + " POST");
        TestClient.Response delete = exchange("DELETE", "/file.bin");
        if (kind == ContainerKind.TOMCAT) {
            assertPage(OTHER_PAGE, 405, delete, kind + " DELETE");
        } else {
            assertEquals(405, delete.status(), kind + " DELETE");
            assertEquals("", delete.text(), kind + " DELETE");
        }
        assertEquals("GET, HEAD, OPTIONS", delete.header("allow"), kind + " DELETE");
    }

    /**
     * An error page that is missing itself: the error keeps its status (and its {@code Allow}), with no body, as
     * from Tomcat's own {@code DefaultServlet}; never Sluice's 404 for the page in its place, no loop, no trace.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aMissingErrorPageLeavesTheErrorsStatus(ContainerKind kind) throws Exception {
        start(kind, Map.of(404, "/errors/gone.html", 405, "/errors/gone.html", 416, "/errors/gone.html"));
        assertEmpty(404, exchange("GET", "/missing.txt"), kind + " missing");
        assertEmpty(416, exchange("GET", "/file.bin", "Range", "bytes=200000-"), kind + " 416");
        TestClient.Response post = exchange("POST", "/file.bin");
        assertEmpty(405, post, kind + " POST");
        assertEquals("GET, HEAD, OPTIONS", post.header("allow"), kind + " POST");
    }

    private static void assertEmpty(int status, TestClient.Response response, String what) {
        assertEquals(status, response.status(), what);
        assertEquals("", response.text(), what);
    }

    /**
     * A download cut off midway, with a default page: Tomcat then shows the page for the failure by including it in
     * the response already under way, through Sluice, which adds nothing there and throws nothing (it threw
     * "response already committed", logged as SEVERE twice and counted as a 500). Jetty shows no page for a
     * response under way.
     */
    @ParameterizedTest
    @EnumSource(value = ContainerKind.class, names = "TOMCAT")
    void aDownloadCutOffMidwayAddsNothingFromTheDefaultPage(ContainerKind kind) throws Exception {
        List<Throwable> thrown = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger pages = new java.util.concurrent.atomic.AtomicInteger();
        jakarta.servlet.Filter watch = (request, response, chain) -> {
            try {
                chain.doFilter(request, response);
            } catch (java.io.IOException | jakarta.servlet.ServletException | RuntimeException e) {
                thrown.add(e);
                throw e;
            } finally {
                pages.incrementAndGet();
            }
        };
        start(kind, Map.of(ContainerKind.EVERY_STATUS, "/errors/other.html"), Map.of("limitRate", "100KiB"),
                List.of(new ContainerKind.FilterSpec("watch", watch, true, List.of("/errors/*"),
                        java.util.Set.of(jakarta.servlet.DispatcherType.ERROR, jakarta.servlet.DispatcherType.INCLUDE))));
        byte[] big = new byte[8 * 1024 * 1024];
        new Random(6).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        TestClient client = new TestClient(container.uri(), 4096);
        try {
            assertEquals(200, client.send("GET", "/big.bin", Map.of(), true).status());
            byte[] some = new byte[1000];
            assertTrue(client.read(some, 0, some.length) > 0);
        } finally {
            client.abort();
        }
        Await.until("the page for the cut-off download", java.time.Duration.ofSeconds(30), () -> pages.get() > 0,
                () -> sluice.metrics().toString());
        assertEquals(List.of(), thrown);
        Await.until("the download ended", java.time.Duration.ofSeconds(30),
                () -> sluice.metrics().activeTransfers() == 0, () -> sluice.metrics().toString());
    }

    /**
     * With signed links: the error page needs no signature of its own, so a genuine link to a missing file shows
     * the 404's page, a bad signature the 403's; an expired link, without a page for 410, keeps the plain line.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void behindSignedLinksTheErrorsKeepTheirStatusAndShowTheirPages(ContainerKind kind) throws Exception {
        String key = "a-secret-signing-key-of-32-bytes";
        start(kind, Map.of(404, "/errors/404.html", 403, "/errors/other.html"), Map.of("signingKey", key));
        LinkSigner signer = LinkSigner.of(key.getBytes(StandardCharsets.UTF_8));
        long now = System.currentTimeMillis() / 1000;
        assertPage(NOT_FOUND_PAGE, 404, exchange("GET", signer.sign("/missing.txt", now + 600)), kind + " missing");
        assertPage(OTHER_PAGE, 403, exchange("GET", "/file.bin?expires=" + (now + 600) + "&sig=forged"),
                kind + " forged");
        assertPlain("Gone", 410, exchange("GET", signer.sign("/file.bin", now - 5)), kind + " expired");
        TestClient.Response signed = exchange("GET", signer.sign("/file.bin", now + 600));
        assertEquals(200, signed.status(), kind.name());
        assertArrayEquals(file, signed.body(), kind.name());
    }
}
