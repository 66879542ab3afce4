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

    private static final int CHUNK = 64 * 1024;
    private static final int FLOOR = 16 * 1024;
    /** Downloads on the first connection until one ends at full size (one almost always does). */
    private static final int MAX_TRIES = 20;

    @TempDir
    Path root;

    /** What the flight recorder said about one download of this test's file. */
    record Ended(int startChunk, int earnedChunk, String outcome) {
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theNextDownloadOnAProvenConnectionStartsAtFullSize(ContainerKind kind) throws Exception {
        String name = "history-" + kind.name().toLowerCase(java.util.Locale.ROOT) + ".bin";
        byte[] data = new byte[8 * 1024 * 1024];
        new Random(11).nextBytes(data);
        Files.write(root.resolve(name), data);
        String expected = TestClient.sha256(data);
        List<Ended> ended = new CopyOnWriteArrayList<>();
        try (RecordingStream events = new RecordingStream()) {
            events.enable(TransferEvent.NAME).withoutThreshold();
            events.onEvent(TransferEvent.NAME, event -> {
                if (event.getString("file").endsWith(name)) {
                    ended.add(new Ended(event.getInt("startChunk"), event.getInt("earnedChunk"),
                            event.getString("outcome")));
                }
            });
            events.startAsync();
            SluiceServlet servlet = new SluiceServlet();
            // Pooled 64 KiB chunks: a client that reads a few MB/s earns the full size.
            try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                    "chunkSize", "64KiB", "bufferKind", "direct"), 0);
                    TestClient connection = new TestClient(container.uri())) {
                int tries = 0;
                Ended last;
                do {
                    download(connection, name, expected);
                    int downloads = ++tries;
                    Await.until("the flight recorder saw download " + downloads, Duration.ofSeconds(30),
                            () -> ended.size() == downloads, ended::toString);
                    last = ended.get(downloads - 1);
                    assertEquals("COMPLETED", last.outcome());
                } while (last.earnedChunk() < CHUNK && tries < MAX_TRIES);
                assertEquals(CHUNK, last.earnedChunk(), "no download on the connection ended at full size: " + ended);
                assertEquals(FLOOR, ended.get(0).startChunk(), "the connection's first download started at full size");
                int proven = tries;

                download(connection, name, expected);
                Await.until("the flight recorder saw the next download", Duration.ofSeconds(30),
                        () -> ended.size() == proven + 1, ended::toString);
                assertEquals(CHUNK, ended.get(proven).startChunk(),
                        "the download after one that ended at full size did not start there: " + ended);

                try (TestClient fresh = new TestClient(container.uri())) {
                    download(fresh, name, expected);
                }
                Await.until("the flight recorder saw the new connection's download", Duration.ofSeconds(30),
                        () -> ended.size() == proven + 2, ended::toString);
                assertEquals(FLOOR, ended.get(proven + 1).startChunk(),
                        "a new connection inherited another connection's history: " + ended);
                assertTrue(servlet.metrics().bufferBytesHighWater() > 0);
            }
        }
    }

    private static void download(TestClient connection, String name, String expected) throws Exception {
        TestClient.Head head = connection.send("GET", "/" + name, Map.of(), false);
        assertEquals(200, head.status());
        assertEquals(expected, connection.sha256(head.contentLength()));
    }
}
