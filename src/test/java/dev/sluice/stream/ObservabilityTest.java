package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the engine tells about its transfers: each one's summary (time spent, and where it went), the totals and
 * histograms in its metrics, and the transfers in flight. Driven by hand, so every nanosecond is known.
 */
class ObservabilityTest {

    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private final ManualExecutor reads = new ManualExecutor();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final ManualScheduler timers = new ManualScheduler(clock);
    private final List<TransferSummary> summaries = new ArrayList<>();

    private TransferEngine engine() {
        return new TransferEngine(EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withChunkSize(CHUNK),
                reads, clock::get, true, timers);
    }

    private TransferListener summaries() {
        return new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                throw new AssertionError("the engine should hand over the summary");
            }

            @Override
            public void ended(TransferSummary summary) {
                summaries.add(summary);
            }
        };
    }

    private FileChannel file(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return FileChannel.open(Files.write(dir.resolve(name), data), StandardOpenOption.READ);
    }

    @Test
    void theSummarySaysWhereTheTimeWentAndTheMetricsAddItUp() throws IOException {
        TransferEngine engine = engine();
        FakeOutputStream out = new FakeOutputStream();
        engine.start(TransferRequest.of(out, file("a.bin", 2 * CHUNK), List.of(new Segment.FileRegion(0, 2 * CHUNK)),
                summaries()));
        out.start(); // asks for the first chunk and parks for the read
        clock.addAndGet(Duration.ofMillis(7).toNanos());
        out.fillOnNextWrite();
        reads.runNext(); // the first chunk goes and fills the socket; the second is read ahead
        reads.runAll();
        clock.addAndGet(Duration.ofMillis(11).toNanos());
        out.setWritable(true); // the rest goes at once
        reads.runAll();

        TransferSummary summary = summaries.get(0);
        assertEquals(1, summaries.size());
        assertEquals(Outcome.COMPLETED, summary.outcome());
        assertEquals(2 * CHUNK, summary.bytesWritten());
        assertEquals(2 * CHUNK, summary.length());
        assertNull(summary.cause());
        assertEquals(new Waits(Duration.ofMillis(11).toNanos(), Duration.ofMillis(7).toNanos(), 0, 0),
                summary.waits());
        assertEquals(Duration.ofMillis(18).toNanos(), summary.durationNanos());

        TransferMetrics metrics = engine.metrics();
        assertEquals(summary.waits(), metrics.parked());
        assertEquals(1, metrics.durations().count());
        assertEquals(0.018, metrics.durations().sum(), 1e-9);
        assertArrayEquals(new long[] {0, 1, 1, 1, 1, 1, 1, 1}, metrics.durations().cumulativeCounts());
        assertEquals(2.0 * CHUNK, metrics.sizes().sum(), 0);
        assertArrayEquals(new long[] {0, 1, 1, 1, 1, 1, 1, 1}, metrics.sizes().cumulativeCounts());
    }

    @Test
    void theTransfersInFlightAreListedWithTheirProgressUntilTheyEnd() throws IOException {
        TransferEngine engine = engine();
        FakeOutputStream slow = new FakeOutputStream();
        FakeOutputStream waiting = new FakeOutputStream();
        engine.start(TransferRequest.of(slow, file("a.bin", 4 * CHUNK), List.of(new Segment.FileRegion(0, 4 * CHUNK)),
                summaries()).withLabel(new TransferLabel("/a.bin", "full")).withClientKey("10.0.0.1")
                .withUserKey("alice"));
        engine.start(TransferRequest.of(waiting, file("b.bin", CHUNK), List.of(new Segment.FileRegion(0, CHUNK)),
                summaries()).withLabel(new TransferLabel("/b.bin", "bytes 0-99/4096")));
        slow.start();
        slow.fillOnNextWrite();
        waiting.start();
        reads.runNext(); // the slow client's first chunk fills its socket; b's read is not done yet
        clock.addAndGet(Duration.ofSeconds(2).toNanos());

        List<TransferView> views = new ArrayList<>(engine.activeTransfers());
        views.sort(Comparator.comparing(view -> view.label().file()));
        assertEquals(List.of(
                new TransferView(new TransferLabel("/a.bin", "full"), "10.0.0.1", "alice", CHUNK, 4 * CHUNK,
                        Transfer.State.WAITING_FOR_SOCKET, Duration.ofSeconds(2).toNanos()),
                new TransferView(new TransferLabel("/b.bin", "bytes 0-99/4096"), null, null, 0, CHUNK,
                        Transfer.State.WAITING_FOR_READ, Duration.ofSeconds(2).toNanos())), views);

        slow.setWritable(true);
        reads.runAll();
        assertEquals(List.of(), engine.activeTransfers());
        assertEquals(2, summaries.size());
    }
}
