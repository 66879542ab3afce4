package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client that stops reading is ended after stallTimeout, long before the containers' own idle timeouts
 * (20 to 30 s), and its transfer releases everything. (Downloads that keep reading are never cut: see the unit
 * tests, and the slow-client tests, which run far longer than this timeout.)
 */
class StallIT {

    @TempDir
    Path root;

    /** big.bin, 256 MiB of holes: more than any socket buffer takes from a client that reads nothing. */
    private void bigSparseFile() throws java.io.IOException {
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L * 1024 * 1024);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientThatStopsReadingIsEndedAfterTheStallTimeout(ContainerKind kind) throws Exception {
        aStalledDownloadEndsAndItsConnectionCloses(kind, Map.of(), false);
    }

    /**
     * The same under a speed limit, and on Tomcat as it comes (sendfile on, though a limited download does not use
     * it): there Tomcat, told to complete the stalled response, kept the connection open until its own timeout
     * (found by a black-box run). Now the download is cut off, which Tomcat logs at debug level only.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aStalledDownloadUnderASpeedLimitHasItsConnectionClosedQuietly(ContainerKind kind) throws Exception {
        try (LogCapture tomcat = LogCapture.of("org.apache.catalina")) {
            aStalledDownloadEndsAndItsConnectionCloses(kind, Map.of("limitRate", "64MiB", "chunkSize", "256KiB"), true);
            assertEquals(List.of(), tomcat.messages(Level.SEVERE), "Tomcat logged the cut");
        }
    }

    private void aStalledDownloadEndsAndItsConnectionCloses(ContainerKind kind, Map<String, String> settings,
            boolean tomcatWithSendfile) throws Exception {
        bigSparseFile();
        SluiceServlet servlet = new SluiceServlet();
        Map<String, String> params = new java.util.HashMap<>(Map.of("root", root.toString(), "stallTimeout", "1s",
                "chunkSize", "64KiB"));
        params.putAll(settings);
        try (ContainerKind.Running container = tomcatWithSendfile && kind == ContainerKind.TOMCAT
                ? ContainerKind.startTomcatWithSendfile(servlet, params, 0) : kind.start(servlet, params, 0);
             TestClient stalled = new TestClient(container.uri(), 4096)) {
            assertEquals(200, stalled.send("GET", "/big.bin", Map.of(), false).status()); // kept alive
            long started = System.nanoTime();
            Await.until("the stalled transfer ended", Duration.ofSeconds(15),
                    () -> servlet.metrics().aborted() == 1, () -> servlet.metrics().toString());
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(took.compareTo(Duration.ofMillis(900)) >= 0, "ended before the timeout: " + took);
            Await.until("everything released", Duration.ofSeconds(15),
                    () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().bufferBytesInUse() == 0,
                    () -> servlet.metrics().toString());
            assertEquals(0, OpenFiles.countUnder(root));
            // Its connection is closed as well, not left to the container's own timeout (60 s here): the client
            // that reads again gets what the kernel had queued, then the end.
            stalled.setReadTimeout(20_000);
            assertTrue(stalled.drainUntilEnded() >= 0, "the connection stayed open after its download was ended");
        }
    }

    /**
     * A container timeout shorter than stallTimeout (Tomcat's server.xml has 20 s, Jetty 30 s, against 60 s) ends
     * downloads first, also those of clients that read slowly: the operator is told once, with what to change.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aContainerTimeoutShorterThanStallTimeoutIsToldOnce(ContainerKind kind) throws Exception {
        bigSparseFile();
        SluiceServlet servlet = new SluiceServlet();
        try (LogCapture log = LogCapture.of("dev.sluice.servlet.SluiceSender");
             ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "stallTimeout", "60s", "chunkSize", "64KiB"), 0, Duration.ofSeconds(1))) {
            for (int stalled = 1; stalled <= 2; stalled++) {
                try (TestClient client = new TestClient(container.uri(), 4096)) {
                    assertEquals(200, client.send("GET", "/big.bin", Map.of(), true).status());
                    int aborted = stalled;
                    Await.until("the container's timeout ended download " + stalled, Duration.ofSeconds(30),
                            () -> servlet.metrics().aborted() == aborted, () -> servlet.metrics().toString());
                }
            }
            List<String> told = log.messages(Level.WARNING).stream()
                    .filter(m -> m.contains("container's own timeout")).toList();
            assertEquals(1, told.size(), "one warning for two downloads: " + told);
            assertTrue(told.get(0).contains("stallTimeout (60 s)") && told.get(0).contains("connectionTimeout")
                    && told.get(0).contains("jetty.http.idleTimeout"), told.get(0));
        }
    }
}
