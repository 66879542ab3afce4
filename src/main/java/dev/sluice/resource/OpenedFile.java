package dev.sluice.resource;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * A file opened once for one response, with the size and modification time that describe the bytes the channel
 * will deliver. Headers and body come from the same snapshot: if the file is replaced between the look at its
 * attributes and the open, the attributes are read again, so a response never announces one file's length and
 * sends another's bytes.
 *
 * <p>{@code path} is the real path the resolver checked, so it is opened without following a symlink: one
 * swapped in for the file after the check fails to open rather than leading elsewhere. (A parent directory
 * swapped for a symlink in that instant is not caught: that would take {@code openat}-style walking, which
 * Java does not offer.)
 *
 * @param path the file's real path
 * @param channel open for reading; whoever sends the body closes it
 * @param size bytes in the file when it was opened
 * @param lastModified modification time, as precise as the file system keeps it (see {@code FileVersion}); the
 *        headers use its milliseconds ({@link #lastModifiedMillis()})
 * @param fileKey what identifies the opened file on its file system (device and inode), or null where the
 *        file system has none
 */
public record OpenedFile(Path path, FileChannel channel, long size, FileTime lastModified, Object fileKey)
        implements Closeable {

    private static final int ATTEMPTS = 3;

    /** Opens {@code path}, which must be a regular file. */
    public static OpenedFile open(Path path) throws IOException {
        OpenedFile last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            BasicFileAttributes before;
            FileChannel channel;
            try {
                before = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!before.isRegularFile()) {
                    throw new NoSuchFileException(path.toString(), null, "not a regular file");
                }
                channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException | RuntimeException e) { // a later attempt: the one before is still open
                if (last != null) {
                    last.close();
                }
                throw e;
            }
            try {
                long size = channel.size();
                BasicFileAttributes after = Files.readAttributes(path, BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                OpenedFile opened = new OpenedFile(path, channel, size, after.lastModifiedTime(), after.fileKey());
                if (Objects.equals(before.fileKey(), after.fileKey())
                        && before.lastModifiedTime().equals(after.lastModifiedTime())
                        && before.size() == size && after.size() == size) {
                    if (last != null) {
                        last.close();
                    }
                    return opened;
                }
                if (last != null) {
                    last.close();
                }
                last = opened;
            } catch (IOException | RuntimeException e) {
                channel.close();
                if (last != null) {
                    last.close();
                }
                throw e;
            }
        }
        return last; // still changing: serve what the open channel holds now, with its own size
    }

    /**
     * Whether {@code path} still names the opened file, unchanged: the same file key, size and modification time,
     * without following a symlink. Whoever opens the path again after this (Tomcat's sendfile does) gets the same
     * bytes, unless the file changes in between: a check, not a lock. False when the file system gives no file
     * key, since a replaced file could then not be told apart.
     */
    public boolean unchangedOnDisk() {
        if (fileKey == null) {
            return false;
        }
        try {
            BasicFileAttributes now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return now.isRegularFile() && fileKey.equals(now.fileKey()) && now.size() == size
                    && now.lastModifiedTime().equals(lastModified) && channel.size() == size;
        } catch (IOException e) {
            return false;
        }
    }

    /** The modification time in milliseconds since the epoch: what {@code Last-Modified} and the ETag carry. */
    public long lastModifiedMillis() {
        return lastModified.toMillis();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
