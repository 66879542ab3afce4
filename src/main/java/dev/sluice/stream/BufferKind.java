package dev.sluice.stream;

import java.util.Locale;

/** Where chunk buffers live. */
public enum BufferKind {
    /** Off-heap: the file is read straight into them and a Servlet 6.1 container can send them without a copy. */
    DIRECT,
    /** On the heap: needed for {@code byte[]} writes on Servlet 6.0 containers. */
    HEAP,
    /**
     * File regions longer than one chunk are sent as slices of a read-only mapping of the file, whose pages the
     * read pool loads before the container writes them: the kernel copies them to the socket once, with no read
     * into a buffer before. Shorter regions use direct buffers. Needs {@code write(ByteBuffer)} (Servlet 6.1);
     * on a 6.0 container it falls back to heap buffers like {@link #DIRECT}.
     */
    MAPPED;

    public static BufferKind parse(String value) {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
}
