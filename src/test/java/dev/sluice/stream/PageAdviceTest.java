package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PageAdvice} on a local file; what it does on slow storage is {@link PageAdviceIT}'s. */
class PageAdviceTest {

    @TempDir
    Path dir;

    @Test
    void isAvailableWhereJavaNioIsOpenAsTheLaunchersManifestOpensIt() {
        assertTrue(PageAdvice.system().available(), String.valueOf(PageAdvice.system().unavailable()));
    }

    @Test
    void advisesAnyPartOfAMappingWhetherOrNotItStartsOrEndsOnAPage() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[3 * 4096 + 100]);
        try (FileChannel channel = FileChannel.open(file)) {
            // mapped from an offset off the page, as a range's window slice may be
            MappedByteBuffer pages = channel.map(FileChannel.MapMode.READ_ONLY, 0, Files.size(file))
                    .slice(777, 3 * 4096 - 777);
            PageAdvice advice = PageAdvice.system();
            // madvise refuses an address that is not on a page: each of these would fail without the widening
            assertDoesNotThrow(() -> advice.willNeed((MappedByteBuffer) pages, 1, 5000));
            assertDoesNotThrow(() -> advice.willNeed((MappedByteBuffer) pages, pages.capacity() - 1, 1));
            assertDoesNotThrow(() -> advice.willNeed((MappedByteBuffer) pages, 0, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> advice.willNeed(pages, 1, pages.capacity()));
            assertThrows(IndexOutOfBoundsException.class, () -> advice.willNeed(pages, -1, 1));
        }
    }
}
