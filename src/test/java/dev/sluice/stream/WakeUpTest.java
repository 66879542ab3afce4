package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wake-ups from the engine's shared timer reach a transfer through the engine's executor: the timer only
 * schedules. An engine with its own threads, real time, and two throttled transfers, one of whose writes blocks
 * (as Tomcat's HTTP/2 last-byte flush can): the other's throttle timers must still fire and let it finish.
 */
class WakeUpTest {

    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    /** A container stream that always takes data, copies on write, and can be told to block its writes. */
    private static final class BlockingOutputStream extends ServletOutputStream {
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        final CountDownLatch blocked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final boolean blocks;
        volatile String blockedThread;

        BlockingOutputStream(boolean blocks) {
            this.blocks = blocks;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            Thread container = new Thread(() -> {
                try {
                    listener.onWritePossible();
                } catch (IOException e) {
                    listener.onError(e);
                }
            }, "container");
            container.start();
        }

        @Override
        public synchronized void write(ByteBuffer buffer) throws IOException {
            if (blocks && blocked.getCount() > 0) {
                blockedThread = Thread.currentThread().getName();
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new InterruptedIOException();
                }
            }
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            sent.writeBytes(bytes);
        }

        @Override
        public void write(int b) throws IOException {
            write(ByteBuffer.wrap(new byte[] {(byte) b}));
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            write(ByteBuffer.wrap(b, off, len));
        }

        synchronized byte[] sent() {
            return sent.toByteArray();
        }
    }

    /** Tells a latch when its transfer ends, and how. */
    private static final class Ending implements TransferListener {
        final CountDownLatch ended = new CountDownLatch(1);
        volatile Outcome outcome;

        @Override
        public void ended(Outcome how, long bytesWritten, Throwable cause) {
            outcome = how;
            ended.countDown();
        }
    }

    @Test
    void aTransferWhoseWriteBlocksCannotHoldUpAnotherTransfersTimer() throws Exception {
        byte[] data = new byte[4 * CHUNK];
        new Random(7).nextBytes(data);
        Path file = Files.write(dir.resolve("a.bin"), data);
        // Every chunk of both transfers waits for its throttle timer: 4 KiB at 64 KiB/s is 62.5 ms each.
        EngineSettings settings = EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withChunkSize(CHUNK)
                .withLimitRate(16 * CHUNK, 0);
        try (TransferEngine engine = new TransferEngine(settings)) {
            BlockingOutputStream stuck = new BlockingOutputStream(true);
            Ending stuckEnd = new Ending();
            engine.start(TransferRequest.of(stuck, open(file), List.of(new Segment.FileRegion(0, data.length)),
                    stuckEnd)).orElseThrow();
            assertTrue(stuck.blocked.await(30, TimeUnit.SECONDS), "the first transfer never wrote");
            assertFalse(stuck.blockedThread.startsWith("sluice-timer-"),
                    "a write ran on the engine's timer thread: " + stuck.blockedThread);

            BlockingOutputStream free = new BlockingOutputStream(false);
            Ending freeEnd = new Ending();
            engine.start(TransferRequest.of(free, open(file), List.of(new Segment.FileRegion(0, data.length)),
                    freeEnd)).orElseThrow();
            assertTrue(freeEnd.ended.await(30, TimeUnit.SECONDS),
                    "the second transfer's throttle timers were held up by the first one's blocked write");
            assertEquals(Outcome.COMPLETED, freeEnd.outcome);
            assertArrayEquals(data, free.sent());

            stuck.release.countDown();
            assertTrue(stuckEnd.ended.await(30, TimeUnit.SECONDS));
            assertEquals(Outcome.COMPLETED, stuckEnd.outcome);
            assertArrayEquals(data, stuck.sent());
        }
    }

    private static FileChannel open(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.READ);
    }
}
