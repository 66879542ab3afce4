package dev.sluice.stream;

import java.io.IOException;

/** The file ended before the bytes the response promised: it was truncated while being served. */
public final class FileShrankException extends IOException {

    private final long position;

    public FileShrankException(long position) {
        super("file ended at byte " + position + " before the promised length");
        this.position = position;
    }

    /** Where the file ended. */
    public long position() {
        return position;
    }
}
