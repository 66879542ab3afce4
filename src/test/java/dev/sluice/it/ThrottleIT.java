package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * limitRate on a real container. Only the bound a busy machine cannot break is asserted: the server never lets
 * a limited body through faster than its rate (its timer never fires early). How close it stays to the rate is
 * measured by the benchmark, not asserted here.
 */
class ThrottleIT {

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aLimitedDownloadIsNeverFasterThanItsRate(ContainerKind kind) throws Exception {
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(4).nextBytes(data);
        Files.write(root.resolve("video.bin"), data);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "limitRate", "1MiB", "limitRateAfter", "1MiB", "chunkSize", "64KiB"), 0)) {
            long start = System.nanoTime();
            TestClient.Response response = TestClient.get(container.uri(), "/video.bin");
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertEquals(TestClient.sha256(data), TestClient.sha256(response.body()));
            // 1 MiB free, then 3 MiB at 1 MiB/s: at least 3 s.
            assertTrue(took.compareTo(Duration.ofMillis(2_950)) >= 0, "faster than the limit: " + took);
            Await.until("the transfer ended", Duration.ofSeconds(10),
                    () -> servlet.metrics().completed() == 1 && servlet.metrics().bufferBytesInUse() == 0,
                    () -> servlet.metrics().toString());
        }
    }
}
