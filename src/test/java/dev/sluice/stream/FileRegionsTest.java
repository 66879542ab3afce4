package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A mapped chunk's region is offered only during its own write, to a claim of that very buffer, once. */
class FileRegionsTest {

    @TempDir
    Path dir;

    /** Claims, inside each write, the region of the buffer written (and of another buffer, which gets none). */
    private static final class ClaimingStream extends ServletOutputStream {
        final List<FileRegions.Region> claimed = new ArrayList<>();
        final List<FileRegions.Region> secondClaims = new ArrayList<>();
        final List<FileRegions.Region> otherClaims = new ArrayList<>();

        @Override
        public void write(ByteBuffer buffer) {
            otherClaims.add(FileRegions.claim(buffer.duplicate()));
            claimed.add(FileRegions.claim(buffer));
            secondClaims.add(FileRegions.claim(buffer));
            buffer.position(buffer.limit());
        }

        @Override
        public void write(int b) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
        }
    }

    @Test
    void aRegionIsClaimedOnlyInsideItsWriteByItsOwnBufferAndOnlyOnce() throws Exception {
        Path file = Files.write(dir.resolve("f.bin"), new byte[8192]);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, 0, 8192);
            ByteBuffer chunk = window.slice(4096, 1000);
            chunk.position(10);
            ClaimingStream out = new ClaimingStream();

            FileRegions.write(out, chunk, channel, 4096, true);

            FileRegions.Region region = out.claimed.get(0);
            assertSame(chunk, region.buffer());
            assertSame(channel, region.channel());
            assertEquals(4096, region.bufferStart());
            assertNull(out.secondClaims.get(0), "a region is claimed once");
            assertNull(out.otherClaims.get(0), "a duplicate is another buffer: no region");
            assertNull(FileRegions.claim(chunk), "after its write, nothing is offered");
        }
    }

    @Test
    void aRegionsPositionFollowsItsBuffer() throws Exception {
        ByteBuffer buffer = ByteBuffer.allocateDirect(100);
        FileRegions.Region region = new FileRegions.Region(buffer, null, 5000);
        buffer.position(30);
        assertEquals(5030, region.position());
    }
}
