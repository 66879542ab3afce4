package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Tells a container, during a write, which file region a mapped chunk holds, so that a container able to send
 * from a file (the launcher's sendfile connector, {@code --sendfile}) can send that region with
 * {@link FileChannel#transferTo} instead of copying the mapped bytes. The engine stays ignorant of any container:
 * it only names the region while it writes the chunk.
 *
 * <p>Why a thread-local offer and not a map from buffers to files: a container that takes the offer does so
 * within {@code ServletOutputStream.write}, on the writing thread (Jetty flushes a write's first attempt in the
 * caller), and then keeps the region with the write it has in flight; a buffer that no container claims (a
 * container without the feature, or one that copies the buffer first) is forgotten when the write returns. No
 * buffer is ever remembered past its write, so nothing leaks and nothing needs weak references.
 *
 * <p>Off until {@link #enable()}: the engine then writes exactly as before.
 */
public final class FileRegions {

    /**
     * A chunk's file region: {@code buffer} holds the bytes of {@code channel} from {@code bufferStart} on (its
     * index 0 is that file position). The channel belongs to the transfer, which closes it when it ends; a
     * container that finds it closed sends the mapped bytes instead (they stay valid after the close).
     */
    public record Region(ByteBuffer buffer, FileChannel channel, long bufferStart) {

        /** The file position of the buffer's next byte. */
        public long position() {
            return bufferStart + buffer.position();
        }
    }

    private static volatile boolean enabled;
    private static final ThreadLocal<Region> OFFERED = new ThreadLocal<>();

    private FileRegions() {
    }

    /** Makes the engine offer its mapped chunks' regions from now on, in this JVM (class loader). */
    public static void enable() {
        enabled = true;
    }

    static boolean enabled() {
        return enabled;
    }

    /**
     * The region offered for {@code buffer} by the write running on this thread, taken away (a second claim gets
     * null); null when the write on this thread is of another buffer, or none is running.
     */
    public static Region claim(ByteBuffer buffer) {
        Region region = OFFERED.get();
        if (region == null || region.buffer() != buffer) {
            return null;
        }
        OFFERED.remove();
        return region;
    }

    /** Writes {@code data}, a slice of {@code channel}'s mapping starting at file position {@code start}, offering its region meanwhile. */
    static void write(ServletOutputStream out, ByteBuffer data, FileChannel channel, long start,
            boolean byteBufferWrites) throws IOException {
        OFFERED.set(new Region(data, channel, start));
        try {
            ChunkWriter.write(out, data, byteBufferWrites);
        } finally {
            OFFERED.remove();
        }
    }
}
