package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.it.Rewrites;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCheckTest {

    @TempDir
    Path dir;

    /**
     * A rewrite in place that keeps the size, within the millisecond of the version's time: a change, where the
     * file system keeps times finer than that (Linux 6.13 and later gives a change after a look at the file a time
     * of its own). Compared to the millisecond, it was not one, and a body could complete spliced from two versions.
     */
    @Test
    void aRewriteOfTheSameSizeWithinTheVersionsMillisecondIsAChange() throws Exception {
        Path file = Files.write(dir.resolve("a.bin"), new byte[64 * 1024]);
        try (FileChannel channel = FileChannel.open(file)) {
            for (int tries = 0; tries < 200; tries++) {
                BasicFileAttributes seen = Files.readAttributes(file, BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                FileVersion version = new FileVersion(seen.fileKey(), seen.size(), seen.lastModifiedTime());
                FileCheck check = new FileCheck(channel, version, file);
                assertNull(check.problem());
                if (Rewrites.inPlaceWithinTheMillisecondOf(file, seen.lastModifiedTime())) {
                    assertInstanceOf(FileChangedException.class, check.problem());
                    return;
                }
            }
        }
        Assumptions.abort("no rewrite of 200 fell within the millisecond of the look before it");
    }
}
