package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes a chunk with {@code ServletOutputStream.write(ByteBuffer)} where the Servlet API has it (6.1), which
 * lets a container send a direct buffer without copying it; on a 6.0 API it falls back to {@code byte[]}
 * writes, for which the engine then uses heap buffers.
 */
final class ChunkWriter {

    /** True when the servlet API on the class path declares {@code write(ByteBuffer)} (Servlet 6.1). */
    static final boolean BYTE_BUFFER_WRITES = declaresByteBufferWrite();

    private ChunkWriter() {
    }

    static void write(ServletOutputStream out, ByteBuffer data, boolean byteBufferWrites) throws IOException {
        if (byteBufferWrites) {
            out.write(data);
        } else if (data.hasArray()) {
            int length = data.remaining();
            out.write(data.array(), data.arrayOffset() + data.position(), length);
            data.position(data.limit());
        } else {
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            out.write(copy);
        }
    }

    private static boolean declaresByteBufferWrite() {
        try {
            ServletOutputStream.class.getMethod("write", ByteBuffer.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
