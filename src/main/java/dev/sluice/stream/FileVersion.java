package dev.sluice.stream;

import java.nio.file.attribute.FileTime;

/**
 * One version of a file's content, as far as the file system tells: transfers of equal versions share mappings
 * ({@code bufferKind=mapped}). A file rewritten in place gets a new modification time or size, and a file
 * replaced gets a new key, so equal versions hold the same bytes.
 *
 * <p>The time is kept as precise as the file system gives it: Linux since 6.13 gives a file changed after
 * someone looked at its time a time of its own, to the nanosecond (multigrain timestamps: ext4, xfs, btrfs,
 * tmpfs), so that a rewrite within the millisecond Sluice opened the file in is still a new version. Before, or on
 * other file systems, two writes within one tick of the kernel's coarse clock (a few milliseconds) share a time.
 * Not seen, but possible: a network or FUSE mount that reports an unchanged file's time differently below the
 * millisecond from one look to the next (a client's cached time, then the server's rounded one) makes its
 * downloads look changed: a 503 to ask again, or a download cut.
 *
 * @param fileKey what identifies the file on its file system (device and inode), never null
 * @param size bytes in the file
 * @param lastModified modification time, never null
 */
public record FileVersion(Object fileKey, long size, FileTime lastModified) {

    public FileVersion {
        java.util.Objects.requireNonNull(fileKey, "fileKey");
        java.util.Objects.requireNonNull(lastModified, "lastModified");
    }
}
