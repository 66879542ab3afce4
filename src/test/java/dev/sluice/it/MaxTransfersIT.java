package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Above maxTransfers, a new download gets 503 with Retry-After instead of piling up. */
class MaxTransfersIT {

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aDownloadPastTheLimitIsTurnedAwayAndLaterServed(ContainerKind kind) throws Exception {
        try (RandomAccessFile big = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            big.setLength(256L * 1024 * 1024);
        }
        Files.writeString(root.resolve("small.txt"), "small");
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "maxTransfers", "2", "chunkSize", "64KiB"), 0)) {
            List<TestClient> slow = List.of(new TestClient(container.uri(), 4096), new TestClient(container.uri(), 4096));
            try {
                for (TestClient client : slow) {
                    assertEquals(200, client.send("GET", "/big.bin", Map.of(), true).status());
                }
                Await.until("two downloads running", Duration.ofSeconds(30),
                        () -> servlet.metrics().activeTransfers() == 2, () -> servlet.metrics().toString());

                TestClient.Response refused = TestClient.get(container.uri(), "/small.txt");
                assertEquals(503, refused.status());
                assertEquals("5", refused.header("retry-after"));
                assertEquals("Service Unavailable\n", refused.text());
                assertEquals(2, servlet.metrics().activeTransfers());
            } finally {
                for (TestClient client : slow) {
                    client.abort();
                }
            }
            Await.until("the slow downloads released", Duration.ofSeconds(30),
                    () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
            TestClient.Response served = TestClient.get(container.uri(), "/small.txt");
            assertEquals(200, served.status());
            assertEquals("small", served.text());
            Leaks.assertNothingHeld(servlet, root);
        }
    }
}
