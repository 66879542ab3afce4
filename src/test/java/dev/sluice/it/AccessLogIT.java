package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ops.Logfmt;
import dev.sluice.servlet.SluiceServlet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The access log: one line per transfer on the logger {@code dev.sluice.access}, each parsed, for each outcome;
 * a download resumed in two ranges is two lines with one ETag; bodies sent without a transfer have none.
 */
class AccessLogIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    static final List<String> KEYS = List.of("time", "client", "user", "method", "path", "range", "status", "sent",
            "planned", "duration", "outcome", "etag", "wait_socket", "wait_read", "wait_buffer", "wait_throttle",
            "cause");

    @TempDir
    Path root;

    private LogCapture capture;
    private List<LogRecord> records;

    @BeforeEach
    void listen() {
        capture = LogCapture.of("dev.sluice.access");
        records = capture.records();
    }

    @AfterEach
    void stopListening() {
        capture.close();
    }

    private List<Map<String, String>> lines() {
        synchronized (records) {
            return records.stream().map(r -> {
                assertEquals(Level.INFO, r.getLevel());
                Map<String, String> pairs = Logfmt.parse(r.getMessage());
                assertEquals(KEYS, List.copyOf(pairs.keySet()), r.getMessage());
                return pairs;
            }).toList();
        }
    }

    private void awaitLines(int count) {
        Await.until(count + " access-log lines", DEADLINE, () -> records.size() >= count,
                () -> records.stream().map(LogRecord::getMessage).toList().toString());
        assertEquals(count, records.size(), () -> records.stream().map(LogRecord::getMessage).toList().toString());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void oneLinePerTransferForEachOutcomeAndOneETagPerResumedDownload(ContainerKind kind) throws Exception {
        byte[] data = Downloads.write(root, "big file.bin", 8 * 1024 * 1024);
        Downloads.write(root, "shrinking.bin", 32 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        Instant start = Instant.now().minusSeconds(1);
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(), "accessLog", "true",
                "chunkSize", "64KiB", "readAhead", "1"), 0)) {
            records.clear();
            // Completed, whole.
            TestClient.Response whole = TestClient.get(container.uri(), "/big%20file.bin");
            assertEquals(TestClient.sha256(data), TestClient.sha256(whole.body()));
            awaitLines(1);
            Map<String, String> completed = lines().get(0);
            String etag = whole.header("ETag");
            assertEquals(Map.of("client", "127.0.0.1", "user", "-", "method", "GET", "path", "/big%20file.bin",
                    "range", "full", "status", "200", "sent", "" + data.length, "planned", "" + data.length,
                    "outcome", "completed", "cause", "-"), subset(completed, "client", "user", "method", "path", "range",
                    "status", "sent", "planned", "outcome", "cause"));
            assertEquals(etag.replace("\"", ""), completed.get("etag"));
            Instant time = Instant.parse(completed.get("time"));
            assertTrue(!time.isBefore(start) && !time.isAfter(Instant.now()), completed.get("time"));
            for (String seconds : List.of("duration", "wait_socket", "wait_read", "wait_buffer", "wait_throttle")) {
                assertTrue(completed.get(seconds).matches("\\d+\\.\\d{3}"), seconds + "=" + completed.get(seconds));
            }

            // Resumed: the first MiB, then the rest if it is still the same file.
            int cut = 1024 * 1024;
            TestClient.Response first = TestClient.exchange(container.uri(), "GET", "/big%20file.bin",
                    Map.of("Range", "bytes=0-" + (cut - 1)));
            TestClient.Response rest = TestClient.exchange(container.uri(), "GET", "/big%20file.bin",
                    Map.of("Range", "bytes=" + cut + "-", "If-Range", etag));
            assertEquals(206, first.status());
            assertEquals(206, rest.status());
            awaitLines(3);
            Map<String, String> one = lines().get(1);
            Map<String, String> two = lines().get(2);
            assertEquals("bytes 0-" + (cut - 1) + "/" + data.length, one.get("range"));
            assertEquals("bytes " + cut + "-" + (data.length - 1) + "/" + data.length, two.get("range"));
            assertEquals(List.of("206", "206"), List.of(one.get("status"), two.get("status")));
            assertEquals(completed.get("etag"), one.get("etag"), "one ETag ties the parts of a resumed download");
            assertEquals(completed.get("etag"), two.get("etag"));
            assertEquals("" + (data.length - cut), two.get("sent"));

            // Bodies without a transfer: HEAD, 304, 416, 404. No line.
            assertEquals(200, TestClient.exchange(container.uri(), "HEAD", "/big%20file.bin", Map.of()).status());
            try (TestClient client = new TestClient(container.uri())) {
                assertEquals(304, client.send("GET", "/big%20file.bin", Map.of("If-None-Match", etag), true).status());
            }
            assertEquals(416, TestClient.exchange(container.uri(), "GET", "/big%20file.bin",
                    Map.of("Range", "bytes=" + data.length + "-")).status());
            assertEquals(404, TestClient.get(container.uri(), "/nothing").status());

            // Aborted by the client.
            try (TestClient slow = Downloads.started(container.uri(), "/big%20file.bin")) {
                slow.abort();
            }
            awaitLines(4);
            Map<String, String> aborted = lines().get(3);
            assertEquals("aborted", aborted.get("outcome"));
            assertTrue(Long.parseLong(aborted.get("sent")) < data.length, aborted.toString());
            assertEquals("" + data.length, aborted.get("planned"));
            assertTrue(!aborted.get("cause").equals("-"), aborted.toString());

            // Failed: the file shrank under the download.
            Downloads.failByShrinking(container.uri(), root, "shrinking.bin");
            awaitLines(5);
            Map<String, String> failed = lines().get(4);
            assertEquals("failed", failed.get("outcome"));
            assertEquals("/shrinking.bin", failed.get("path"));
            assertTrue(failed.get("cause").contains("FileShrankException"), failed.toString());
            Leaks.assertNothingHeld(servlet, root);
            assertEquals(5, records.size(), "one line per transfer, nothing else");
            assertEquals(5, servlet.metrics().completed() + servlet.metrics().aborted() + servlet.metrics().failed());

            // An empty file: a download of no bytes, which no transfer sends, still has its line.
            Files.write(root.resolve("empty.bin"), new byte[0]);
            TestClient.Response empty = TestClient.get(container.uri(), "/empty.bin");
            assertEquals(200, empty.status());
            assertEquals(0, empty.body().length);
            awaitLines(6);
            Map<String, String> none = lines().get(5);
            assertEquals(Map.of("client", "127.0.0.1", "user", "-", "method", "GET", "path", "/empty.bin",
                    "range", "full", "status", "200", "sent", "0", "planned", "0", "outcome", "completed", "cause", "-"),
                    subset(none, "client", "user", "method", "path", "range", "status", "sent", "planned", "outcome",
                            "cause"));
            assertEquals(empty.header("ETag").replace("\"", ""), none.get("etag"));
            assertEquals(5, servlet.metrics().completed() + servlet.metrics().aborted() + servlet.metrics().failed());
        }
    }

    @Test
    void offByDefault() throws Exception {
        byte[] data = Downloads.write(root, "a.bin", 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = ContainerKind.JETTY_EE11.start(servlet, Map.of("root",
                root.toString()), 0)) {
            assertEquals(data.length, TestClient.get(container.uri(), "/a.bin").body().length);
            Await.until("completed", DEADLINE, () -> servlet.metrics().completed() == 1);
            Leaks.assertNothingHeld(servlet, root);
            assertEquals(List.of(), records);
        }
    }

    /** Tomcat's sendfile sends the body itself: one line, with what only Tomcat knows left out. */
    @Test
    void aBodyHandedToTomcatsSendfileIsOneLine() throws Exception {
        byte[] data = Downloads.write(root, "whole.bin", 3 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running tomcat = ContainerKind.startTomcatWithSendfile(servlet, Map.of("root",
                root.toString(), "accessLog", "true"), 0)) {
            TestClient.Response response = TestClient.exchange(tomcat.uri(), "GET", "/whole.bin",
                    Map.of("Range", "bytes=10-"));
            assertEquals(data.length - 10, response.body().length);
            assertEquals(1, servlet.metrics().handedOff());
            awaitLines(1);
            Map<String, String> line = lines().get(0);
            assertEquals(Map.of("outcome", "handed-off", "sent", "-", "planned", "" + (data.length - 10), "status",
                    "206", "range", "bytes 10-" + (data.length - 1) + "/" + data.length, "duration", "-"),
                    subset(line, "outcome", "sent", "planned", "status", "range", "duration"));
            assertEquals(response.header("ETag").replace("\"", ""), line.get("etag"));
        }
    }

    private static Map<String, String> subset(Map<String, String> pairs, String... keys) {
        Map<String, String> some = new java.util.HashMap<>();
        for (String key : keys) {
            some.put(key, pairs.get(key));
        }
        return some;
    }
}
