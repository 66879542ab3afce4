package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ops.JsonReader;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferEvent;
import dev.sluice.stream.TransferMetrics;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What an operator sees: the counters in JMX and at the status path, the flight-recorder event, the log lines. */
class OperationsIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final ObjectName ALL_SLUICE = name("dev.sluice:type=Transfers,*");

    @TempDir
    Path root;

    private static ObjectName name(String name) {
        try {
            return new ObjectName(name);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private byte[] write(String name, int size) throws Exception {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(root.resolve(name), data);
        return data;
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theCountersAreAnMBeanWhileTheServletRunsAndGoneAfter(ContainerKind kind) throws Exception {
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        byte[] data = write("a.bin", 3 * 1024 * 1024 + 5);
        Set<ObjectName> before = jmx.queryNames(ALL_SLUICE, null);
        SluiceServlet first = new SluiceServlet();
        SluiceServlet second = new SluiceServlet();
        try (ContainerKind.Running one = kind.start(first, Map.of("root", root.toString()), 0);
                ContainerKind.Running two = kind.start(second, Map.of("root", root.toString()), 0)) {
            Set<ObjectName> names = new java.util.HashSet<>(jmx.queryNames(ALL_SLUICE, null));
            names.removeAll(before);
            assertEquals(2, names.size(), "two servlets in one JVM must get two names: " + names);

            TestClient.Response response = TestClient.get(one.uri(), "/a.bin");
            assertEquals(TestClient.sha256(data), TestClient.sha256(response.body()));
            Await.until("the download counted", DEADLINE, () -> first.metrics().completed() == 1,
                    () -> first.metrics().toString());
            TransferMetrics metrics = first.metrics();
            ObjectName mine = names.stream().filter(n -> {
                try {
                    return ((Long) jmx.getAttribute(n, "Completed")) == 1;
                } catch (javax.management.JMException e) {
                    throw new AssertionError(e);
                }
            }).findFirst().orElseThrow(() -> new AssertionError("no MBean counted the download: " + names));
            assertEquals(metrics.bytesSent(), jmx.getAttribute(mine, "BytesSent"));
            assertEquals((long) data.length, jmx.getAttribute(mine, "BytesSent"));
            assertEquals(1L, jmx.getAttribute(mine, "Completed"));
            assertEquals(0L, jmx.getAttribute(mine, "ActiveTransfers"));
            assertEquals("Transfers", mine.getKeyProperty("type"));
            assertEquals("\"sluice\"", mine.getKeyProperty("servlet"));
        }
        assertEquals(before, jmx.queryNames(ALL_SLUICE, null), "an MBean outlived its servlet");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theStatusPathAnswersWithTheCountersAsJsonAndIsAFileWhenOff(ContainerKind kind) throws Exception {
        byte[] data = write("a.bin", 2 * 1024 * 1024 + 7);
        Files.writeString(root.resolve("status.json"), "a file, not the status");

        SluiceServlet off = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(off, Map.of("root", root.toString()), 0)) {
            assertEquals("a file, not the status", TestClient.get(container.uri(), "/status.json").text());
        }

        SluiceServlet servlet = new SluiceServlet();
        // Buffers, so that the high-water mark the JSON must report is not zero (a mapped download uses none).
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "statusPath", "/status.json", "bufferKind", "direct"), 0)) {
            assertEquals(TestClient.sha256(data), TestClient.sha256(TestClient.get(container.uri(), "/a.bin").body()));
            Await.until("the download counted", DEADLINE, () -> servlet.metrics().completed() == 1,
                    () -> servlet.metrics().toString());

            TestClient.Response status = TestClient.get(container.uri(), "/status.json");
            assertEquals(200, status.status());
            assertTrue(status.header("Content-Type").startsWith("application/json"), status.header("Content-Type"));
            assertEquals("no-store", status.header("Cache-Control"));
            Map<String, Object> json = JsonReader.object(status.text());
            TransferMetrics m = servlet.metrics();
            Map<String, Long> counters = Map.ofEntries(Map.entry("activeTransfers", 0L),
                    Map.entry("bytesSent", (long) data.length), Map.entry("completed", 1L), Map.entry("aborted", 0L),
                    Map.entry("failed", 0L), Map.entry("bufferBytesInUse", 0L),
                    Map.entry("bufferBytesHighWater", m.bufferBytesHighWater()),
                    Map.entry("bufferWaits", m.bufferWaits()), Map.entry("readQueueLength", m.readQueueLength()),
                    Map.entry("reads", m.reads()),
                    Map.entry("handedOff", 0L), Map.entry("bytesHandedOff", 0L),
                    Map.entry("bufferBytesBudget", m.bufferBytesBudget()), Map.entry("clientRateGroups", 0L),
                    Map.entry("userRateGroups", 0L), Map.entry("mappedWindows", m.mappedWindows()),
                    Map.entry("readThreads", m.readThreads()), Map.entry("spanLoads", 0L));
            counters.forEach((key, value) -> assertEquals(value, json.get(key), key + " in " + status.text()));
            assertEquals(List.of(), json.get("transfers"));
            assertEquals(List.of(), json.get("rateGroups"));
            assertTrue(m.bufferBytesHighWater() > 0);

            TestClient.Response head = TestClient.exchange(container.uri(), "HEAD", "/status.json", Map.of());
            assertEquals(200, head.status());
            assertEquals(status.body().length, head.head().contentLength());
            assertEquals(0, head.body().length);
            assertEquals("no-store", head.header("Cache-Control"));
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    @Test
    void aDownloadOnJettyRecordsOneFlightRecorderEvent() throws Exception {
        byte[] data = write("recorded.bin", 1024 * 1024 + 3);
        SluiceServlet servlet = new SluiceServlet();
        try (Recording recording = new Recording()) {
            recording.enable(TransferEvent.NAME).withoutThreshold();
            recording.start();
            try (ContainerKind.Running container = ContainerKind.JETTY_EE11.start(servlet,
                    Map.of("root", root.toString(), "chunkSize", "64KiB"), 0)) {
                TestClient.Response response = TestClient.exchange(container.uri(), "GET", "/recorded.bin",
                        Map.of("Range", "bytes=100-"));
                assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, data.length), response.body());
                Await.until("the download counted", DEADLINE, () -> servlet.metrics().completed() == 1,
                        () -> servlet.metrics().toString());
            }
            recording.stop();
            Path dump = root.resolve("transfers.jfr");
            recording.dump(dump);
            List<RecordedEvent> events = RecordingFile.readAllEvents(dump).stream()
                    .filter(e -> e.getEventType().getName().equals(TransferEvent.NAME)).toList();
            assertEquals(1, events.size(), events::toString);
            RecordedEvent event = events.get(0);
            assertEquals("/recorded.bin", event.getString("file"));
            assertEquals("bytes 100-" + (data.length - 1) + "/" + data.length, event.getString("range"));
            assertEquals(data.length - 100, event.getLong("bytes"));
            assertEquals("COMPLETED", event.getString("outcome"));
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void oneLinePerAbortedOrFailedDownloadAndNothingPerChunk(ContainerKind kind) throws Exception {
        byte[] data = write("big.bin", 8 * 1024 * 1024);
        write("shrinking.bin", 32 * 1024 * 1024);
        Logger logger = Logger.getLogger("dev.sluice");
        Level oldLevel = logger.getLevel();
        logger.setLevel(Level.FINE);
        LogCapture capture = LogCapture.of("dev.sluice");
        List<LogRecord> records = capture.records();
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "chunkSize", "64KiB", "readAhead", "1"), 0)) {
            records.clear();
            // Completed, 128 chunks: no line at all.
            assertEquals(TestClient.sha256(data), TestClient.sha256(TestClient.get(container.uri(), "/big.bin").body()));
            Await.until("completed", DEADLINE, () -> servlet.metrics().completed() == 1,
                    () -> servlet.metrics().toString());
            assertEquals(List.of(), messages(records), "a completed download logged");

            // Aborted by the client: one FINE line.
            try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
                client.send("GET", "/big.bin", Map.of(), true);
                byte[] some = new byte[64 * 1024];
                int got = 0;
                while (got < some.length) {
                    got += client.read(some, got, some.length - got);
                }
                client.abort();
            }
            Await.until("aborted", DEADLINE, () -> servlet.metrics().aborted() == 1, () -> servlet.metrics().toString());
            Await.until("one line for the abort", DEADLINE, () -> transferLines(records).size() == 1,
                    () -> messages(records).toString());
            LogRecord abort = transferLines(records).get(0);
            assertEquals(Level.FINE, abort.getLevel());
            assertTrue(abort.getMessage().matches("Sluice: /big\\.bin \\(full\\) aborted after \\d+ of "
                    + data.length + " bytes: .+"), abort.getMessage());

            // Failed (the file shrank): one WARNING line.
            try (TestClient client = new TestClient(container.uri(), 16 * 1024)) {
                client.setReadTimeout(20_000);
                client.send("GET", "/shrinking.bin", Map.of(), false);
                byte[] first = new byte[1024 * 1024];
                int got = 0;
                while (got < first.length) {
                    got += client.read(first, got, first.length - got);
                }
                try (RandomAccessFile file = new RandomAccessFile(root.resolve("shrinking.bin").toFile(), "rw")) {
                    file.setLength(4 * 1024 * 1024);
                }
                client.drainToEnd();
            }
            Await.until("failed", DEADLINE, () -> servlet.metrics().failed() == 1, () -> servlet.metrics().toString());
            Leaks.assertNothingHeld(servlet, root);
            List<LogRecord> lines = transferLines(records);
            assertEquals(2, lines.size(), messages(records).toString());
            LogRecord failure = lines.get(1);
            assertEquals(Level.WARNING, failure.getLevel());
            assertTrue(failure.getMessage().matches("Sluice: /shrinking\\.bin \\(full\\) failed after "
                    + "\\d+ of " + 32 * 1024 * 1024 + " bytes: .*FileShrankException.*"), failure.getMessage());
        } finally {
            capture.close();
            logger.setLevel(oldLevel);
        }
    }

    /** The lines about one transfer each (the container may add its own, e.g. a request it ended itself). */
    private static List<LogRecord> transferLines(List<LogRecord> records) {
        synchronized (records) {
            return records.stream().filter(r -> r.getMessage().startsWith("Sluice: /")).toList();
        }
    }

    private static List<String> messages(List<LogRecord> records) {
        synchronized (records) {
            return records.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList();
        }
    }
}
