package dev.sluice.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Counts this process's open file descriptors, to prove that downloads leave none behind. Not counted: those open on
 * {@code /proc}, such as each read thread's own {@code /proc/thread-self/schedstat} (the storage gauge's count of
 * time spent waiting for a core), which lives and ends with its thread, not with any download; nor the pipes a
 * read thread touches a span's pages through ({@code PageTouch}), which are kept for the next span and live and end
 * with the engine (at most one a read thread; {@code PageTouchTest} counts them).
 */
public final class OpenFiles {

    private OpenFiles() {
    }

    public static long count() {
        return count(Path.of("/proc/self/fd"));
    }

    /** The open file descriptors of another process of this user, such as a launcher started by a test. */
    public static long countOf(long pid) {
        return count(Path.of("/proc", Long.toString(pid), "fd"));
    }

    private static long count(Path fdDirectory) {
        try (Stream<Path> fds = Files.list(fdDirectory)) {
            return fds.filter(fd -> {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    return !target.startsWith("/proc/") && !target.toString().startsWith("pipe:");
                } catch (IOException e) {
                    return false; // closed while we looked
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + fdDirectory, e);
        }
    }

    /** How many open descriptors point at files below {@code dir}. */
    public static long countUnder(Path dir) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(dir);
                } catch (IOException e) {
                    return false; // closed while we looked
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }
}
