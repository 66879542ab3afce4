package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aClientThatStopsReadingIsEndedAfterTheStallTimeout(ContainerKind kind) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L * 1024 * 1024);
        }
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "stallTimeout", "1s", "chunkSize", "64KiB"), 0);
             TestClient stalled = new TestClient(container.uri(), 4096)) {
            assertEquals(200, stalled.send("GET", "/big.bin", Map.of(), true).status());
            long started = System.nanoTime();
            Await.until("the stalled transfer ended", Duration.ofSeconds(15),
                    () -> servlet.metrics().aborted() == 1, () -> servlet.metrics().toString());
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(took.compareTo(Duration.ofMillis(900)) >= 0, "ended before the timeout: " + took);
            Await.until("everything released", Duration.ofSeconds(15),
                    () -> servlet.metrics().activeTransfers() == 0 && servlet.metrics().bufferBytesInUse() == 0,
                    () -> servlet.metrics().toString());
            assertEquals(0, OpenFiles.countUnder(root));
        }
    }
}
