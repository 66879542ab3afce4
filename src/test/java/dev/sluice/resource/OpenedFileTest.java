package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.it.Rewrites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenedFileTest {

    @TempDir
    Path dir;

    @Test
    void sizeAndTimeComeWithTheOpenChannel() throws IOException {
        Path file = Files.write(dir.resolve("a.bin"), new byte[1234]);
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_600_000_000_500L));
        try (OpenedFile opened = OpenedFile.open(file)) {
            assertEquals(1234, opened.size());
            assertEquals(1_600_000_000_500L, opened.lastModifiedMillis());
            assertEquals(1234, opened.channel().size());
        }
    }

    @Test
    void aSymlinkSwappedInForTheFileIsNotFollowed() throws IOException {
        Path outside = Files.writeString(dir.resolve("outside.txt"), "secret");
        Path link = Files.createSymbolicLink(dir.resolve("swapped"), outside);
        assertThrows(IOException.class, () -> OpenedFile.open(link));
    }

    @Test
    void aDirectoryIsNotAFile() {
        assertThrows(NoSuchFileException.class, () -> OpenedFile.open(dir));
    }

    /** Rewritten in place within the millisecond of the open: changed, to the nanosecond (Tomcat's sendfile waits). */
    @Test
    void notUnchangedOnDiskOnceRewrittenWithinTheMillisecondOfTheOpen() throws IOException {
        Path file = Files.write(dir.resolve("g.bin"), new byte[100]);
        for (int tries = 0; tries < 200; tries++) {
            try (OpenedFile opened = OpenedFile.open(file)) {
                org.junit.jupiter.api.Assertions.assertTrue(opened.unchangedOnDisk());
                if (Rewrites.inPlaceWithinTheMillisecondOf(file, opened.lastModified())) {
                    org.junit.jupiter.api.Assertions.assertFalse(opened.unchangedOnDisk());
                    return;
                }
            }
        }
        org.junit.jupiter.api.Assumptions.abort("no rewrite of 200 fell within the millisecond of the open before it");
    }

    @Test
    void unchangedOnDiskUntilTheFileIsReplacedTouchedOrDeleted() throws IOException {
        Path file = dir.resolve("f.bin");
        Files.write(file, new byte[100]);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        try (OpenedFile opened = OpenedFile.open(file)) {
            org.junit.jupiter.api.Assertions.assertTrue(opened.unchangedOnDisk());
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1_700_000_001_000L));
            org.junit.jupiter.api.Assertions.assertFalse(opened.unchangedOnDisk(), "touched");
        }
        try (OpenedFile opened = OpenedFile.open(file)) {
            Path other = dir.resolve("other.bin");
            Files.write(other, new byte[100]);
            Files.setLastModifiedTime(other, Files.getLastModifiedTime(file));
            Files.move(other, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            org.junit.jupiter.api.Assertions.assertFalse(opened.unchangedOnDisk(), "replaced by another inode");
        }
        try (OpenedFile opened = OpenedFile.open(file)) {
            Files.delete(file);
            org.junit.jupiter.api.Assertions.assertFalse(opened.unchangedOnDisk(), "deleted");
        }
    }
}
