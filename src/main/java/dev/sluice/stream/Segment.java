package dev.sluice.stream;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One piece of a response body as the engine sees it: either a region of the open file or literal bytes
 * (such as the boundaries between the parts of a multipart response). The engine knows nothing of HTTP; the
 * servlet layer turns a response plan into a list of segments.
 */
public sealed interface Segment {

    /** Number of body bytes this segment contributes. */
    long length();

    /** Bytes {@code [position, position + length)} of the file. */
    record FileRegion(long position, long length) implements Segment {
        public FileRegion {
            if (position < 0 || length < 0) {
                throw new IllegalArgumentException("bad region " + position + "+" + length);
            }
        }
    }

    /**
     * Literal bytes, written as they are. The buffer is shared by value: each transfer writes from its own
     * duplicate, so one literal may serve many responses.
     */
    record Literal(ByteBuffer bytes) implements Segment {
        public Literal {
            bytes = Objects.requireNonNull(bytes).asReadOnlyBuffer();
        }

        public static Literal of(byte[] bytes) {
            return new Literal(ByteBuffer.wrap(bytes));
        }

        @Override
        public long length() {
            return bytes.remaining();
        }
    }
}
