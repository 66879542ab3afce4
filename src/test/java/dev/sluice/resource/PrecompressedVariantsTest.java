package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Variants beside a file an application names: regular files only, never older than the file. */
class PrecompressedVariantsTest {

    @TempDir
    Path dir;

    private Path write(String name, long millis) throws IOException {
        Path file = Files.writeString(dir.resolve(name), name);
        Files.setLastModifiedTime(file, FileTime.fromMillis(millis));
        return file;
    }

    @Test
    void freshRegularVariantsBesideTheFileInTheCodingsOrder() throws IOException {
        Path file = write("a.txt", 1_000_000);
        Path gz = write("a.txt.gz", 1_000_000);
        Path br = write("a.txt.br", 2_000_000);
        assertEquals(List.of(new PrecompressedVariants.Variant("br", br),
                new PrecompressedVariants.Variant("gzip", gz)),
                PrecompressedVariants.beside(file, List.of("br", "gzip", "zstd")));
        assertEquals(List.of(), PrecompressedVariants.beside(file, List.of()));
    }

    @Test
    void staleSymlinkedOrDirectoryVariantsAreNotUsed() throws IOException {
        Path file = write("a.txt", 2_000_000);
        write("a.txt.gz", 1_000_000);
        Path elsewhere = write("other.br", 3_000_000);
        Files.createSymbolicLink(dir.resolve("a.txt.br"), elsewhere);
        Files.createDirectory(dir.resolve("a.txt.zst"));
        assertEquals(List.of(), PrecompressedVariants.beside(file, List.of("br", "gzip", "zstd")));
        assertEquals(List.of(), PrecompressedVariants.beside(dir.resolve("missing.txt"), List.of("gzip")));
    }
}
