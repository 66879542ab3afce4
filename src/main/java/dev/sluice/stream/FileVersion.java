package dev.sluice.stream;

/**
 * One version of a file's content, as far as the file system tells: transfers of equal versions share mappings
 * ({@code bufferKind=mapped}). A file rewritten in place gets a new modification time or size, and a file
 * replaced gets a new key, so equal versions hold the same bytes.
 *
 * @param fileKey what identifies the file on its file system (device and inode), never null
 * @param size bytes in the file
 * @param lastModifiedMillis modification time, milliseconds since the epoch
 */
public record FileVersion(Object fileKey, long size, long lastModifiedMillis) {

    public FileVersion {
        java.util.Objects.requireNonNull(fileKey, "fileKey");
    }
}
