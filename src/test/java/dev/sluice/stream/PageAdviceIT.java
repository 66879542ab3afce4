package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.it.Await;
import dev.sluice.it.SlowFuse;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On slow storage (a FUSE mount, every read 50 ms late), one thread's {@link PageAdvice} puts every piece of a
 * span in flight at once, where loading piece after piece has one in flight: counted by the mount itself. The
 * bytes read through the mapping are the file's. And a whole transfer through an engine gives back every permit
 * of its bound on advised pieces (checked to fail when a load keeps one).
 */
class PageAdviceIT {

    private static final int SPAN = 4 * 1024 * 1024;
    private static final int PIECES = SPAN / PageAdvice.PIECE;

    @TempDir
    Path dir;

    @Test
    void oneThreadHasEveryPieceOfASpanReadAtOnce() throws Throwable {
        assertTrue(PageAdvice.system().available(), "the tests open java.nio: " + PageAdvice.system().unavailable());
        Path source = Files.createDirectories(dir.resolve("source"));
        Path mount = Files.createDirectories(dir.resolve("mount"));
        Path stats = dir.resolve("stats");
        byte[] piecewise = bytes(1);
        byte[] advised = bytes(2);
        Files.write(source.resolve("piecewise.bin"), piecewise);
        Files.write(source.resolve("advised.bin"), advised);
        try (SlowFuse fuse = SlowFuse.mount(source, mount, 50, 0, stats)) {
            try (FileChannel channel = FileChannel.open(mount.resolve("piecewise.bin"))) {
                MappedByteBuffer span = channel.map(FileChannel.MapMode.READ_ONLY, 0, SPAN);
                assertFalse(span.isLoaded(), "a new mount has nothing in memory");
                for (int offset = 0; offset < SPAN; offset += PageAdvice.PIECE) {
                    span.slice(offset, PageAdvice.PIECE).load();
                }
                assertArrayEquals(piecewise, copy(span));
            }
            int withoutAdvice = SlowFuse.mostReadsInFlight(stats);
            assertTrue(withoutAdvice >= 1 && withoutAdvice <= 2, "piece after piece: " + withoutAdvice + " in flight");

            try (FileChannel channel = FileChannel.open(mount.resolve("advised.bin"))) {
                MappedByteBuffer span = channel.map(FileChannel.MapMode.READ_ONLY, 0, SPAN);
                assertFalse(span.isLoaded());
                // an offset and a length that are not whole pages, as a range's span has them
                PageAdvice.system().willNeed(span, 1000, PageAdvice.PIECE - 1000);
                for (int offset = PageAdvice.PIECE; offset < SPAN; offset += PageAdvice.PIECE) {
                    PageAdvice.system().willNeed(span, offset, PageAdvice.PIECE);
                }
                span.load();
                assertTrue(span.isLoaded());
                assertArrayEquals(advised, copy(span));
            }
            int withAdvice = SlowFuse.mostReadsInFlight(stats);
            assertTrue(withAdvice >= PIECES / 2, "advised: at most " + withAdvice + " of " + PIECES + " in flight");
        }
    }

    /**
     * A whole transfer from the mount through an engine with advice (its defaults: the read pool cannot grow): the
     * bytes are the file's, several pieces were in flight at once, and every permit of the engine's bound on
     * pieces in flight is back once it ended.
     */
    @Test
    void aTransferFromSlowStorageReturnsEveryAdvicePermit() throws Throwable {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path mount = Files.createDirectories(dir.resolve("mount"));
        Path stats = dir.resolve("stats");
        byte[] data = writeFiles(source, 3, "whole.bin");
        try (SlowFuse fuse = SlowFuse.mount(source, mount, 5, 0, stats);
                TransferEngine engine = new TransferEngine(EngineSettings.defaults()
                        .withBufferKind(BufferKind.MAPPED))) {
            assumeMappedAndAdvised(engine);
            transferAll(engine, mount.resolve("whole.bin"), data);
            assertTrue(SlowFuse.mostReadsInFlight(stats) >= 3,
                    "advised: at most " + SlowFuse.mostReadsInFlight(stats) + " reads in flight");
            assertEquals(TransferEngine.ADVISED_PIECES, engine.advisedPieces().availablePermits());
        }
    }

    /**
     * A span load keeps at most its share of the advice permits in flight, and keeps that many in flight: with 64
     * loads counted in progress its share is four pieces, and the mount sees three to five reads at once for a
     * 4 MiB span (checked to fail when a load asks for all 32 pieces at once, as it did before). With every permit
     * taken elsewhere a load still reads its span, a piece at a time. The bytes are the file's, every permit comes
     * back, and the count of loads in progress returns to where it was.
     */
    @Test
    void aSpanLoadKeepsItsShareOfThePermitsInFlight() throws Throwable {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path mount = Files.createDirectories(dir.resolve("mount"));
        Path stats = dir.resolve("stats");
        byte[] data = writeFiles(source, 4, "shared.bin", "none.bin");
        try (SlowFuse fuse = SlowFuse.mount(source, mount, 20, 0, stats);
                TransferEngine engine = new TransferEngine(EngineSettings.defaults()
                        .withBufferKind(BufferKind.MAPPED).withChunkSize(SPAN))) {
            assumeMappedAndAdvised(engine);

            int others = TransferEngine.ADVISED_PIECES - 1;
            for (int i = 0; i < others; i++) {
                engine.startSpanLoad();
            }
            transferAll(engine, mount.resolve("shared.bin"), data);
            int inFlight = SlowFuse.mostReadsInFlight(stats);
            assertTrue(inFlight >= 3 && inFlight <= 5, "a share of 4 pieces: " + inFlight + " reads in flight");

            engine.advisedPieces().acquire(TransferEngine.ADVISED_PIECES);
            transferAll(engine, mount.resolve("none.bin"), data);
            engine.advisedPieces().release(TransferEngine.ADVISED_PIECES);

            assertEquals(others + 1, engine.startSpanLoad(), "loads in progress besides the test's own");
            for (int i = 0; i <= others; i++) {
                engine.endSpanLoad();
            }
            assertEquals(TransferEngine.ADVISED_PIECES, engine.advisedPieces().availablePermits());
        }
    }

    /**
     * The engine's gauges while a transfer reads from the mount (5 ms a read), with advice and without
     * ({@link SpanLoad}'s helpers): spans loading from the storage are seen while it runs, read threads are alive,
     * and no span is loading once it ended. Sampled every 0.2 ms; a span's load takes at least one 5 ms read.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theGaugesShowTheSpanLoadsWhileTheyRun(boolean advised) throws Throwable {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path mount = Files.createDirectories(dir.resolve("mount"));
        Path stats = dir.resolve("stats");
        byte[] data = writeFiles(source, 5, "gauged.bin");
        try (SlowFuse fuse = SlowFuse.mount(source, mount, 5, 0, stats);
                TransferEngine engine = new TransferEngine(EngineSettings.defaults()
                        .withBufferKind(BufferKind.MAPPED))) {
            if (advised) {
                assumeMappedAndAdvised(engine);
            } else {
                Assumptions.assumeTrue(engine.writeMode().contains("mapped files"), "nothing mapped on Servlet 6.0");
                engine.withoutPageAdvice();
            }
            AtomicLong mostLoads = new AtomicLong();
            AtomicLong mostThreads = new AtomicLong();
            AtomicBoolean ended = new AtomicBoolean();
            Thread sampler = new Thread(() -> {
                while (!ended.get()) {
                    TransferMetrics now = engine.metrics();
                    mostLoads.accumulateAndGet(now.spanLoads(), Math::max);
                    mostThreads.accumulateAndGet(now.readThreads(), Math::max);
                    LockSupport.parkNanos(200_000);
                }
            }, "gauge-sampler");
            sampler.start();
            try {
                transferAll(engine, mount.resolve("gauged.bin"), data);
            } finally {
                ended.set(true);
                sampler.join();
            }
            assertTrue(mostLoads.get() >= 1, "span loads seen: " + mostLoads.get());
            assertTrue(mostThreads.get() >= 1, "read threads seen: " + mostThreads.get());
            assertEquals(0, engine.metrics().spanLoads(), "no span loading after the transfer");
        }
    }

    /** Writes three spans and a bit of random bytes from {@code seed} under each name in {@code source}. */
    private static byte[] writeFiles(Path source, long seed, String... names) throws IOException {
        byte[] data = new byte[3 * SPAN + 12345];
        new Random(seed).nextBytes(data);
        for (String name : names) {
            Files.write(source.resolve(name), data);
        }
        return data;
    }

    /** Skips where chunks are not mapped (the Servlet 6.0 API), and checks that the engine can advise. */
    private static void assumeMappedAndAdvised(TransferEngine engine) {
        Assumptions.assumeTrue(engine.writeMode().contains("mapped files"),
                "with the Servlet 6.0 API chunks are heap buffers: nothing is mapped, nothing advised");
        assertTrue(engine.pageAdvice().available(), engine.pageAdvice().unavailable());
    }

    /** Sends the whole file through {@code engine} and checks the bytes. */
    private static void transferAll(TransferEngine engine, Path file, byte[] expected) throws Throwable {
        try (FileChannel channel = FileChannel.open(file)) {
            FakeOutputStream out = new FakeOutputStream();
            RecordingListener listener = new RecordingListener();
            engine.start(TransferRequest.of(out, channel, List.of(new Segment.FileRegion(0, expected.length)),
                    listener));
            out.start();
            Await.until("the transfer ended", Duration.ofSeconds(60), listener::ended);
            assertEquals(Outcome.COMPLETED, listener.only().outcome());
            assertArrayEquals(expected, out.sent());
        }
    }

    private static byte[] bytes(long seed) {
        byte[] bytes = new byte[SPAN];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] copy(MappedByteBuffer span) {
        byte[] copy = new byte[span.capacity()];
        span.duplicate().get(copy);
        return copy;
    }
}
