package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which bodies go to Tomcat's sendfile and which through Sluice's engine: the engine's counters tell (a body
 * handed off is counted in {@code handedOff} and never becomes a transfer). Every body is checked byte for byte.
 */
class SendfileIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final int SIZE = 3 * 1024 * 1024 + 5;

    @TempDir
    Path root;

    private byte[] data;

    private byte[] writeFile() throws Exception {
        data = new byte[SIZE];
        new Random(7).nextBytes(data);
        Files.write(root.resolve("f.bin"), data);
        return data;
    }

    private Map<String, String> params(String... extra) {
        Map<String, String> params = new HashMap<>(Map.of("root", root.toString(), "chunkSize", "64KiB"));
        for (int i = 0; i < extra.length; i += 2) {
            params.put(extra[i], extra[i + 1]);
        }
        return params;
    }

    private static TransferMetrics settled(SluiceServlet servlet) {
        Await.until("no transfer running", DEADLINE, () -> servlet.metrics().activeTransfers() == 0,
                () -> servlet.metrics().toString());
        return servlet.metrics();
    }

    @Test
    void tomcatSendsWholeFilesAndSingleRangesItselfAndTheEngineTheRest() throws Exception {
        writeFile();
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running tomcat = ContainerKind.startTomcatWithSendfile(servlet, params(), 0)) {
            TestClient.Response whole = TestClient.get(tomcat.uri(), "/f.bin");
            assertEquals(200, whole.status());
            assertEquals(Integer.toString(SIZE), whole.header("content-length"));
            assertEquals(TestClient.sha256(data), TestClient.sha256(whole.body()));
            TransferMetrics afterWhole = settled(servlet);
            assertEquals(1, afterWhole.handedOff(), afterWhole.toString());
            assertEquals(SIZE, afterWhole.bytesHandedOff());
            assertEquals(0, afterWhole.completed() + afterWhole.bytesSent(), "the engine sent the body too");

            TestClient.Response range = TestClient.exchange(tomcat.uri(), "GET", "/f.bin",
                    Map.of("Range", "bytes=1000-2000999"));
            assertEquals(206, range.status());
            assertArrayEquals(Arrays.copyOfRange(data, 1000, 2001000), range.body());
            assertEquals(2, settled(servlet).handedOff());

            TestClient.Response multi = TestClient.exchange(tomcat.uri(), "GET", "/f.bin",
                    Map.of("Range", "bytes=0-9,100000-100009"));
            assertEquals(206, multi.status());
            assertTrue(multi.header("content-type").startsWith("multipart/byteranges"), multi.header("content-type"));
            TransferMetrics afterMulti = settled(servlet);
            assertEquals(2, afterMulti.handedOff(), "a multipart body is not one file region");
            assertEquals(1, afterMulti.completed());

            TestClient.Response head = TestClient.exchange(tomcat.uri(), "HEAD", "/f.bin", Map.of());
            assertEquals(Integer.toString(SIZE), head.header("content-length"));
            TestClient.Response notModified = TestClient.exchange(tomcat.uri(), "GET", "/f.bin",
                    Map.of("If-None-Match", whole.header("etag")));
            assertEquals(304, notModified.status());
            assertEquals(2, settled(servlet).handedOff(), "HEAD and 304 have no body to hand off");
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    @Test
    void aSpeedLimitOrTheSettingKeepsTomcatOnTheEngine() throws Exception {
        writeFile();
        for (Map<String, String> settings : new Map[] {params("limitRate", "64MiB"), params("sendfile", "false"),
                params("maxTransfers", "100")}) {
            SluiceServlet servlet = new SluiceServlet();
            try (ContainerKind.Running tomcat = ContainerKind.startTomcatWithSendfile(servlet, settings, 0)) {
                TestClient.Response whole = TestClient.get(tomcat.uri(), "/f.bin");
                assertEquals(TestClient.sha256(data), TestClient.sha256(whole.body()), settings.toString());
                Await.until("the transfer completed", DEADLINE, () -> servlet.metrics().completed() == 1,
                        () -> servlet.metrics().toString());
                assertEquals(0, servlet.metrics().handedOff(), settings.toString());
                assertEquals(SIZE, servlet.metrics().bytesSent(), settings.toString());
                Leaks.assertNothingHeld(servlet, root);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void containersWithoutSendfileUseTheEngine(ContainerKind kind) throws Exception {
        writeFile();
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, params(), 0)) {
            TestClient.Response whole = TestClient.get(container.uri(), "/f.bin");
            assertEquals(TestClient.sha256(data), TestClient.sha256(whole.body()));
            Await.until("the transfer completed", DEADLINE, () -> servlet.metrics().completed() == 1,
                    () -> servlet.metrics().toString());
            assertEquals(0, servlet.metrics().handedOff());
            Leaks.assertNothingHeld(servlet, root);
        }
    }
}
