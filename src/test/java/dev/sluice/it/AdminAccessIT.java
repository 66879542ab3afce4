package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ops.JsonReader;
import dev.sluice.ops.PrometheusParser;
import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The status page, its JSON and the metrics are for {@code adminAllow} clients only: everyone else gets the 404
 * of a missing file. A second loopback address, 127.0.0.2, is the other client.
 */
class AdminAccessIT {

    private static final String STATUS = "/.sluice/status";
    private static final String METRICS = "/.sluice/metrics";

    @TempDir
    Path root;

    private static TestClient.Response from(String address, URI uri, String method, String path,
            Map<String, String> headers) throws IOException {
        try (TestClient client = new TestClient(uri, 0, InetAddress.getByName(address))) {
            TestClient.Head head = client.send(method, path, headers, true);
            return new TestClient.Response(head, method.equals("HEAD") ? new byte[0] : client.readBody(head));
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientOutsideAdminAllowGetsTheNotFoundOfAMissingFile(ContainerKind kind) throws Exception {
        Files.writeString(root.resolve("a.txt"), "a file");
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(), "statusPath",
                STATUS, "metricsPath", METRICS, "adminAllow", "127.0.0.1/32"), 0)) {
            URI uri = container.uri();
            TestClient.Response missing = from("127.0.0.2", uri, "GET", "/no-such-file", Map.of());
            assertEquals(404, missing.status());
            assertEquals("a file", from("127.0.0.2", uri, "GET", "/a.txt", Map.of()).text(), "files are for all");
            for (String path : new String[] {STATUS, METRICS}) {
                for (Map<String, String> accept : java.util.List.of(Map.<String, String>of(),
                        Map.of("Accept", "text/html"))) {
                    TestClient.Response refused = from("127.0.0.2", uri, "GET", path, accept);
                    assertEquals(404, refused.status(), path);
                    assertArrayEquals(missing.body(), refused.body(), path);
                    assertEquals(missing.header("Content-Type"), refused.header("Content-Type"));
                    assertEquals(404, from("127.0.0.2", uri, "HEAD", path, accept).status());
                }
                assertEquals(200, from("127.0.0.1", uri, "GET", path, Map.of()).status(), path);
            }
            assertEquals(0L, JsonReader.object(from("127.0.0.1", uri, "GET", STATUS, Map.of()).text())
                    .get("activeTransfers"));
            PrometheusParser.parse(from("127.0.0.1", uri, "GET", METRICS, Map.of()).text());

            TestClient.Response page = from("127.0.0.1", uri, "GET", STATUS, Map.of("Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
            assertEquals(200, page.status());
            assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
            assertTrue(page.header("Content-Security-Policy").startsWith("default-src 'none';"));
            assertEquals("no-store", page.header("Cache-Control"));
            assertEquals("Accept", page.header("Vary"));
            assertTrue(page.text().contains("<title>Sluice status</title>"), page.text());
            TestClient.Response head = from("127.0.0.1", uri, "HEAD", STATUS, Map.of("Accept", "text/html"));
            assertEquals(page.body().length, head.head().contentLength());
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void byDefaultEveryLoopbackAddressIsAllowedAndNothingElse(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        Map<String, String> settings = new HashMap<>(Map.of("root", root.toString(), "statusPath", STATUS));
        try (ContainerKind.Running container = kind.start(servlet, settings, 0)) {
            for (String address : new String[] {"127.0.0.1", "127.0.0.2"}) {
                TestClient.Response status = from(address, container.uri(), "GET", STATUS, Map.of());
                assertEquals(200, status.status(), address);
                assertTrue(new String(status.body(), StandardCharsets.US_ASCII).startsWith("{\"activeTransfers\":"));
            }
        }
        settings.put("adminAllow", "10.0.0.0/8");
        SluiceServlet closed = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(closed, settings, 0)) {
            assertEquals(404, from("127.0.0.1", container.uri(), "GET", STATUS, Map.of()).status(),
                    "a list without loopback closes loopback too");
        }
    }
}
