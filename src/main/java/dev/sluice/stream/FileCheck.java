package dev.sluice.stream;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * Whether a transfer's open file still holds the version the response announced. Run by the read threads after
 * a chunk is read (now and then: see {@code Transfer.CHECK_EVERY}), and once more before the body's last write, so
 * a file changed in place is never sent as a complete-looking mix of two versions.
 *
 * <p>What is checked: the open file's size (one {@code fstat}), then, when the path is known, the path's file key
 * and modification time (one {@code stat}). A path that names another file now (the file was replaced by a
 * rename) or nothing (it was deleted) says nothing against the open file: it is served whole, as it was. A file
 * changed in place keeps its key and gets a new size or modification time: {@code cp new old} empties the file and
 * writes it again, which no size check alone can see once the file has grown back.
 *
 * <p>Thread-safe: immutable, and positional reads and {@code size()} leave the channel's state alone.
 */
final class FileCheck {

    private final FileChannel channel;
    private final FileVersion version;
    private final Path path;

    FileCheck(FileChannel channel, FileVersion version, Path path) {
        this.channel = channel;
        this.version = version;
        this.path = path;
    }

    /** Whether there is a version to check against. */
    boolean enabled() {
        return version != null;
    }

    /** Why the file can no longer give the announced version, or {@code null} when it still can. */
    IOException problem() throws IOException {
        if (version == null) {
            return null;
        }
        long size = channel.size();
        if (size < version.size()) {
            return new FileShrankException(size);
        }
        if (size > version.size()) {
            return new FileChangedException("file grew from " + version.size() + " to " + size
                    + " bytes while it was served");
        }
        if (path == null) {
            return null;
        }
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null; // deleted: the open file still holds its bytes
        }
        if (!version.fileKey().equals(now.fileKey())) {
            return null; // replaced by another file: the open one is untouched
        }
        FileTime modified = now.lastModifiedTime();
        if (!modified.equals(version.lastModified())) { // to the nanosecond where the file system keeps them
            return new FileChangedException("file modified in place while it was served (modification time "
                    + version.lastModified() + ", now " + modified + ")");
        }
        return null;
    }
}
