package dev.sluice.stream;

import java.io.IOException;

/**
 * The file was changed in place while it was served (rewritten, overwritten or appended to): the bytes sent so far
 * and the bytes still to come may belong to two versions, so the body cannot be finished.
 */
public final class FileChangedException extends IOException {

    public FileChangedException(String what) {
        super(what);
    }
}
