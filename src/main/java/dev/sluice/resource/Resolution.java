package dev.sluice.resource;

import java.nio.file.Path;

/**
 * The outcome of {@link FileResolver#resolve(String)}. Paths in {@link Found} and {@link Directory}
 * are real paths inside the document root; {@code reason} strings are meant for logs and must not be
 * sent to clients.
 */
public sealed interface Resolution {

    /**
     * A regular file that may be served.
     *
     * @param file        the file's real path
     * @param decodedPath the normalized, decoded request path starting with "/", for lookups by name
     */
    record Found(Path file, String decodedPath) implements Resolution {}

    /**
     * A directory. Callers typically redirect to the slash-terminated form when
     * {@code hasTrailingSlash} is false, so that relative links inside a listing resolve correctly.
     *
     * @param dir              the directory's real path
     * @param decodedPath      the normalized, decoded request path starting with "/", without a
     *                         trailing slash unless it is the root
     * @param hasTrailingSlash whether the raw request path ended with "/"
     */
    record Directory(Path dir, String decodedPath, boolean hasTrailingSlash) implements Resolution {}

    /** Answer 404: missing, hidden, outside the root, a refused link, a device name, and the like. */
    record NotFound(String reason) implements Resolution {}

    /** Answer 400: the path itself is malformed (bad percent-encoding, invalid UTF-8, NUL, controls). */
    record BadRequest(String reason) implements Resolution {}
}
