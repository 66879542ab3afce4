package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flight-recorder event of a transfer, driven like {@code TransferTest}: a hand-moved clock, reads completed
 * by hand, a socket filled and drained by hand; so the waits the event reports are exactly the clock's moves.
 */
class TransferEventTest {

    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private final ManualExecutor reads = new ManualExecutor();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeOutputStream out = new FakeOutputStream();
    private final RecordingListener listener = new RecordingListener();
    private final ManualScheduler timers = new ManualScheduler(clock);
    private Recording recording;

    @BeforeEach
    void record() {
        recording = new Recording();
        recording.enable(TransferEvent.NAME).withoutThreshold();
        recording.start();
    }

    @AfterEach
    void stopRecording() {
        recording.close();
    }

    private TransferEngine engine(EngineSettings settings, java.util.concurrent.Executor executor) {
        return new TransferEngine(settings, executor, clock::get, true, timers);
    }

    private static EngineSettings settings() {
        return EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withChunkSize(CHUNK).withMaxBufferMemory(64 * CHUNK)
                .withStallTimeout(Duration.ofSeconds(30));
    }

    private FileChannel file(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(dir.resolve(name), data);
        return FileChannel.open(dir.resolve(name), StandardOpenOption.READ);
    }

    private void advance(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** The events of this test's transfers (other tests' recordings in this JVM may hold others). */
    private List<RecordedEvent> events(String file) throws IOException {
        recording.stop();
        Path dump = dir.resolve("transfers.jfr");
        recording.dump(dump);
        return RecordingFile.readAllEvents(dump).stream()
                .filter(e -> e.getEventType().getName().equals(TransferEvent.NAME))
                .filter(e -> e.getString("file").equals(file))
                .toList();
    }

    @Test
    void theEventCarriesTheLabelTheBytesTheOutcomeAndTheTimeParkedOnSocketAndDisk() throws IOException {
        TransferEngine engine = engine(settings(), reads);
        engine.start(TransferRequest.of(out, file("a.bin", 3 * CHUNK), List.of(new Segment.FileRegion(0, 3 * CHUNK)),
                listener).withLabel(new TransferLabel("/dir/a.bin", "full")));
        out.start(); // chunk 0 is being read: parked on the disk

        advance(7);
        out.fillOnNextWrite();
        reads.runNext(); // chunk 0 written, the socket is full: parked on the socket

        advance(11);
        reads.runNext(); // chunk 1 arrives: still parked on the socket

        advance(13);
        out.setWritable(true); // chunk 1 written; chunk 2 is being read: parked on the disk

        advance(19);
        reads.runAll(); // chunk 2 written: done

        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        List<RecordedEvent> events = events("/dir/a.bin");
        assertEquals(1, events.size(), events::toString);
        RecordedEvent event = events.get(0);
        assertEquals("full", event.getString("range"));
        assertEquals(3 * CHUNK, event.getLong("bytes"));
        assertEquals("COMPLETED", event.getString("outcome"));
        assertEquals(Duration.ofMillis(7 + 19), event.getDuration("readWait"));
        assertEquals(Duration.ofMillis(11 + 13), event.getDuration("socketWait"));
        assertEquals(Duration.ZERO, event.getDuration("bufferWait"));
        assertEquals(Duration.ZERO, event.getDuration("throttleWait"));
        assertTrue(!event.getDuration().isNegative());
    }

    @Test
    void anAbortedTransferReportsWhatItSentAndTheTimeTheSpeedLimitHeldIt() throws IOException {
        TransferEngine engine = engine(settings().withLimitRate(CHUNK, 0), Runnable::run); // reads never park
        long started = clock.get();
        engine.start(TransferRequest.of(out, file("b.bin", 10 * CHUNK),
                List.of(new Segment.FileRegion(0, 10 * CHUNK)), listener)
                .withLabel(new TransferLabel("/b.bin", "bytes 0-40959/40960")));
        out.start();
        for (int i = 0; i < 3; i++) {
            assertTrue(timers.fireNext(), "the speed limit set no timer");
        }
        long throttled = clock.get() - started;
        assertTrue(throttled > 0, "the clock never moved");
        out.error(new IOException("client went away"));

        assertEquals(Outcome.ABORTED, listener.only().outcome());
        RecordedEvent event = events("/b.bin").get(0);
        assertEquals("bytes 0-40959/40960", event.getString("range"));
        assertEquals("ABORTED", event.getString("outcome"));
        assertEquals(listener.only().bytesWritten(), event.getLong("bytes"));
        assertEquals(Duration.ofNanos(throttled), event.getDuration("throttleWait"));
        assertEquals(Duration.ZERO, event.getDuration("readWait"));
        assertEquals(Duration.ZERO, event.getDuration("socketWait"));
    }

    @Test
    void aWaitForTheBufferBudgetIsReportedAsSuch() throws IOException {
        TransferEngine engine = engine(settings().withMaxBufferMemory(CHUNK), reads);
        RecordingListener first = new RecordingListener();
        engine.start(TransferRequest.of(out, file("c.bin", CHUNK), List.of(new Segment.FileRegion(0, CHUNK)), first)
                .withLabel(new TransferLabel("/c.bin", "full")));
        out.start(); // holds the only buffer while its read is pending
        FakeOutputStream secondOut = new FakeOutputStream();
        engine.start(TransferRequest.of(secondOut, file("d.bin", CHUNK), List.of(new Segment.FileRegion(0, CHUNK)),
                listener).withLabel(new TransferLabel("/d.bin", "full")));
        secondOut.start(); // no buffer left: parked on the budget

        advance(23);
        reads.runAll(); // the first completes and frees the buffer; the second reads and completes

        assertEquals(Outcome.COMPLETED, first.only().outcome());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertArrayEquals(Files.readAllBytes(dir.resolve("d.bin")), secondOut.sent());
        RecordedEvent event = events("/d.bin").get(0);
        assertEquals(Duration.ofMillis(23), event.getDuration("bufferWait"));
        assertEquals(Duration.ZERO, event.getDuration("readWait"));
    }
}
