package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A keep-alive connection carries its history: once a download on it ended at full chunk size, the next download
 * on the same connection starts at full size, and a download on a new connection starts small. Seen through the
 * flight recorder's {@link TransferEvent} of each download (its start and earned chunk sizes), recorded in this
 * JVM, where the container runs.
 */
class ConnectionHistoryIT {

    private static final int FLOOR = 16 * 1024;
    /** Downloads on the first connection until one earns more than the 16 KiB floor. */
    private static final int MAX_TRIES = 20;

    @TempDir
    Path root;

    /**
     * What the flight recorder said about one download of this test's file; its duration and the time its socket
     * refused data say, when the test fails, whether the client was slow or the sizer did not measure.
     */
    record Ended(int startChunk, int earnedChunk, String outcome, Duration took, Duration socketWait) {
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theNextDownloadOnAProvenConnectionStartsAtWhatTheLastOneEarned(ContainerKind kind) throws Exception {
        String name = "history-" + kind.name().toLowerCase(java.util.Locale.ROOT) + ".bin";
        byte[] data = new byte[16 * 1024 * 1024];
        new Random(11).nextBytes(data);
        Files.write(root.resolve(name), data);
        String expected = TestClient.sha256(data);
        List<Ended> ended = new CopyOnWriteArrayList<>();
        try (RecordingStream events = new RecordingStream()) {
            events.enable(TransferEvent.NAME).withoutThreshold();
            events.onEvent(TransferEvent.NAME, event -> {
                if (event.getString("file").endsWith(name)) {
                    ended.add(new Ended(event.getInt("startChunk"), event.getInt("earnedChunk"),
                            event.getString("outcome"), event.getDuration(), event.getDuration("socketWait")));
                }
            });
            events.startAsync();
            SluiceServlet servlet = new SluiceServlet();
            // Pooled 64 KiB chunks: a client that reads a few MB/s earns the full size. The speed limit makes every
            // download last long enough to be measured (a quarter of a second) however fast the machine: unlimited,
            // 8 MiB at 16 KiB chunks took 13 ms here, less than one measuring window, so it never grew.
            try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                    "chunkSize", "64KiB", "bufferKind", "direct", "limitRate", "64MiB"), 0);
                    TestClient connection = new TestClient(container.uri())) {
                // What a download earns depends on how fast this machine drains it (a loaded one earned 32 KiB of
                // 64 in twenty tries): the property is that the next download starts at what the last one earned.
                download(connection, name, expected);
                Await.until("the flight recorder saw the first download", Duration.ofSeconds(30),
                        () -> ended.size() == 1, ended::toString);
                assertEquals("COMPLETED", ended.get(0).outcome());
                assertEquals(FLOOR, ended.get(0).startChunk(), "the connection's first download started above 16 KiB");
                int tries = 1;
                while (ended.get(tries - 1).earnedChunk() <= FLOOR && tries < MAX_TRIES) {
                    download(connection, name, expected);
                    int downloads = ++tries;
                    Await.until("the flight recorder saw download " + downloads, Duration.ofSeconds(30),
                            () -> ended.size() == downloads, ended::toString);
                    assertEquals("COMPLETED", ended.get(downloads - 1).outcome());
                }
                int earned = ended.get(tries - 1).earnedChunk();
                assertTrue(earned > FLOOR, "no download on the connection earned more than 16 KiB: " + ended);
                int proven = tries;

                download(connection, name, expected);
                Await.until("the flight recorder saw the next download", Duration.ofSeconds(30),
                        () -> ended.size() == proven + 1, ended::toString);
                assertEquals(earned, ended.get(proven).startChunk(),
                        "the download after one that earned " + earned + " bytes did not start there: " + ended);

                try (TestClient fresh = new TestClient(container.uri())) {
                    download(fresh, name, expected);
                }
                Await.until("the flight recorder saw the new connection's download", Duration.ofSeconds(30),
                        () -> ended.size() == proven + 2, ended::toString);
                assertEquals(FLOOR, ended.get(proven + 1).startChunk(),
                        "a new connection inherited another connection's history: " + ended);
                assertTrue(servlet.metrics().bufferBytesHighWater() > 0);
                Leaks.assertNothingHeld(servlet, root);
            }
        }
    }

    private static void download(TestClient connection, String name, String expected) throws Exception {
        TestClient.Head head = connection.send("GET", "/" + name, Map.of(), false);
        assertEquals(200, head.status());
        assertEquals(expected, connection.sha256(head.contentLength()));
    }
}
