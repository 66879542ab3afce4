package dev.sluice.stream;

import java.util.Locale;

/** Where chunk buffers live. */
public enum BufferKind {
    /** Off-heap: the file is read straight into them and a Servlet 6.1 container can send them without a copy. */
    DIRECT,
    /** On the heap: needed for {@code byte[]} writes on Servlet 6.0 containers. */
    HEAP;

    public static BufferKind parse(String value) {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
}
