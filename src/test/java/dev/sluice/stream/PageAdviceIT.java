package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.it.SlowFuse;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On slow storage (a FUSE mount, every read 50 ms late), one thread's {@link PageAdvice} puts every piece of a
 * span in flight at once, where loading piece after piece has one in flight: counted by the mount itself. The
 * bytes read through the mapping are the file's.
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
