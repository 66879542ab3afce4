package dev.sluice.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Assumptions;

/**
 * Rewrites a file in place (same file, same size) so that its new modification time differs from one seen before
 * by less than a millisecond: a change that only a time kept to the nanosecond tells apart.
 */
public final class Rewrites {

    private Rewrites() {
    }

    /**
     * Flips the file's first byte in place.
     *
     * @return whether the file's new time falls within the millisecond of {@code seen} (else the caller tries
     *         again from a new look); aborts the test where the file system gave the write {@code seen} itself: its
     *         clock is coarser than the writes (before Linux 6.13's multigrain timestamps, or another file system)
     */
    public static boolean inPlaceWithinTheMillisecondOf(Path file, FileTime seen) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer first = ByteBuffer.allocate(1);
            channel.read(first, 0);
            channel.write(ByteBuffer.wrap(new byte[] {(byte) ~first.get(0)}), 0);
            FileTime now = Files.getLastModifiedTime(file);
            Assumptions.assumeFalse(now.equals(seen),
                    "this file system gave a write after a look at the file the time seen before: " + seen);
            return now.toMillis() == seen.toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
