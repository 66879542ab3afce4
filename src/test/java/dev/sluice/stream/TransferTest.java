package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The transfer state machine, one interleaving at a time: a fake output stream whose writability the test
 * toggles, and a read pool whose reads the test completes by hand. Every test checks the bytes that reached the
 * "socket", that the listener heard exactly one end, that the channel is closed and that every buffer is back.
 */
class TransferTest {

    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private final ManualExecutor reads = new ManualExecutor();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeOutputStream out = new FakeOutputStream();
    private final RecordingListener listener = new RecordingListener();
    private final ManualScheduler timers = new ManualScheduler(clock);

    private TransferEngine engine(EngineSettings settings, java.util.concurrent.Executor executor) {
        return new TransferEngine(settings, executor, clock::get, true, timers);
    }

    /** Pool buffers: most tests here count them. Mapped chunks have tests of their own. */
    private static EngineSettings settings() {
        return EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withChunkSize(CHUNK).withMaxBufferMemory(64 * CHUNK)
                .withStallTimeout(Duration.ofSeconds(30));
    }

    private byte[] file(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(dir.resolve(name), data);
        return data;
    }

    private FileChannel open(String name) throws IOException {
        return FileChannel.open(dir.resolve(name), StandardOpenOption.READ);
    }

    private static List<Segment> whole(long length) {
        return List.of(new Segment.FileRegion(0, length));
    }

    /** Starts a transfer of {@code body}: {@code null} when the engine refused it ({@code maxTransfers}). */
    private static Transfer start(TransferEngine engine, jakarta.servlet.ServletOutputStream stream,
            FileChannel channel, List<Segment> body, TransferListener ends) {
        return engine.start(TransferRequest.of(stream, channel, body, ends)).orElse(null);
    }

    /** The largest chunk the container was given: its {@code write n} calls' largest {@code n}. */
    private static int largestWrite(FakeOutputStream out) {
        return out.calls().stream().filter(call -> call.startsWith("write "))
                .mapToInt(call -> Integer.parseInt(call.substring("write ".length()))).max().orElse(0);
    }

    /** One end, with the given outcome; the channel closed; every buffer back. */
    private void assertEndedCleanly(TransferEngine engine, FileChannel channel, Outcome outcome) {
        assertEquals(outcome, listener.only().outcome());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    private static void assertReleased(TransferEngine engine) {
        TransferMetrics m = engine.metrics();
        assertEquals(0, m.bufferBytesInUse(), "buffer bytes still in use");
        assertEquals(0, m.activeTransfers(), "transfers still active");
    }

    @Test
    void sendsEveryByteWhenTheSocketAlwaysTakesData() throws IOException {
        byte[] data = file("a.bin", 100 * CHUNK + 123);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = start(engine, out, channel, whole(data.length), listener);

        out.start();
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(data.length, listener.only().bytesWritten());
        assertNull(listener.only().cause());
        assertEquals(Transfer.State.COMPLETED, transfer.state());
        assertFalse(channel.isOpen());
        assertReleased(engine);
        assertEquals(1, engine.metrics().completed());
        assertEquals(data.length, engine.metrics().bytesSent());
        assertEquals(0, out.protocolViolations());
    }

    /**
     * The listener's {@code beforeFirstWrite} is asked once, right before the body's first write: a refusal ends the
     * transfer as aborted with it as the cause, nothing written and nothing held (the servlet refuses when the
     * application answered otherwise after handing the body over); a yes lets every byte go and is not asked again.
     */
    @Test
    void theListenerIsAskedOnceBeforeTheFirstWriteAndItsRefusalSendsNothing() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK + 5);
        IOException refusal = new IOException("the application answered 403 (injected)");
        List<Boolean> asked = new java.util.ArrayList<>();
        for (boolean refuse : new boolean[] {true, false}) {
            RecordingListener ends = new RecordingListener();
            TransferListener gate = new TransferListener() {
                @Override
                public void ended(TransferSummary summary) {
                    ends.ended(summary);
                }

                @Override
                public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                    ends.ended(outcome, bytesWritten, cause);
                }

                @Override
                public void beforeFirstWrite() throws IOException {
                    asked.add(refuse);
                    if (refuse) {
                        throw refusal;
                    }
                }
            };
            FakeOutputStream stream = new FakeOutputStream();
            TransferEngine engine = engine(settings(), reads);
            FileChannel channel = open("a.bin");
            start(engine, stream, channel, whole(data.length), gate);
            stream.start();
            reads.runAll();

            if (refuse) {
                assertEquals(0, stream.sent().length, "a byte went after the refusal");
                assertEquals(Outcome.ABORTED, ends.only().outcome());
                assertEquals(0, ends.only().bytesWritten());
                assertSame(refusal, ends.only().cause());
            } else {
                assertArrayEquals(data, stream.sent());
                assertEquals(Outcome.COMPLETED, ends.only().outcome());
            }
            assertFalse(channel.isOpen());
            assertReleased(engine);
        }
        assertEquals(List.of(true, false), asked, "asked once per transfer");
    }

    /**
     * An {@link Error} out of the channel's close, as a fault of a mapping came out of Java 17 on a read thread
     * (an {@link InternalError} raised at the thread's next safepoint, which was in that close): the end is still told
     * and the buffers go back. Told nothing, the servlet never completes the request and the client waits for good.
     */
    @Test
    void anErrorOutOfTheChannelsCloseStillEndsTheTransfer() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK + 5);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = new FailingChannel(open("a.bin"), Long.MAX_VALUE) {
            @Override
            protected void implCloseChannel() throws IOException {
                super.implCloseChannel();
                throw new InternalError("a fault occurred in an unsafe memory access operation (injected)");
            }
        };
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        assertThrows(InternalError.class, reads::runAll); // not swallowed: the thread's owner sees it

        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    @Test
    void aBodyOfLiteralBytesNeedsNoChannelAndNoRead() {
        byte[] data = new byte[3 * CHUNK + 5];
        new Random(7).nextBytes(data);
        java.nio.ByteBuffer cached = java.nio.ByteBuffer.wrap(data).asReadOnlyBuffer();
        TransferEngine engine = engine(settings(), reads);
        Transfer transfer = start(engine, out, null, List.of(new Segment.Literal(cached.slice(0, 10)),
                new Segment.Literal(cached.slice(10, data.length - 10))), listener);

        out.start();

        assertEquals(0, reads.pending(), "nothing to read");
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(Transfer.State.COMPLETED, transfer.state());
        assertReleased(engine);
        assertEquals(data.length, engine.metrics().bytesSent());
        assertThrows(NullPointerException.class, () -> TransferRequest.of(out, null, whole(1), listener),
                "a file region needs a channel");
    }

    /**
     * A literal as large as a cached file goes out in chunk-size views, not in one write: a speed limit then paces
     * it chunk by chunk, and the container never holds (or, on Tomcat, copies) the whole of it at once.
     */
    @Test
    void aLargeLiteralGoesOutInChunks() {
        byte[] data = new byte[100 * 1024 + 3];
        new Random(8).nextBytes(data);
        TransferEngine engine = engine(adaptive(), reads);
        start(engine, out, null, List.of(Segment.Literal.of("head".getBytes(StandardCharsets.US_ASCII)),
                Segment.Literal.of(data)), listener);
        out.start();
        byte[] expected = new byte[4 + data.length];
        System.arraycopy("head".getBytes(StandardCharsets.US_ASCII), 0, expected, 0, 4);
        System.arraycopy(data, 0, expected, 4, data.length);
        assertArrayEquals(expected, out.sent());
        List<Integer> writes = out.calls().stream().filter(call -> call.startsWith("write "))
                .map(call -> Integer.parseInt(call.substring("write ".length()))).toList();
        // "head", the literal's chunks, and the body's last byte, which always goes alone (see below)
        assertEquals(2 + (data.length + ChunkSizer.FLOOR - 1) / ChunkSizer.FLOOR, writes.size(), writes.toString());
        assertTrue(writes.stream().allMatch(bytes -> bytes <= ChunkSizer.FLOOR), writes.toString());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    @Test
    void readsCompletingOnTheCallingThreadDoNotRecurse() throws IOException {
        byte[] small = file("small.bin", 4 * CHUNK);
        byte[] big = file("big.bin", 400 * CHUNK);

        int smallDepth = depthOfDirectTransfer("small.bin", small);
        int bigDepth = depthOfDirectTransfer("big.bin", big);

        // A recursive design adds frames per chunk: 100 times the chunks would mean a far deeper stack.
        assertEquals(smallDepth, bigDepth, "stack depth grew with the number of chunks");
    }

    private int depthOfDirectTransfer(String name, byte[] data) throws IOException {
        FakeOutputStream direct = new FakeOutputStream();
        RecordingListener ends = new RecordingListener();
        TransferEngine engine = engine(settings(), Runnable::run);
        start(engine, direct, open(name), whole(data.length), ends);
        direct.start();
        assertArrayEquals(data, direct.sent());
        assertEquals(Outcome.COMPLETED, ends.only().outcome());
        assertReleased(engine);
        return direct.maxStackDepth();
    }

    @Test
    void readCompletingWhileTheSocketIsNotWritableWaitsForOnWritePossible() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        Transfer transfer = start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        assertEquals(Transfer.State.WAITING_FOR_READ, transfer.state());

        out.fillOnNextWrite();
        reads.runNext(); // chunk 0 arrives and is written; it fills the socket; the next read starts
        assertEquals(1, out.writes());
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        assertEquals(1, reads.pending());
        reads.runNext(); // chunk 1 arrives while the socket is full
        assertEquals(1, out.writes(), "wrote while the socket was not writable");
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        assertEquals(0, reads.pending(), "read past the read-ahead while parked");

        out.setWritable(true);
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
        assertEquals(0, out.protocolViolations());
    }

    @Test
    void writabilityReturningWhileAReadIsPendingWaitsForTheRead() throws IOException {
        byte[] data = file("a.bin", 2 * CHUNK + 10);
        TransferEngine engine = engine(settings(), reads);
        Transfer transfer = start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        out.fillOnNextWrite();
        reads.runNext();
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        assertEquals(1, reads.pending());

        out.setWritable(true); // onWritePossible with the next chunk still being read

        assertEquals(Transfer.State.WAITING_FOR_READ, transfer.state());
        assertEquals(1, out.writes());
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    @Test
    void theLastWriteMustBeAcceptedBeforeTheTransferCompletes() throws IOException {
        byte[] data = file("a.bin", CHUNK);
        TransferEngine engine = engine(settings(), reads);
        Transfer transfer = start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        out.fillOnNextWrite();
        reads.runAll();

        assertFalse(listener.ended(), "completed while the last chunk was still in the container");
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        assertTrue(out.hasPendingWrite());

        out.setWritable(true);
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    @Test
    void clientAbortingDuringAReadEndsAtOnceAndTheReadCleansUp() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = start(engine, out, channel, whole(data.length), listener);
        out.start();
        assertEquals(1, reads.pending());

        IOException gone = new IOException("connection reset");
        out.error(gone);

        assertEquals(Transfer.State.ABORTED, transfer.state());
        assertEquals(Outcome.ABORTED, listener.only().outcome());
        assertEquals(gone, listener.only().cause());
        assertEquals(0, engine.metrics().activeTransfers());
        assertTrue(channel.isOpen(), "closing now would make this thread wait for the read in flight");

        reads.runAll();
        assertFalse(channel.isOpen());
        assertReleased(engine);
        assertEquals(1, listener.ends.size());
        assertEquals(1, engine.metrics().aborted());
    }

    @Test
    void aStalledClientIsEndedAfterTheStallTimeout() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = start(engine, out, channel, whole(data.length), listener);
        out.start();
        out.setWritable(false);
        reads.runAll();
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());

        clock.addAndGet(Duration.ofSeconds(29).toNanos());
        engine.checkStalls();
        reads.runAll();
        assertFalse(listener.ended(), "ended before the stall timeout");

        clock.addAndGet(Duration.ofSeconds(2).toNanos());
        engine.checkStalls();
        assertFalse(listener.ended(), "the stall's pass ran on the timer's thread, not the engine's executor");
        reads.runAll();

        assertEquals(Outcome.ABORTED, listener.only().outcome());
        assertInstanceOf(StalledException.class, listener.only().cause());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * After a stalled transfer ended, the container's {@code onWritePossible} (it has sent what it held) reaches the
     * listener, once per call, and the stream is not touched again; those during the transfer do not.
     */
    @Test
    void aWritePossibleAfterTheEndIsToldToTheListener() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
        TransferListener hearing = new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                listener.ended(outcome, bytesWritten, cause);
            }

            @Override
            public void writePossibleAfterEnd() {
                told.incrementAndGet();
                throw new IllegalStateException("the listener's own bug");
            }
        };
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), hearing);
        out.start();
        out.setWritable(false);
        reads.runAll();
        out.setWritable(true);
        out.setWritable(false);
        reads.runAll();
        assertEquals(0, told.get(), "told while the transfer ran");
        clock.addAndGet(Duration.ofSeconds(31).toNanos());
        engine.checkStalls();
        reads.runAll();
        assertInstanceOf(StalledException.class, listener.only().cause());
        int sent = out.sent().length;

        out.setWritable(true);
        reads.runAll();

        assertEquals(1, told.get());
        assertEquals(sent, out.sent().length, "written after the end");
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * The stall timer's verdict reaches the transfer through the executor, so the client may start reading again
     * before it is applied: an {@code onWritePossible} in between overrules it, and the download goes on.
     */
    @Test
    void aClientThatReadsAgainBeforeTheStallVerdictIsAppliedIsNotEnded() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        out.setWritable(false);
        reads.runAll();

        clock.addAndGet(Duration.ofSeconds(31).toNanos());
        engine.checkStalls(); // the verdict waits in the executor
        out.setWritable(true); // the client reads again first
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    @Test
    void aClientThatKeepsTakingDataIsNeverStalled() throws IOException {
        byte[] data = file("a.bin", 20 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        while (!listener.ended()) {
            out.setWritable(false);
            reads.runAll();
            clock.addAndGet(Duration.ofSeconds(20).toNanos()); // 20 s per chunk is slow, but it is progress
            engine.checkStalls();
            out.setWritable(true);
            reads.runAll();
        }
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
    }

    /** Starts a transfer of the whole file whose client takes its first chunk and then nothing. */
    private Transfer stoppedAfterOneWrite(TransferEngine engine, FileChannel channel, long length) {
        Transfer transfer = start(engine, out, channel, whole(length), listener);
        out.fillOnNextWrite();
        out.start();
        reads.runAll();
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        return transfer;
    }

    /**
     * A client that read fast and then stopped keeps, after a second, only the chunk the container holds: the
     * chunks read ahead go back to the pool, and are read again, in order, once its socket drains.
     */
    @Test
    void aClientThatStopsReadingGivesItsReadAheadBackAfterASecond() throws IOException {
        byte[] data = file("a.bin", 20 * CHUNK);
        TransferEngine engine = engine(settings().withReadAhead(4), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = stoppedAfterOneWrite(engine, channel, data.length);
        assertEquals(4 * CHUNK, engine.metrics().bufferBytesInUse(), "one chunk in the container, three read ahead");

        clock.addAndGet(Transfer.IDLE_READ_AHEAD_NANOS - 1);
        engine.checkStalls();
        reads.runAll();
        assertEquals(4 * CHUNK, engine.metrics().bufferBytesInUse(), "given back before the socket was idle a second");

        clock.addAndGet(1);
        engine.checkStalls();
        reads.runAll();
        assertEquals(CHUNK, engine.metrics().bufferBytesInUse(), "only the chunk the container holds");
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        long readsBefore = engine.metrics().reads();
        clock.addAndGet(Duration.ofSeconds(5).toNanos());
        engine.checkStalls();
        reads.runAll();
        assertEquals(CHUNK, engine.metrics().bufferBytesInUse());
        assertEquals(readsBefore, engine.metrics().reads(), "read again while the socket takes nothing");

        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(data.length, listener.only().bytesWritten());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A stopped client whose download also waits for the spent budget gives its read-ahead back: a download queued
     * behind it gets buffers and completes while the first is still stopped. The buffer the stopped one waited
     * for, granted first, goes back at the timer's next round.
     */
    @Test
    void aStoppedClientWaitingForTheBudgetLetsTheDownloadsBehindItThrough() throws IOException {
        byte[] data = file("a.bin", 20 * CHUNK);
        TransferEngine engine = engine(settings().withReadAhead(4).withMaxBufferMemory(3 * CHUNK), reads);
        FileChannel channel = open("a.bin");
        Transfer stopped = stoppedAfterOneWrite(engine, channel, data.length);
        assertEquals(3 * CHUNK, engine.metrics().bufferBytesInUse(), "the budget spent by the stopped download");

        FakeOutputStream out2 = new FakeOutputStream();
        RecordingListener listener2 = new RecordingListener();
        FileChannel channel2 = open("a.bin");
        Transfer behind = start(engine, out2, channel2, whole(data.length), listener2);
        out2.start();
        reads.runAll();
        assertEquals(Transfer.State.WAITING_FOR_BUFFER, behind.state());

        clock.addAndGet(Transfer.IDLE_READ_AHEAD_NANOS);
        engine.checkStalls();
        reads.runAll();
        assertArrayEquals(data, out2.sent());
        assertEquals(Outcome.COMPLETED, listener2.only().outcome());
        assertFalse(channel2.isOpen());
        assertEquals(2 * CHUNK, engine.metrics().bufferBytesInUse(),
                "the stopped download's chunk in the container, and the buffer it was waiting for, unread");
        clock.addAndGet(Transfer.IDLE_READ_AHEAD_NANOS);
        engine.checkStalls();
        reads.runAll();
        assertEquals(CHUNK, engine.metrics().bufferBytesInUse(), "only the stopped download's chunk in the container");
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, stopped.state());

        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * The read-ahead given back and read again after every chunk, through a body of literals and file regions
     * (a multipart one), under a speed limit whose full-speed bytes end mid-body: the bytes go out in order, none
     * twice, none missing.
     */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void theReadAheadGivenBackAfterEveryChunkLosesAndRepeatsNothing(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 9 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind).withReadAhead(5)
                .withLimitRate(1L << 40, 3 * CHUNK + 7), reads).withMapWindow(4 * CHUNK);
        List<Segment> body = List.of(
                Segment.Literal.of("--head\r\n".getBytes(StandardCharsets.US_ASCII)),
                new Segment.FileRegion(10, 2 * CHUNK + 100),
                Segment.Literal.of("\r\n--mid\r\n".getBytes(StandardCharsets.US_ASCII)),
                new Segment.FileRegion(CHUNK - 5, 5 * CHUNK + 11),
                Segment.Literal.of(new byte[0]),
                new Segment.FileRegion(3, 17),
                Segment.Literal.of("\r\n--end--".getBytes(StandardCharsets.US_ASCII)));
        FileChannel channel = open("a.bin");
        start(engine, out, channel, body, listener);
        out.fillOnNextWrite();
        out.start();
        int rounds = 0;
        while (!listener.ended() && rounds++ < 100) {
            while (timers.fireNext() || reads.runNext()) {
                // the reads, and the speed limit's timers
            }
            clock.addAndGet(Transfer.IDLE_READ_AHEAD_NANOS);
            engine.checkStalls();
            reads.runAll();
            assertTrue(engine.metrics().bufferBytesInUse() <= CHUNK, "more than the container's chunk held idle");
            out.fillOnNextWrite();
            out.setWritable(true);
        }
        reads.runAll();

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes("--head\r\n".getBytes(StandardCharsets.US_ASCII));
        expected.write(data, 10, 2 * CHUNK + 100);
        expected.writeBytes("\r\n--mid\r\n".getBytes(StandardCharsets.US_ASCII));
        expected.write(data, CHUNK - 5, 5 * CHUNK + 11);
        expected.write(data, 3, 17);
        expected.writeBytes("\r\n--end--".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(expected.toByteArray(), out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    @Test
    void aReadErrorFailsTheTransferWithoutSendingWrongBytes() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FailingChannel channel = new FailingChannel(open("a.bin"), 3 * CHUNK);
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();

        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertEquals("Input/output error (injected)", listener.only().cause().getMessage());
        assertArrayEquals(Arrays.copyOf(data, 3 * CHUNK), out.sent());
        assertFalse(channel.isOpen());
        assertReleased(engine);
        assertEquals(1, engine.metrics().failed());
    }

    /**
     * A read that finds the file's end before the size the file still reports (a mount whose sizes are wrong) is the
     * storage's error, not a change of the file: the servlet tells a change (503, ask again) from an error (500).
     */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileThatReadsShorterThanItsUnchangedSizeFailsWithAnIoErrorNotAChange(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FailingChannel channel = FailingChannel.endingAt(open("a.bin"), 3 * CHUNK + 7);
        Path path = dir.resolve("a.bin");
        Throwable cause = failureOfWholeCheckedDownload(engine, channel, path, data.length);
        assertEquals(IOException.class, cause.getClass(), cause.toString());
        assertTrue(cause.getMessage().startsWith("the storage ended the file before the size it reports"),
                cause.getMessage());
        byte[] sent = out.sent();
        assertArrayEquals(Arrays.copyOf(data, sent.length), sent);
        // A mapping reads past where the channel's reads end (the file is whole): the body's last byte, read from
        // the channel before the last write, finds the end; a copy stops where its read found it.
        assertTrue(sent.length < data.length && (kind == BufferKind.MAPPED || sent.length <= 3 * CHUNK + 7),
                "sent " + sent.length);
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * A read that found the file's end, in a file that looks unchanged at first and is emptied while the end is
     * looked into (a writer truncating and refilling it in a loop): a change, not the storage's error.
     */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"HEAP", "DIRECT"})
    void aFileEmptiedWhileItsEarlyEndIsLookedIntoWasChanged(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        Path path = dir.resolve("a.bin");
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FailingChannel channel = FailingChannel.endingAtThenChanged(open("a.bin"), 3 * CHUNK + 7, () -> {
            try (FileChannel writer = FileChannel.open(path, StandardOpenOption.WRITE)) {
                writer.truncate(0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Throwable cause = failureOfWholeCheckedDownload(engine, channel, path, data.length);
        assertInstanceOf(FileShrankException.class, cause, cause.toString());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * A read that found the file's end where, a moment later, the file has bytes again, its size and time as before
     * (a copy over the file within one tick of its clock): a change, which the servlet answers 503 before the first
     * byte, not the storage's error.
     */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"HEAP", "DIRECT"})
    void aFileThatEndedEarlyForOneReadOnlyWasRewrittenInPlace(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        Path path = dir.resolve("a.bin");
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FailingChannel channel = FailingChannel.endingOnceAt(open("a.bin"), 3 * CHUNK + 7);
        Throwable cause = failureOfWholeCheckedDownload(engine, channel, path, data.length);
        assertInstanceOf(FileChangedException.class, cause, cause.toString());
        assertTrue(cause.getMessage().contains("at byte " + (3 * CHUNK + 7)), cause.getMessage());
        byte[] sent = out.sent();
        assertArrayEquals(Arrays.copyOf(data, sent.length), sent);
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * A mapped body's last byte is read from the file (not through the mapping) before its last chunk is written:
     * when that read fails, the transfer fails with the read's error, and the chunk is never written.
     */
    @Test
    void aFailedReadOfAMappedBodysLastByteFailsTheTransfer() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK); // one mapped chunk: shorter than the chunk sizer's floor
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FailingChannel channel = new FailingChannel(open("a.bin"), data.length - 1);
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();

        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertEquals("Input/output error (injected)", listener.only().cause().getMessage());
        assertEquals(List.of(), out.calls());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /**
     * A mapped body whose last chunk is one byte (a span that ended one byte before the body's end) reads that byte
     * from the file too, after every byte before it was written: when that read fails, the transfer fails.
     */
    @Test
    void aMappedLastChunkOfOneByteIsReadFromTheFile() throws IOException {
        byte[] data = file("a.bin", ChunkSizer.FLOOR + 1);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FailingChannel channel = new FailingChannel(open("a.bin"), data.length - 1);
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();

        assertEquals(List.of("write " + ChunkSizer.FLOOR), out.calls());
        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertEquals("Input/output error (injected)", listener.only().cause().getMessage());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileThatShrinksWhileServedFailsAndIsNeverPadded(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        reads.runNext();
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("a.bin").toFile(), "rw")) {
            file.setLength(4 * CHUNK + 100);
        }
        reads.runAll();

        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertInstanceOf(FileShrankException.class, listener.only().cause());
        byte[] sent = out.sent();
        assertTrue(sent.length <= 4 * CHUNK + 100, "sent bytes past the new end of the file");
        assertArrayEquals(Arrays.copyOf(data, sent.length), sent);
        assertReleased(engine);
    }

    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileDeletedWhileServedIsServedWholeFromTheOpenChannel(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        reads.runNext();
        Files.delete(dir.resolve("a.bin"));
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    /**
     * A file changed in place while it is served (emptied and written again as {@code cp} does, overwritten at the
     * same size, appended to) never ends in a clean body: the reads' next check sees the new modification time or
     * size, and the transfer is cut within one check interval, far short of its length.
     */
    @ParameterizedTest
    @CsvSource({"MAPPED, rewrite", "MAPPED, overwrite", "MAPPED, append", "DIRECT, rewrite", "DIRECT, overwrite",
            "DIRECT, append", "HEAP, rewrite"})
    void aFileChangedInPlaceNeverEndsInACleanBody(BufferKind kind, String change) throws IOException {
        byte[] data = file("a.bin", (int) (3 * Transfer.CHECK_EVERY));
        Path path = dir.resolve("a.bin");
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        startChecked(engine, channel, path, data.length);
        out.start();
        reads.runNext();
        changeInPlace(path, change);
        reads.runAll();

        assertInstanceOf(FileChangedException.class, listener.only().cause());
        assertTrue(out.sent().length <= Transfer.CHECK_EVERY + 4 * CHUNK,
                "cut after " + out.sent().length + " bytes, not within one check interval");
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /**
     * A file overwritten after the reads' last check (here: after every read) is caught by the check before the
     * body's last byte, whatever the buffers: a mapped chunk's bytes are copied only when the container writes
     * them, and pooled bytes read between two checks may already be the new version's.
     */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileOverwrittenAfterItsLastReadFailsBeforeTheLastByte(BufferKind kind) throws IOException {
        overwrittenAfterItsLastRead(kind, false);
    }

    /** The same where the last chunk may go whole: the check comes before that chunk's write instead. */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileOverwrittenAfterItsLastReadFailsBeforeAWholeLastChunk(BufferKind kind) throws IOException {
        overwrittenAfterItsLastRead(kind, true);
    }

    private void overwrittenAfterItsLastRead(BufferKind kind, boolean lastChunkWhole) throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK);
        Path path = dir.resolve("a.bin");
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        TransferRequest request = TransferRequest.of(out, channel, whole(data.length), listener)
                .withFile(versionOf(path), path);
        engine.start(lastChunkWhole ? request.withLastByteInItsChunk() : request);
        out.start();
        out.setWritable(false);
        reads.runAll();
        assertEquals(0, reads.pending(), "every chunk should be read before the change");
        changeInPlace(path, "overwrite");
        out.setWritable(true);
        reads.runAll();

        assertInstanceOf(FileChangedException.class, listener.only().cause());
        // cut before the last write: of the whole last chunk, or of the last byte after the rest of its chunk
        boolean wholeLastChunk = lastChunkWhole && kind != BufferKind.MAPPED;
        assertEquals(wholeLastChunk ? 2 * CHUNK : 3 * CHUNK - 1, out.sent().length, out.calls().toString());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /** A file replaced by a rename, its path now naming another file, is served whole from the open one. */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void aFileReplacedByARenameIsServedWholeFromTheOpenChannel(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        Path path = dir.resolve("a.bin");
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        startChecked(engine, channel, path, data.length);
        out.start();
        reads.runNext();
        Path next = dir.resolve("a.bin.new");
        Files.write(next, new byte[data.length + 7]);
        Files.move(next, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /** Starts a transfer of the whole of {@code path} that checks the file against its version, as the servlet's do. */
    private void startChecked(TransferEngine engine, FileChannel channel, Path path, long length) throws IOException {
        engine.start(TransferRequest.of(out, channel, whole(length), listener).withFile(versionOf(path), path));
    }

    /**
     * Starts a download of the whole of {@code path} read through {@code channel}, checked against the file's version
     * ({@link #versionOf}), runs it to its end, which must be a failure, and returns why.
     */
    private Throwable failureOfWholeCheckedDownload(TransferEngine engine, FileChannel channel, Path path, long length)
            throws IOException {
        engine.start(TransferRequest.of(out, channel, whole(length), listener).withFile(versionOf(path), path));
        out.start();
        reads.runAll();
        assertEquals(Outcome.FAILED, listener.only().outcome());
        return listener.only().cause();
    }

    /** The file's version as the servlet takes it, with a modification time well in the past. */
    private static FileVersion versionOf(Path path) throws IOException {
        Files.setLastModifiedTime(path, FileTime.fromMillis(1_600_000_000_000L));
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        return new FileVersion(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
    }

    /** Changes the file in place: {@code rewrite} empties and writes it again, as {@code cp} does. */
    private static void changeInPlace(Path path, String change) throws IOException {
        long size = Files.size(path);
        switch (change) {
            case "rewrite" -> Files.write(path, new byte[(int) size]);
            case "overwrite" -> {
                try (FileChannel writer = FileChannel.open(path, StandardOpenOption.WRITE)) {
                    writer.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), size / 2);
                }
            }
            case "append" -> Files.write(path, new byte[] {1}, StandardOpenOption.APPEND);
            default -> throw new IllegalArgumentException(change);
        }
    }

    @Test
    void aFailedWriteAbortsAndRetiresTheBufferTheContainerMayHold() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runNext();
        out.failNextWrite(new IOException("broken pipe"));
        reads.runAll();

        assertEquals(Outcome.ABORTED, listener.only().outcome());
        assertEquals("broken pipe", listener.only().cause().getMessage());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /**
     * A write from a mapping whose file was truncated fails in the kernel ("Bad address"), and the container
     * reports it like a broken connection, by a throwing write or by {@code onError}. The file decides: when it
     * no longer holds the body, the transfer failed, whatever the container said, so neither the counters nor
     * the log blame the client. The race, made deterministic: every chunk is read while the socket is full, the
     * file is cut, and the container's report comes before any read could see the cut.
     */
    @ParameterizedTest
    @CsvSource({"MAPPED, write", "MAPPED, onError", "DIRECT, write", "DIRECT, onError"})
    void aFileThatShrankIsAFailureWhateverTheContainerReports(BufferKind kind, String report) throws IOException {
        // three chunks either way: a mapped chunk is at least the chunk sizer's floor, a pooled one chunkSize
        byte[] data = file("a.bin", 3 * (kind == BufferKind.MAPPED ? ChunkSizer.FLOOR : CHUNK));
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        readEveryChunkWhileTheSocketIsFull(engine, channel, whole(data.length));
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("a.bin").toFile(), "rw")) {
            file.setLength(data.length - 10);
        }
        IOException badAddress = new IOException("Bad address");
        if (report.equals("write")) {
            out.failNextWrite(badAddress);
            out.setWritable(true);
        } else {
            out.error(badAddress);
        }
        reads.runAll();

        // the container's report concerns the first chunk: the body's last one, whose last byte is read from the
        // file before it is written, was never reached
        assertEquals(report.equals("write") ? List.of("write " + data.length / 3) : List.of(), out.calls());
        assertInstanceOf(FileShrankException.class, listener.only().cause());
        assertSame(badAddress, listener.only().cause().getSuppressed()[0]);
        assertEndedCleanly(engine, channel, Outcome.FAILED);
        assertEquals(1, engine.metrics().failed());
        assertEquals(0, engine.metrics().aborted());
    }

    @Test
    void aRequestTheContainerRecycledIsAbortedNotFailed() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runNext();
        out.recycle();
        reads.runAll();

        assertEquals(Outcome.ABORTED, listener.only().outcome());
        assertInstanceOf(IllegalStateException.class, listener.only().cause());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    @Test
    void transfersBeyondTheBudgetWaitForABufferAndThenFinish() throws IOException {
        byte[] data = file("a.bin", 8 * CHUNK + 7);
        EngineSettings oneBuffer = settings().withMaxBufferMemory(CHUNK);
        TransferEngine engine = engine(oneBuffer, reads);
        FakeOutputStream out2 = new FakeOutputStream();
        RecordingListener listener2 = new RecordingListener();
        Transfer first = start(engine, out, open("a.bin"), whole(data.length), listener);
        Transfer second = start(engine, out2, open("a.bin"), whole(data.length), listener2);
        out.start();
        out2.start();
        assertEquals(Transfer.State.WAITING_FOR_READ, first.state());
        assertEquals(Transfer.State.WAITING_FOR_BUFFER, second.state());
        assertEquals(1, engine.metrics().bufferWaits());

        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertArrayEquals(data, out2.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(Outcome.COMPLETED, listener2.only().outcome());
        assertEquals(CHUNK, engine.metrics().bufferBytesHighWater());
        assertReleased(engine);
    }

    /**
     * A buffer counted for a waiting transfer that the JVM cannot allocate (its direct-memory limit is below
     * {@code maxBufferMemory}): the transfer fails and gives everything back, instead of waiting for a grant
     * that already happened.
     */
    @Test
    void aTransferWhoseBufferCannotBeMadeFailsInsteadOfWaitingForEver() throws IOException {
        byte[] data = file("a.bin", 4 * CHUNK);
        java.util.concurrent.atomic.AtomicBoolean allocationsFail = new java.util.concurrent.atomic.AtomicBoolean();
        BufferPool pool = new BufferPool(CHUNK, CHUNK, true, size -> {
            if (allocationsFail.get()) {
                throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
            }
            return java.nio.ByteBuffer.allocateDirect(size);
        });
        TransferEngine engine = new TransferEngine(settings().withMaxBufferMemory(CHUNK), reads, clock::get, true,
                timers, pool);
        FakeOutputStream out2 = new FakeOutputStream();
        RecordingListener listener2 = new RecordingListener();
        FileChannel firstChannel = open("a.bin");
        FileChannel secondChannel = open("a.bin");
        start(engine, out, firstChannel, whole(data.length), listener);
        Transfer second = start(engine, out2, secondChannel, whole(data.length), listener2);
        out.start();
        out2.start();
        assertEquals(Transfer.State.WAITING_FOR_BUFFER, second.state());
        allocationsFail.set(true);
        out.fillOnNextWrite();
        reads.runAll(); // the first writes its chunk, which the container keeps: retired, not reused, at the abort

        out.error(new IOException("gone"));
        reads.runAll();

        assertEquals(Outcome.ABORTED, listener.only().outcome());
        assertEquals(Outcome.FAILED, listener2.only().outcome());
        assertInstanceOf(OutOfMemoryError.class, listener2.only().cause());
        assertFalse(firstChannel.isOpen());
        assertFalse(secondChannel.isOpen());
        assertReleased(engine);
    }

    /** The read pool could not start a thread for the read ({@link ReadPool#execute} throws an {@code Error}). */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"DIRECT", "MAPPED"})
    void aReadThatCannotBeQueuedFailsTheTransferAndLeaksNothing(BufferKind kind) throws IOException {
        file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind), task -> {
            throw new OutOfMemoryError("unable to create native thread");
        });
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(10 * CHUNK), listener);
        out.start();
        assertInstanceOf(OutOfMemoryError.class, listener.only().cause());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /**
     * A container that never calls back after setWriteListener (neither onWritePossible nor onError): the stall
     * timeout, counted from the start, ends the transfer, which holds a descriptor and a maxTransfers slot.
     */
    @Test
    void aTransferTheContainerNeverCallsBackEndsAsStalled() throws IOException {
        file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = start(engine, out, channel, whole(10 * CHUNK), listener);
        clock.addAndGet(Duration.ofSeconds(29).toNanos());
        engine.checkStalls();
        reads.runAll();
        assertEquals(Transfer.State.STARTING, transfer.state(), "within the stall timeout");

        clock.addAndGet(Duration.ofSeconds(2).toNanos());
        engine.checkStalls();
        reads.runAll();

        assertInstanceOf(StalledException.class, listener.only().cause());
        assertEndedCleanly(engine, channel, Outcome.ABORTED);
        assertEquals(0, out.sent().length);
    }

    @Test
    void aTransferEndedWhileWaitingForABufferGivesUpItsPlace() throws IOException {
        byte[] data = file("a.bin", 4 * CHUNK);
        TransferEngine engine = engine(settings().withMaxBufferMemory(CHUNK), reads);
        FakeOutputStream out2 = new FakeOutputStream();
        RecordingListener listener2 = new RecordingListener();
        start(engine, out, open("a.bin"), whole(data.length), listener);
        FileChannel secondChannel = open("a.bin");
        Transfer second = start(engine, out2, secondChannel, whole(data.length), listener2);
        out.start();
        out2.start();
        assertEquals(Transfer.State.WAITING_FOR_BUFFER, second.state());

        out2.error(new IOException("gone"));
        assertEquals(Outcome.ABORTED, listener2.only().outcome());
        assertFalse(secondChannel.isOpen());

        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(0, out2.sent().length);
        assertReleased(engine);
    }

    /** With {@code MAPPED}, the short region is read into a pool buffer and the long one mapped, in one body. */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void literalSegmentsAreInterleavedWithFileRegionsInOrder(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 5 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads).withMapWindow(2 * CHUNK);
        List<Segment> body = List.of(
                Segment.Literal.of("--head\r\n".getBytes(StandardCharsets.US_ASCII)),
                new Segment.FileRegion(10, 100),
                Segment.Literal.of("\r\n--mid\r\n".getBytes(StandardCharsets.US_ASCII)),
                new Segment.FileRegion(CHUNK - 5, 2 * CHUNK + 11),
                Segment.Literal.of(new byte[0]),
                Segment.Literal.of("\r\n--end--".getBytes(StandardCharsets.US_ASCII)));
        start(engine, out, open("a.bin"), body, listener);
        out.start();
        reads.runAll();

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes("--head\r\n".getBytes(StandardCharsets.US_ASCII));
        expected.write(data, 10, 100);
        expected.writeBytes("\r\n--mid\r\n".getBytes(StandardCharsets.US_ASCII));
        expected.write(data, CHUNK - 5, 2 * CHUNK + 11);
        expected.writeBytes("\r\n--end--".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(expected.toByteArray(), out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    @Test
    void anEmptyBodyCompletesWithoutReading() throws IOException {
        file("empty.bin", 0);
        TransferEngine engine = engine(settings(), reads);
        start(engine, out, open("empty.bin"), whole(0), listener);
        out.start();
        assertEquals(0, reads.pending());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(0, out.sent().length);
    }

    @Test
    void shutdownEndsRunningTransfers() throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        out.setWritable(false);
        reads.runAll();

        engine.close();

        assertEndedCleanly(engine, channel, Outcome.ABORTED);
    }

    /** Whatever {@code bufferKind} says, a Servlet 6.0 container gets {@code byte[]} writes from heap buffers. */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void byteArrayWritesOnServlet60ContainersSendTheSameBytes(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 7 * CHUNK + 1);
        TransferEngine engine = new TransferEngine(settings().withBufferKind(kind), reads, clock::get, false, timers);
        assertEquals("write(byte[]) from heap buffers (Servlet 6.0 API: no write(ByteBuffer))", engine.writeMode());
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertTrue(engine.metrics().bufferBytesHighWater() > 0, "a region longer than a chunk was mapped on 6.0");
        assertReleased(engine);
    }

    @Test
    void theStartUpLogSaysHowChunksReachTheContainer() {
        assertEquals("write(byte[]) from heap buffers (Servlet 6.0 API: no write(ByteBuffer))",
                new TransferEngine(settings(), reads, clock::get, false, timers).writeMode());
        assertEquals("write(ByteBuffer) from direct buffers",
                new TransferEngine(settings().withBufferKind(BufferKind.DIRECT), reads, clock::get, true, timers)
                        .writeMode());
        assertEquals("write(ByteBuffer) from heap buffers",
                new TransferEngine(settings().withBufferKind(BufferKind.HEAP), reads, clock::get, true, timers)
                        .writeMode());
        // mapped: whether a cold span's pieces are asked for at once (the tests open java.nio, as the launcher)
        TransferEngine fixedPool = new TransferEngine(settings().withBufferKind(BufferKind.MAPPED)
                .withReadThreads(4, 4), reads, clock::get, true, timers);
        assertTrue(fixedPool.pageAdvice().available());
        assertEquals("write(ByteBuffer) from mapped files (regions longer than chunkSize, to output streams that"
                + " write them as given: Jetty's on clear text) and direct buffers; pages"
                + " missing from memory are read ahead a span at once", fixedPool.writeMode());
        TransferEngine growingPool = new TransferEngine(settings().withBufferKind(BufferKind.MAPPED)
                .withReadThreads(4, 64), reads, clock::get, true, timers);
        assertTrue(growingPool.pageAdvice().available(), "a pool that may grow asks for a span's pieces at once too");
        assertEquals(fixedPool.writeMode(), growingPool.writeMode());
        assertEquals("write(ByteBuffer) from direct buffers (bufferKind=mapped maps files only for output streams"
                + " that write buffers as given: Jetty's on clear text)", fixedPool.writeMode(false));
        TransferEngine withoutAdvice = new TransferEngine(settings().withBufferKind(BufferKind.MAPPED), reads,
                clock::get, true, timers).withoutPageAdvice();
        assertEquals("write(ByteBuffer) from mapped files (regions longer than chunkSize, to output streams that"
                + " write them as given: Jetty's on clear text) and direct buffers; pages"
                + " missing from memory are read by several read threads (a span at once with"
                + " --add-opens=java.base/java.nio=ALL-UNNAMED)", withoutAdvice.writeMode());
    }

    @Test
    void theReadAheadNeverHoldsMoreThanItsBuffers() throws IOException {
        byte[] data = file("a.bin", 50 * CHUNK);
        TransferEngine engine = engine(settings().withReadAhead(3), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        out.setWritable(false);
        for (int i = 0; i < 10; i++) {
            reads.runAll();
            assertTrue(engine.metrics().bufferBytesInUse() <= 3L * CHUNK, "held more than readAhead buffers");
        }
        assertEquals(3L * CHUNK, engine.metrics().bufferBytesInUse(), "did not read ahead while parked");
        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertReleased(engine);
    }

    /**
     * Mapped chunks are slices of the file's mapping, not pool buffers: they cost the budget nothing, and the
     * read-ahead bounds how many a transfer holds just as it bounds buffers (two while a transfer that has not
     * grown to full chunk size waits for its socket).
     */
    @Test
    void mappedChunksHoldNoPoolBuffersAndNoMoreThanTheReadAhead() throws IOException {
        byte[] data = file("a.bin", 50 * CHUNK);
        java.util.concurrent.atomic.AtomicInteger readsRun = new java.util.concurrent.atomic.AtomicInteger();
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(BufferKind.MAPPED),
                task -> reads.execute(() -> {
                    readsRun.incrementAndGet();
                    task.run();
                })).withMapWindow(7 * CHUNK);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        out.setWritable(false);
        for (int i = 0; i < 10; i++) {
            reads.runAll();
        }
        assertEquals(2, readsRun.get(), "a parked transfer below full chunk size should hold two chunks");
        assertEquals(0, engine.metrics().bufferBytesInUse());
        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(0, engine.metrics().bufferBytesInUse());
        assertEquals(0, engine.metrics().bufferBytesHighWater(), "a region longer than a chunk used pool buffers");
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A request without mapped chunks (for a container that copies writes in user space) is sent from pooled
     * buffers, byte-exact, on an engine that maps files; the same request with them maps the file and takes no
     * buffer.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRequestWithoutMappedChunksIsSentFromPooledBuffers(boolean mappedChunks) throws IOException {
        byte[] data = file("a.bin", 20 * CHUNK + 7);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        TransferRequest request = TransferRequest.of(out, open("a.bin"), whole(data.length), listener)
                .withFile(new FileVersion("a.bin", data.length, FileTime.fromMillis(1L)));
        engine.start(mappedChunks ? request : request.withoutMappedChunks());
        out.start();
        reads.runAll();

        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertEquals(mappedChunks ? 1 : 0, engine.mappedWindows().size());
        assertEquals(mappedChunks, engine.metrics().bufferBytesHighWater() == 0, engine.metrics().toString());
        assertReleased(engine);
    }

    /** Downloads of one file version share its windows; the stall sweep forgets those nobody read for a while. */
    @Test
    void windowsAreSharedByOneFileVersionAndForgottenWhenNobodyReadsThem() throws IOException {
        byte[] data = file("a.bin", 20 * CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FileVersion version = new FileVersion("a.bin", data.length, FileTime.fromMillis(1L));
        for (int i = 0; i < 2; i++) {
            FakeOutputStream stream = new FakeOutputStream();
            RecordingListener ended = new RecordingListener();
            engine.start(TransferRequest.of(stream, open("a.bin"), whole(data.length), ended).withFile(version));
            stream.start();
            reads.runAll();
            assertArrayEquals(data, stream.sent());
            assertEquals(Outcome.COMPLETED, ended.only().outcome());
            assertEquals(1, engine.mappedWindows().size(), "download " + i);
        }
        clock.addAndGet(TransferEngine.WINDOW_IDLE.toNanos() - 1);
        engine.checkStalls();
        assertEquals(1, engine.mappedWindows().size(), "forgot a window before its idle time");
        clock.addAndGet(1);
        engine.checkStalls();
        assertEquals(0, engine.mappedWindows().size());
        assertReleased(engine);
    }

    @Test
    void aRegionNoLongerThanAChunkIsReadIntoAPoolBufferEvenWhenMapped() throws IOException {
        byte[] data = file("a.bin", CHUNK);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(CHUNK, engine.metrics().bufferBytesHighWater());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A mapped chunk's bytes are copied when the container writes them, so a file cut short after its last read
     * would put zeros into the body. Cut before the body's last chunk is written: the body's last byte, read from
     * the file before that write, is no longer there, and the transfer fails short of its length.
     */
    @Test
    void aMappedFileCutAfterItsLastReadFailsBeforeTheBodyCompletes() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK);
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        readEveryChunkWhileTheSocketIsFull(engine, channel, whole(data.length));
        cutTheFileByTenBytesAndDrain();

        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertInstanceOf(FileShrankException.class, listener.only().cause());
        assertTrue(out.sent().length < data.length, "a body with bytes the file no longer has was completed");
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /**
     * Cut while the container still holds the body's last chunk (all but its last byte), after that byte was read:
     * the container copies zeros for the cut bytes, and the check before the last byte's write (the file's size,
     * with no version check here) fails the transfer instead of completing a body with them.
     */
    @Test
    void aMappedFileCutWhileTheLastChunkIsInTheContainerFailsBeforeTheLastByte() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK); // one mapped chunk: shorter than the chunk sizer's floor
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        readEveryChunkWhileTheSocketIsFull(engine, channel, whole(data.length));
        out.fillOnNextWrite();
        out.setWritable(true);
        assertEquals(List.of("write " + (data.length - 1)), out.calls());
        cutTheFileByTenBytesAndDrain();

        assertEquals(List.of("write " + (data.length - 1), "flush"), out.calls());
        assertEquals(data.length - 1, out.sent().length);
        assertEquals(Outcome.FAILED, listener.only().outcome());
        assertInstanceOf(FileShrankException.class, listener.only().cause());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    /** Starts a transfer of {@code body} whose socket is full at once, and completes every read it asks for. */
    private void readEveryChunkWhileTheSocketIsFull(TransferEngine engine, FileChannel channel, List<Segment> body) {
        start(engine, out, channel, body, listener);
        out.start();
        out.setWritable(false);
        reads.runAll();
        assertEquals(0, reads.pending(), "every chunk should be read before the cut");
    }

    /** Cuts a.bin from three chunks to ten bytes less, then lets the socket drain and the reads complete. */
    private void cutTheFileByTenBytesAndDrain() throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("a.bin").toFile(), "rw")) {
            file.setLength(3 * CHUNK - 10);
        }
        out.setWritable(true);
        reads.runAll();
    }

    /**
     * The size check before the body's last write can fail the transfer with a pooled chunk in hand: a mapped
     * region followed by a one-byte region (read into a pool buffer, and not split, being one byte). That buffer
     * goes back to the pool like any other.
     */
    @Test
    void aFinalSizeCheckThatFailsReturnsTheLastChunksBuffer() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK);
        TransferEngine engine = engine(settings().withReadAhead(3).withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        readEveryChunkWhileTheSocketIsFull(engine, channel,
                List.of(new Segment.FileRegion(0, data.length), new Segment.FileRegion(0, 1)));
        assertTrue(engine.metrics().bufferBytesInUse() > 0, "the one-byte region should hold a pool buffer");
        cutTheFileByTenBytesAndDrain();

        assertInstanceOf(FileShrankException.class, listener.only().cause());
        assertEndedCleanly(engine, channel, Outcome.FAILED);
    }

    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void everyBufferKindSendsTheSameBytes(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 50 * CHUNK + 99);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, List.of(new Segment.FileRegion(7, data.length - 7),
                Segment.Literal.of(new byte[] {1, 2, 3})), listener);
        out.start();
        while (!listener.ended()) {
            out.fillOnNextWrite();
            reads.runAll();
            out.setWritable(true);
        }
        byte[] expected = Arrays.copyOf(Arrays.copyOfRange(data, 7, data.length), data.length - 7 + 3);
        expected[expected.length - 3] = 1;
        expected[expected.length - 2] = 2;
        expected[expected.length - 1] = 3;
        assertArrayEquals(expected, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * The body ends with its last byte written alone, after the rest was flushed and {@code isReady()} said the
     * flush is done: the write that reaches the Content-Length makes Tomcat's HTTP/2 stream end with a blocking
     * flush, which throws when a non-blocking wait for flow-control window is still registered.
     */
    @Test
    void theLastByteGoesAloneAfterTheRestIsFlushed() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK - 10);
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();
        assertTrue(listener.ended());
        assertArrayEquals(data, out.sent());
        assertEquals(List.of("write " + CHUNK, "write " + CHUNK, "write " + (CHUNK - 11), "flush", "write 1"),
                out.calls());
        assertEquals(0, out.protocolViolations());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * For a container that ends a response without blocking (Jetty), the sender asks for the last chunk whole: one
     * write, no flush, and no one-byte write after it. The bytes are the file's, and the transfer completes.
     */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"DIRECT", "HEAP"})
    void aContainerThatEndsWithoutBlockingGetsTheLastChunkWhole(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK - 10);
        TransferEngine engine = engine(settings().withBufferKind(kind), reads);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener).withLastByteInItsChunk());
        out.start();
        reads.runAll();
        assertTrue(listener.ended());
        assertArrayEquals(data, out.sent());
        assertEquals(List.of("write " + CHUNK, "write " + CHUNK, "write " + (CHUNK - 10)), out.calls());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /** A literal body (a small file a cache holds) goes in one write when its container allows the last chunk whole. */
    @Test
    void aSmallLiteralBodyGoesInOneWriteWhenTheLastChunkMayGoWhole() {
        byte[] data = new byte[4096];
        new Random(3).nextBytes(data);
        TransferEngine engine = engine(settings(), reads);
        engine.start(TransferRequest.of(out, null, List.of(Segment.Literal.of(data)), listener)
                .withLastByteInItsChunk());
        out.start();
        assertArrayEquals(data, out.sent());
        assertEquals(List.of("write 4096"), out.calls());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertReleased(engine);
    }

    /**
     * A mapped body ends with its last byte alone after a flush even where the last chunk might go whole: the
     * file's check before that byte must come after the container has sent the mapped bytes before it.
     */
    @Test
    void aMappedBodyKeepsItsLastByteAloneWhereTheLastChunkMightGoWhole() throws IOException {
        byte[] data = file("a.bin", 3 * CHUNK - 10);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener).withLastByteInItsChunk());
        out.start();
        reads.runAll();
        assertArrayEquals(data, out.sent());
        List<String> calls = out.calls();
        assertTrue(calls.size() >= 2, calls.toString());
        assertEquals(List.of("flush", "write 1"), calls.subList(calls.size() - 2, calls.size()), calls.toString());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A body whose last chunk is literal (a multipart body's closing boundary) goes whole after mapped regions: the
     * container has sent every mapped chunk before it, each write following an {@code isReady()} that said so.
     */
    @Test
    void aLiteralAfterMappedRegionsEndsTheBodyWhole() throws IOException {
        byte[] data = file("a.bin", 4 * CHUNK);
        byte[] trailer = "--end--\r\n".getBytes(StandardCharsets.US_ASCII);
        TransferEngine engine = engine(settings().withBufferKind(BufferKind.MAPPED), reads);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, List.of(new Segment.FileRegion(0, data.length),
                Segment.Literal.of(trailer)), listener).withLastByteInItsChunk());
        out.start();
        reads.runAll();
        byte[] expected = Arrays.copyOf(data, data.length + trailer.length);
        System.arraycopy(trailer, 0, expected, data.length, trailer.length);
        assertArrayEquals(expected, out.sent());
        List<String> calls = out.calls();
        assertEquals("write " + trailer.length, calls.get(calls.size() - 1), calls.toString());
        assertFalse(calls.contains("flush"), calls.toString());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * The first chunk goes at once, with the head (a client must see the server answer); each later one once the
     * bytes after the first are worth their time.
     */
    @Test
    void aSpeedLimitSendsTheFirstChunkAtOnceAndSpacesTheOthersByTheirWorthInTime() throws IOException {
        byte[] data = file("a.bin", 16 * CHUNK);
        long rate = 4L * CHUNK; // four chunks a second: the body after its first chunk is worth 3.75 s
        TransferEngine engine = engine(settings().withLimitRate(rate, 0), reads);
        Transfer transfer = start(engine, out, open("a.bin"), whole(data.length), listener);
        long start = clock.get();
        out.start();
        reads.runAll();
        assertEquals(Transfer.State.WAITING_FOR_THROTTLE, transfer.state());
        assertEquals(1, out.writes(), "the first chunk waited, and the head with it");
        assertEquals(CHUNK, out.sent().length);
        List<Long> sentAt = new java.util.ArrayList<>();
        sentAt.add(0L);
        while (!listener.ended()) {
            int writes = out.writes();
            assertTrue(timers.fireNext() || reads.runNext(), "stuck: " + transfer.state());
            reads.runAll();
            if (out.writes() > writes) {
                sentAt.add(clock.get() - start);
            }
        }
        assertArrayEquals(data, out.sent());
        assertEquals(16, sentAt.size());
        for (int i = 0; i < 16; i++) {
            assertEquals(i * 250_000_000L, sentAt.get(i), 1_000, "chunk " + i);
        }
        assertEquals(17, out.writes(), "the last byte goes alone, with no wait of its own");
        assertEquals(Duration.ofMillis(3750).toNanos(), clock.get() - start, 1_000, "4 chunks/s after the first");
        assertReleased(engine);
    }

    /**
     * Under a low limit a chunk is a quarter of a second's worth (at least 1 KiB), not the 16 KiB floor: at 2 KiB/s
     * the bytes come every half second, where 16 KiB chunks came eight seconds apart.
     */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"DIRECT", "MAPPED"})
    void aLowSpeedLimitSendsSmallChunksOftenRatherThanBigOnesSeldom(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 300 * 1024);
        TransferEngine engine = engine(adaptive().withBufferKind(kind).withLimitRate(2048, 0), reads);
        FileChannel channel = open("a.bin");
        int length = kind == BufferKind.MAPPED ? data.length : 8 * 1024; // mapped: a region longer than chunkSize
        engine.start(TransferRequest.of(out, channel, List.of(new Segment.FileRegion(0, length)), listener));
        long start = clock.get();
        out.start();
        reads.runAll();
        List<Long> sentAt = new java.util.ArrayList<>(List.of(0L));
        while (!listener.ended()) {
            int writes = out.writes();
            assertTrue(timers.fireNext() || reads.runNext(), "stuck");
            reads.runAll();
            if (out.writes() > writes) {
                sentAt.add(clock.get() - start);
            }
        }
        assertArrayEquals(Arrays.copyOf(data, length), out.sent());
        assertTrue(largestWrite(out) <= Transfer.LIMITED_FLOOR, "largest write " + largestWrite(out));
        for (int i = 1; i < sentAt.size(); i++) {
            assertTrue(sentAt.get(i) - sentAt.get(i - 1) <= 500_000_000L + 1_000, "gap before write " + i + ": "
                    + sentAt);
        }
        assertEquals((length - 1024) * 1_000_000_000L / 2048, clock.get() - start, 1_000,
                "after the first KiB, 2 KiB/s");
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /** With {@code MAPPED}, the full-speed bytes end inside a span: the chunks cut from it end there too. */
    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"DIRECT", "MAPPED"})
    void limitRateAfterHoldsToTheByte(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 10 * CHUNK);
        long free = 3L * CHUNK + 100;
        TransferEngine engine = engine(settings().withBufferKind(kind).withLimitRate(CHUNK, free), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        reads.runAll();

        assertFalse(out.hasPendingWrite());
        assertEquals(free, out.sent().length, "bytes sent at full speed");
        assertEquals(1, timers.pending(), "no timer set for the limited rest");
        while (!listener.ended()) {
            assertTrue(timers.fireNext() || reads.runNext());
            reads.runAll();
        }
        assertArrayEquals(data, out.sent());
        long limited = data.length - free;
        assertEquals(limited * 1_000_000_000L / CHUNK, clock.get() - 1_000_000_000L, 1_000);
    }

    @Test
    void aThrottledTransferAbortedWhileItsTimerIsSetEndsOnceAndReleasesEverything() throws IOException {
        byte[] data = file("a.bin", 8 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRate(CHUNK, 0), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        reads.runAll();
        assertEquals(1, timers.pending());

        out.error(new IOException("gone"));
        timers.fireNext();
        reads.runAll();

        assertEndedCleanly(engine, channel, Outcome.ABORTED);
    }

    @Test
    void pastMaxTransfersNothingStartsUntilOneEnds() throws IOException {
        byte[] data = file("a.bin", 4 * CHUNK);
        TransferEngine engine = engine(settings().withMaxTransfers(1), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        FakeOutputStream refusedOut = new FakeOutputStream();
        FileChannel refusedChannel = open("a.bin");

        assertNull(start(engine, refusedOut, refusedChannel, whole(data.length), new RecordingListener()));
        assertEquals(1, engine.metrics().activeTransfers());
        assertTrue(refusedChannel.isOpen(), "a refused start must leave the channel to its caller");
        refusedChannel.close();

        out.start();
        reads.runAll();
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        FakeOutputStream nextOut = new FakeOutputStream();
        RecordingListener next = new RecordingListener();
        assertTrue(start(engine, nextOut, open("a.bin"), whole(data.length), next) != null);
        nextOut.start();
        reads.runAll();
        assertArrayEquals(data, nextOut.sent());
        assertReleased(engine);
    }

    /** The engine's own read threads, where reads chain on the thread that asked for them. */
    @ParameterizedTest
    @EnumSource(BufferKind.class)
    void theEnginesOwnReadThreadsDeliverExactBytes(BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 300 * CHUNK + 5);
        try (TransferEngine engine = new TransferEngine(settings().withBufferKind(kind))) {
            List<FakeOutputStream> outs = new java.util.ArrayList<>();
            List<RecordingListener> ends = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                FakeOutputStream stream = new FakeOutputStream();
                RecordingListener ended = new RecordingListener();
                start(engine, stream, open("a.bin"), whole(data.length), ended);
                outs.add(stream);
                ends.add(ended);
            }
            outs.forEach(FakeOutputStream::start);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ends.stream().anyMatch(e -> !e.ended())) {
                assertTrue(System.nanoTime() < deadline, "transfers did not end: " + engine.metrics());
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(Outcome.COMPLETED, ends.get(i).only().outcome());
                assertArrayEquals(data, outs.get(i).sent());
                assertEquals(0, outs.get(i).protocolViolations());
            }
            assertReleased(engine);
        }
    }

    /**
     * 1,800 seeded random interleavings (300 per case) of the events a container and a read pool can produce, each
     * checked for exact bytes, one end, and every buffer back.
     */
    @ParameterizedTest
    @CsvSource({"1, DIRECT", "2, DIRECT", "3, DIRECT", "2, HEAP", "1, MAPPED", "2, MAPPED"})
    void randomInterleavingsAlwaysDeliverExactBytes(int readAhead, BufferKind kind) throws IOException {
        byte[] data = file("a.bin", 37 * CHUNK + 1234);
        Random random = new Random(42 + readAhead + kind.ordinal());
        for (int round = 0; round < 300; round++) {
            ManualExecutor executor = new ManualExecutor();
            FakeOutputStream stream = new FakeOutputStream();
            RecordingListener ends = new RecordingListener();
            TransferEngine engine = engine(settings().withReadAhead(readAhead).withMaxBufferMemory(4L * CHUNK)
                    .withBufferKind(kind), executor).withMapWindow(5 * CHUNK + 512); // mapped: crosses windows
            long start = random.nextInt(data.length);
            long length = random.nextInt((int) (data.length - start) + 1);
            start(engine, stream, open("a.bin"), List.of(new Segment.FileRegion(start, length)), ends);
            stream.start();
            int steps = 0;
            while (!ends.ended()) {
                switch (random.nextInt(3)) {
                    case 0 -> executor.runNext();
                    case 1 -> stream.setWritable(false);
                    default -> stream.setWritable(true);
                }
                if (++steps > 100_000) {
                    throw new AssertionError("no progress in round " + round + ": " + engine.metrics()
                            + " pending reads " + executor.pending() + " sent " + stream.sent().length);
                }
            }
            executor.runAll();
            assertArrayEquals(Arrays.copyOfRange(data, (int) start, (int) (start + length)), stream.sent(),
                    "round " + round);
            assertEquals(Outcome.COMPLETED, ends.only().outcome());
            assertEquals(0, stream.protocolViolations());
            assertReleased(engine);
        }
    }

    // ---------------------------------------------------------------- chunk sizes that follow the client

    private static final int BIG_CHUNK = 256 * 1024;

    private static EngineSettings adaptive() {
        return EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withMaxBufferMemory(64L * BIG_CHUNK).withStallTimeout(Duration.ofHours(1));
    }

    @Test
    void aSocketThatIsNeverReadyAfterTheFirstWriteHoldsOnlyFloorSizeBuffers() throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive(), reads);
        FileChannel channel = open("a.bin");
        Transfer transfer = start(engine, out, channel, whole(data.length), listener);
        out.start();
        out.fillOnNextWrite();
        for (int i = 0; i < 10; i++) {
            reads.runAll();
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            engine.checkStalls();
        }
        assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        assertEquals(1, out.writes());
        assertEquals(ChunkSizer.FLOOR, engine.metrics().bufferBytesInUse(),
                "a parked slow client holds one floor-size chunk in the container (the one read ahead went back)");
        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    @Test
    void aFastTransferGrowsToChunkSizeAndAClientThatSlowsDownShrinksToTheFloor() throws IOException {
        byte[] data = file("a.bin", 64 * BIG_CHUNK + 77);
        TransferEngine engine = engine(adaptive(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        while (engine.metrics().bufferBytesHighWater() < 2L * BIG_CHUNK) {
            clock.addAndGet(1_000_000); // a read per millisecond: megabytes per second drained
            assertTrue(reads.runNext(), "ran out of file before reaching full chunks");
        }
        int fastWrites = out.writes();
        for (int cycle = 0; cycle < 6; cycle++) { // now one chunk per second: a slow client
            out.fillOnNextWrite();
            reads.runAll();
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            out.setWritable(true);
        }
        out.fillOnNextWrite();
        reads.runAll();
        assertTrue(engine.metrics().bufferBytesInUse() <= 2L * ChunkSizer.FLOOR,
                "a slowed-down client still holds " + engine.metrics().bufferBytesInUse());
        assertTrue(out.writes() > fastWrites);
        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
        assertEquals(0, out.protocolViolations());
    }

    /**
     * Storage that takes 20 ms per read and a client that takes every chunk at once: the time goes to the reads,
     * not the socket, so the chunks grow to full size once 4 MiB proved the client (counted by the clock alone,
     * 16 KiB per 20 ms held them at the floor), and the client earns full size for its next download.
     */
    @Test
    void waitingForSlowStorageDoesNotMakeAFastClientLookSlow() throws IOException {
        byte[] data = file("a.bin", 48 * BIG_CHUNK + 3);
        TransferEngine engine = engine(adaptive(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        while (!listener.ended()) {
            clock.addAndGet(20_000_000);
            assertTrue(reads.runNext(), "no read left: " + engine.metrics());
        }
        assertEquals(BIG_CHUNK, largestWrite(out));
        assertArrayEquals(data, out.sent());
        assertEquals(BIG_CHUNK, listener.summaries.get(0).earnedChunk());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A fast client proven on its connection (4 MiB chunks), on a file in memory and on one whose spans the storage
     * must bring in, with read threads free and with all of them busy. While every read thread is busy, a span that
     * may come from the storage (the first: nothing says yet that the file is in memory; and every one after a span
     * brought in) is held small, so that one download does not hold a thread for a 4 MiB span of slow reads while
     * others wait: {@code chunkSize} for the first, and {@link TransferEngine#STORAGE_SPAN} after one brought in,
     * where the engine asks for a span's pieces at once (so the thread's one wait brings four pieces; a pool that
     * may grow too), else {@code chunkSize} again (without page advice: a JVM that does not open {@code java.nio}).
     * A span after one found in memory, or with a thread free, is the chunk: 4 MiB, so that a lone fast download
     * keeps a large span's reads in flight. Chunks never outgrow their span.
     */
    @ParameterizedTest
    @CsvSource({"false, false, true, false, 4194304, 4194304", "true, false, true, false, 4194304, 4194304",
            "false, true, true, false, 262144, 4194304", "true, true, true, false, 262144, 524288",
            "true, true, true, true, 262144, 524288", "true, true, false, true, 262144, 262144"})
    void whileEveryReadThreadIsBusyASpanFromTheStorageIsHeldSmall(boolean fromStorage, boolean threadsBusy,
            boolean advice, boolean poolMayGrow, int firstSpan, int laterSpans) throws IOException {
        byte[] data = file("a.bin", 20 * 1024 * 1024);
        ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        EngineSettings settings = adaptive().withBufferKind(BufferKind.MAPPED);
        TransferEngine engine = engine(poolMayGrow ? settings.withReadThreads(4, 64) : settings, tasks::add);
        if (!advice) {
            engine.withoutPageAdvice();
        }
        assertEquals(advice, engine.pageAdvice().available(), "the tests open java.nio");
        engine.readThreadsBusyWhen(() -> threadsBusy);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener).withStartChunk(4 << 20));
        out.start();
        List<Integer> spans = runMappedReads(tasks, fromStorage);
        assertArrayEquals(data, out.sent());
        assertEquals(firstSpan, spans.get(0), "the first span");
        assertEquals(laterSpans, spans.get(1), "the span after one " + (fromStorage ? "brought in" : "in memory"));
        assertEquals(laterSpans, spans.stream().skip(1).mapToInt(Integer::intValue).max().orElse(0));
        assertEquals(laterSpans, largestWrite(out), "chunks as large as their spans allow");
        assertEquals(firstSpan, Integer.parseInt(out.calls().get(0).substring("write ".length())), "the first chunk");
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A slow client's chunks stay small, but its spans from the storage are {@link TransferEngine#STORAGE_SPAN}
     * after the first, threads busy or not: the span's pieces are asked for at once, so a thread waits for the
     * storage once per span, and four pieces a wait bring twice the bytes of two. From memory its spans stay
     * {@code chunkSize}, and so does its first span (its client waits for all of it before the first byte).
     */
    @ParameterizedTest
    @CsvSource({"true, false, 524288", "true, true, 524288", "false, false, 262144", "false, true, 262144"})
    void aSlowClientsSpansFromTheStorageAreFourPieces(boolean fromStorage, boolean threadsBusy, int laterSpans)
            throws IOException {
        byte[] data = file("a.bin", 6 * 1024 * 1024 + 5);
        ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED), tasks::add);
        engine.readThreadsBusyWhen(() -> threadsBusy);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener));
        out.start();
        List<Integer> spans = runMappedReads(tasks, fromStorage);
        assertArrayEquals(data, out.sent());
        assertEquals(BIG_CHUNK, spans.get(0), "the first span");
        assertEquals(laterSpans, spans.get(1), "the span after one " + (fromStorage ? "brought in" : "in memory"));
        assertEquals(laterSpans, spans.stream().skip(1).limit(spans.size() - 2).mapToInt(Integer::intValue).min()
                .orElse(0), "every span but the first and the file's last");
        assertTrue(largestWrite(out) < BIG_CHUNK, "a slow client's chunks stay small: " + largestWrite(out));
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * Runs the engine's tasks until none is left and returns the length of each mapped read. With
     * {@code fromStorage}, a mapped read reports what {@link MappedChunkRead} reports once it brought in pages not
     * in memory, instead of running.
     */
    private static List<Integer> runMappedReads(ArrayDeque<Runnable> tasks, boolean fromStorage) throws IOException {
        List<Integer> spans = new ArrayList<>();
        for (Runnable task; (task = tasks.poll()) != null; ) {
            if (task instanceof MappedChunkRead read) {
                spans.add(read.length());
                if (fromStorage) {
                    read.transfer().spanMapped(read.windows().slice(read.position(), read.length()), read.position(),
                            true);
                    continue;
                }
            }
            task.run();
        }
        return spans;
    }

    /**
     * A mapped chunk holds no buffer, so a fast transfer that maps its file grows its chunks past
     * {@code chunkSize} to {@link TransferEngine#MAPPED_CHUNK}; under a speed limit it keeps {@code chunkSize},
     * which keeps the limit's bursts as short as with buffers.
     */
    @ParameterizedTest
    @CsvSource({"0, 4194304", "1073741824, 262144"})
    void aFastMappedTransferGrowsPastChunkSizeUnlessASpeedLimitHoldsIt(long limitRate, int largestChunk)
            throws IOException {
        byte[] data = file("a.bin", 40 * 1024 * 1024);
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED).withLimitRate(limitRate, 0),
                reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        while (!listener.ended()) {
            clock.addAndGet(5_000_000); // a chunk per 5 ms: a fast client, whatever the chunk size
            assertTrue(reads.runNext() || timers.fireNext(), "no read and no timer left: " + engine.metrics());
        }
        assertEquals(largestChunk, largestWrite(out));
        assertArrayEquals(data, out.sent());
        assertEquals(0, engine.metrics().bufferBytesHighWater());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A slow client's mapped chunks are floor-size, but a read makes a whole span of {@code chunkSize} bytes
     * resident (never across a window's end), and the chunks in it are cut from it with no read: here 64 chunks
     * of a 1 MiB file take 4 reads, or 5 when a window ends inside the second span.
     */
    @ParameterizedTest
    @CsvSource({"67108864, 4", "393216, 5"})
    void aSlowMappedTransferCutsSeveralChunksFromEachRead(long mapWindow, int expectedReads) throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        java.util.concurrent.atomic.AtomicInteger readsRun = new java.util.concurrent.atomic.AtomicInteger();
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED),
                task -> reads.execute(() -> {
                    readsRun.incrementAndGet();
                    task.run();
                })).withMapWindow(mapWindow);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        while (!listener.ended()) { // one chunk a second, each filling the socket: a slow client
            out.fillOnNextWrite();
            reads.runAll();
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            out.setWritable(true);
        }
        assertArrayEquals(data, out.sent());
        assertEquals(expectedReads, readsRun.get(), "reads for " + out.writes() + " writes");
        assertEquals(expectedReads, engine.metrics().reads());
        assertTrue(out.calls().stream().filter(call -> call.startsWith("write "))
                .allMatch(call -> Integer.parseInt(call.substring("write ".length())) <= ChunkSizer.FLOOR),
                "a slow client's chunks grew: " + out.calls());
        assertEquals(0, engine.metrics().bufferBytesHighWater());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * Multipart ranges may overlap and come in any order: a region's chunks are cut from the last span only when
     * it holds them, whichever region made it resident, and read anew otherwise.
     */
    @Test
    void overlappingRangesInAnyOrderAreCutFromTheRightSpan() throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED), reads);
        long[][] ranges = {{500_000, 300_000}, {200_000, 400_000}, {470_000, 300_000}, {0, 17}, {700_000, 300_000}};
        List<Segment> body = new java.util.ArrayList<>();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (long[] range : ranges) {
            body.add(Segment.Literal.of("--part\r\n".getBytes(StandardCharsets.US_ASCII)));
            body.add(new Segment.FileRegion(range[0], range[1]));
            expected.writeBytes("--part\r\n".getBytes(StandardCharsets.US_ASCII));
            expected.write(data, (int) range[0], (int) range[1]);
        }
        FileChannel channel = open("a.bin");
        start(engine, out, channel, body, listener);
        out.start();
        while (!listener.ended()) {
            out.fillOnNextWrite();
            reads.runAll();
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            out.setWritable(true);
        }
        assertArrayEquals(expected.toByteArray(), out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * A region that lies wholly inside the span an earlier region's read made resident (a client whose connection
     * earned 1 MiB chunks: the first region is one span) is cut at its own end, not at the span's.
     */
    @Test
    void aRegionInsideAnEarlierRegionsSpanEndsWhereTheRegionEnds() throws IOException {
        byte[] data = file("a.bin", 8 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED), reads);
        List<Segment> body = List.of(new Segment.FileRegion(0, 4 * BIG_CHUNK), new Segment.FileRegion(100_000, 300_000));
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(data, 0, 4 * BIG_CHUNK);
        expected.write(data, 100_000, 300_000);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, body, listener).withStartChunk(4 * BIG_CHUNK));
        out.start();
        for (int pass = 0; pass < 1_000 && !listener.ended(); pass++) {
            reads.runAll();
            out.setWritable(true);
        }
        assertArrayEquals(expected.toByteArray(), out.sent());
        assertEquals(1, engine.metrics().reads(), "the second region is cut from the first one's span");
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    /**
     * After a read, the chunks a span holds go to the socket on the thread that says the socket drained (the
     * container's): no read is queued, so the transfer waits for no read thread between them.
     */
    @Test
    void aChunkInAResidentSpanIsWrittenWithoutWaitingForARead() throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive().withBufferKind(BufferKind.MAPPED), reads);
        Transfer transfer = start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        out.fillOnNextWrite();
        reads.runAll();
        assertEquals(1, out.writes());
        for (int chunk = 2; chunk <= BIG_CHUNK / ChunkSizer.FLOOR; chunk++) {
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            out.fillOnNextWrite();
            out.setWritable(true);
            assertEquals(chunk, out.writes(), "chunk " + chunk + " waited for a read");
            assertEquals(Transfer.State.WAITING_FOR_SOCKET, transfer.state());
        }
        out.setWritable(true);
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
    }

    /** A keep-alive connection's earlier download proved its client: the next one starts at full size at once. */
    @Test
    void aTransferStartsAtTheChunkSizeItsClientEarnedBefore() throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK + 5);
        TransferEngine engine = engine(adaptive(), reads);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener).withStartChunk(BIG_CHUNK));
        out.start();
        assertEquals(BIG_CHUNK, engine.metrics().bufferBytesInUse(), "the first read is a full-size chunk");
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertEquals("write " + BIG_CHUNK, out.calls().get(0));
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
        TransferSummary summary = listener.summaries.get(0);
        assertEquals(BIG_CHUNK, summary.startChunk());
        assertEquals(BIG_CHUNK, summary.earnedChunk(), "nothing said otherwise: the next one may start there too");
    }

    /**
     * Under a speed limit the first chunk goes at once (the burst the limit allows): a chunk the client earned
     * is used only while it is worth at most a quarter of a second at the limit.
     */
    @ParameterizedTest
    @CsvSource({"1073741824, 262144", "262144, 16384"})
    void aLimitedTransferStartsAtWhatItsClientEarnedOnlyWhileThatIsAShortBurst(long limitRate, int firstChunk)
            throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive().withLimitRate(limitRate, 0), reads);
        FileChannel channel = open("a.bin");
        engine.start(TransferRequest.of(out, channel, whole(data.length), listener).withStartChunk(BIG_CHUNK));
        out.start();
        reads.runAll();
        assertEquals("write " + firstChunk, out.calls().get(0), "the first chunk, before any timer");
        while (!listener.ended()) {
            assertTrue(timers.fireNext() || reads.runNext(), "stuck");
            reads.runAll();
        }
        assertArrayEquals(data, out.sent());
        assertEquals(firstChunk, listener.summaries.get(0).startChunk());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
    }

    @Test
    void aTransferWithNoHistoryStartsAtTheFloorAndReportsWhatItEarned() throws IOException {
        byte[] data = file("a.bin", 4 * BIG_CHUNK);
        TransferEngine engine = engine(adaptive(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), listener);
        out.start();
        assertEquals(ChunkSizer.FLOOR, engine.metrics().bufferBytesInUse());
        reads.runAll(); // the clock never moves: no window closes, and 1 MiB proves nothing
        assertArrayEquals(data, out.sent());
        assertEndedCleanly(engine, channel, Outcome.COMPLETED);
        assertEquals(ChunkSizer.FLOOR, listener.summaries.get(0).startChunk());
        assertEquals(0, listener.summaries.get(0).earnedChunk());
    }

    /**
     * A client proven fast on its connection that then stops reading: its transfer starts at full size and, at
     * full size, keeps its whole read-ahead while parked. That is the risk of the start hint, and the buffer
     * budget bounds it like every other: the transfer waits for buffers it cannot have, never holds more than
     * {@code maxBufferMemory}, and once the stall timeout ends it, the other client's transfer gets its buffers.
     */
    @Test
    void aClientThatWasFastAndStopsReadingHoldsNoMoreThanTheBudget() throws IOException {
        byte[] data = file("a.bin", 16 * BIG_CHUNK);
        long budget = 3L * BIG_CHUNK;
        TransferEngine engine = engine(adaptive().withReadAhead(4).withMaxBufferMemory(budget)
                .withStallTimeout(Duration.ofSeconds(30)), reads);
        FileChannel stoppedChannel = open("a.bin");
        RecordingListener stoppedEnds = new RecordingListener();
        engine.start(TransferRequest.of(out, stoppedChannel, whole(data.length), stoppedEnds)
                .withStartChunk(BIG_CHUNK));
        out.start();
        out.fillOnNextWrite(); // took the first chunk, then never reads again
        reads.runAll();
        FakeOutputStream other = new FakeOutputStream();
        FileChannel otherChannel = open("a.bin");
        start(engine, other, otherChannel, whole(data.length), listener);
        other.start();
        reads.runAll();
        TransferMetrics m = engine.metrics();
        assertEquals(budget, m.bufferBytesInUse(), "the stopped client holds the whole budget, and no more");
        assertTrue(m.bufferWaits() >= 2, "neither waited for a buffer: " + m);
        assertEquals(0, other.writes(), "the other client got a buffer past the budget");
        clock.addAndGet(Duration.ofSeconds(31).toNanos());
        engine.checkStalls();
        reads.runAll();
        assertEquals(Outcome.ABORTED, stoppedEnds.only().outcome());
        assertArrayEquals(data, other.sent());
        assertEquals(Outcome.COMPLETED, listener.only().outcome());
        assertTrue(engine.metrics().bufferBytesHighWater() <= budget, "over the budget: " + engine.metrics());
        assertFalse(stoppedChannel.isOpen());
        assertFalse(otherChannel.isOpen());
        assertReleased(engine);
    }

    @Test
    void aShortBodyTakesAFloorSizeBufferNotAFullChunk() throws IOException {
        byte[] data = file("a.bin", 4096);
        TransferEngine engine = engine(adaptive(), reads);
        start(engine, out, open("a.bin"), whole(data.length), listener);
        out.start();
        assertEquals(ChunkSizer.FLOOR, engine.metrics().bufferBytesInUse());
        reads.runAll();
        assertArrayEquals(data, out.sent());
        assertReleased(engine);
    }

    /**
     * Seeded random interleavings with a clock that moves by random steps, so chunk sizes rise and fall:
     * every round sends exactly the requested bytes, in order; buffers of every size return; the budget,
     * shared by four transfers, is never passed.
     */
    @Test
    void randomDrainRatesAlwaysDeliverExactBytesWithinTheBudget() throws IOException {
        byte[] data = file("a.bin", 5 * BIG_CHUNK + 999);
        Random random = new Random(2026);
        long budget = 3L * BIG_CHUNK;
        for (int round = 0; round < 60; round++) {
            ManualExecutor executor = new ManualExecutor();
            TransferEngine engine = engine(adaptive().withMaxBufferMemory(budget).withReadAhead(1 + random.nextInt(3)),
                    executor);
            List<FakeOutputStream> streams = new java.util.ArrayList<>();
            List<RecordingListener> ends = new java.util.ArrayList<>();
            List<long[]> ranges = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long start = random.nextInt(data.length);
                long length = random.nextInt((int) (data.length - start) + 1);
                FakeOutputStream stream = new FakeOutputStream();
                RecordingListener ended = new RecordingListener();
                start(engine, stream, open("a.bin"), List.of(new Segment.FileRegion(start, length)), ended);
                streams.add(stream);
                ends.add(ended);
                ranges.add(new long[] {start, length});
                stream.start();
            }
            int steps = 0;
            while (ends.stream().anyMatch(e -> !e.ended())) {
                FakeOutputStream stream = streams.get(random.nextInt(streams.size()));
                switch (random.nextInt(4)) {
                    case 0 -> executor.runNext();
                    case 1 -> stream.setWritable(false);
                    case 2 -> stream.setWritable(true);
                    default -> clock.addAndGet(random.nextInt(3) == 0 ? 500_000_000L : random.nextInt(2_000_000));
                }
                assertTrue(engine.metrics().bufferBytesInUse() <= budget, "over the budget");
                if (++steps > 200_000) {
                    throw new AssertionError("no progress in round " + round + ": " + engine.metrics());
                }
            }
            executor.runAll();
            for (int t = 0; t < 4; t++) {
                long[] range = ranges.get(t);
                assertArrayEquals(Arrays.copyOfRange(data, (int) range[0], (int) (range[0] + range[1])),
                        streams.get(t).sent(), "round " + round + " transfer " + t);
                assertEquals(Outcome.COMPLETED, ends.get(t).only().outcome());
                assertEquals(0, streams.get(t).protocolViolations());
            }
            assertTrue(engine.metrics().bufferBytesHighWater() <= budget);
            assertReleased(engine);
            assertEquals(0, engine.pool().bytesIdle() % ChunkSizer.FLOOR);
        }
    }

    /**
     * The container reports an error while the transfer's owner is inside a write on another thread (Tomcat's
     * {@code onError} for a reset HTTP/2 stream while a read thread writes the next chunk). Once {@code onError}
     * returns, the container may recycle the stream and give it to another request, so {@code onError} waits for
     * the write in progress, the listener's {@code containerEnding} comes inside {@code onError}, and nothing
     * touches the stream after it.
     */
    @Test
    void onErrorWaitsForTheWriteInProgressAndNothingTouchesTheStreamAfterIt() throws Exception {
        file("a.bin", 10 * CHUNK);
        java.util.concurrent.CountDownLatch inWrite = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch letWriteReturn = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean recycled = new java.util.concurrent.atomic.AtomicBoolean();
        List<String> callsAfterRecycle = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        jakarta.servlet.WriteListener[] containerSide = new jakarta.servlet.WriteListener[1];
        jakarta.servlet.ServletOutputStream stream = new jakarta.servlet.ServletOutputStream() {
            private int writes;

            @Override
            public boolean isReady() {
                note("isReady");
                return true;
            }

            @Override
            public void setWriteListener(jakarta.servlet.WriteListener writeListener) {
                containerSide[0] = writeListener;
            }

            @Override
            public void write(int b) {
                note("write");
            }

            @Override
            public void write(java.nio.ByteBuffer buffer) {
                write(new byte[0], 0, 0);
                buffer.position(buffer.limit());
            }

            @Override
            public void write(byte[] b, int off, int len) {
                note("write");
                if (writes++ == 0) {
                    inWrite.countDown();
                    try {
                        letWriteReturn.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void flush() {
                note("flush");
            }

            private void note(String call) {
                if (recycled.get()) {
                    callsAfterRecycle.add(call);
                }
            }
        };
        List<String> told = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        TransferListener ends = new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                told.add("ended " + outcome + (recycled.get() ? " after onError returned" : ""));
            }

            @Override
            public void containerEnding(Throwable cause) {
                told.add("containerEnding on " + Thread.currentThread().getName()
                        + (recycled.get() ? " after onError returned" : ""));
            }
        };
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, stream, channel, whole(10 * CHUNK), ends);
        containerSide[0].onWritePossible(); // asks for the first read and parks
        Thread owner = new Thread(reads::runNext, "read-thread"); // the read completes here and writes its chunk
        owner.start();
        assertTrue(inWrite.await(10, java.util.concurrent.TimeUnit.SECONDS), "the read thread never wrote");

        IOException reset = new IOException("stream reset");
        Thread container = new Thread(() -> {
            containerSide[0].onError(reset);
            recycled.set(true); // what Tomcat does once onError returns
        }, "container-thread");
        container.start();
        dev.sluice.it.Await.untilBlocked(container, "onError, while a write is in progress", Duration.ofSeconds(10));
        letWriteReturn.countDown();
        container.join(10_000);
        owner.join(10_000);
        reads.runAll();

        assertEquals(List.of(), callsAfterRecycle, "calls on the stream after onError returned");
        assertEquals(2, told.size(), told.toString());
        assertTrue(told.contains("containerEnding on container-thread"), told.toString());
        assertTrue(told.stream().anyMatch(t -> t.startsWith("ended ABORTED")), told.toString());
        assertFalse(channel.isOpen());
        assertReleased(engine);
    }

    /** A second onError tells the listener nothing more, and what the listener throws stays in the engine. */
    @Test
    void containerEndingIsToldOnceAndWhatItThrowsDoesNotReachTheContainer() throws IOException {
        byte[] data = file("a.bin", 4 * CHUNK);
        java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
        TransferListener throwing = new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                listener.ended(outcome, bytesWritten, cause);
            }

            @Override
            public void containerEnding(Throwable cause) {
                told.incrementAndGet();
                throw new IllegalStateException("the listener's own bug");
            }
        };
        TransferEngine engine = engine(settings(), reads);
        FileChannel channel = open("a.bin");
        start(engine, out, channel, whole(data.length), throwing);
        out.start();
        out.error(new IOException("reset"));
        out.error(new IOException("reset again"));
        reads.runAll();

        assertEquals(1, told.get());
        assertEndedCleanly(engine, channel, Outcome.ABORTED);
    }
}
