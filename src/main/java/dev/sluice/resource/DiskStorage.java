package dev.sluice.resource;

import dev.sluice.resource.FileResolver.Checked;
import dev.sluice.resource.FileResolver.Looked;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Optional;

/**
 * The file system as {@link FileCache} asks it: the resolver's checks, and a small file's bytes read so that they
 * are known to be one version of it. The file is opened as a response opens it ({@link OpenedFile}: its attributes
 * before and after the open agree), read whole, and its attributes read once more: bytes whose file changed size,
 * time or key meanwhile, or that are not the version the entry describes, are not kept.
 */
final class DiskStorage implements FileCache.Storage {

    private final FileResolver resolver;
    private final Runnable afterRead;

    /** {@code afterRead} runs between the read and the last look at the attributes; tests change the file there. */
    DiskStorage(FileResolver resolver, Runnable afterRead) {
        this.resolver = resolver;
        this.afterRead = afterRead;
    }

    @Override
    public Looked look(Checked checked) {
        return resolver.look(checked);
    }

    @Override
    public Optional<FileCache.Content> read(Looked looked) throws IOException {
        try (OpenedFile file = OpenedFile.open(looked.real())) {
            if (file.size() != looked.size() || file.lastModifiedMillis() != looked.lastModifiedMillis()
                    || !Objects.equals(file.fileKey(), looked.fileKey()) || file.size() > Integer.MAX_VALUE) {
                return Optional.empty();
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) file.size());
            while (bytes.hasRemaining()) {
                if (file.channel().read(bytes, bytes.position()) < 0) {
                    return Optional.empty(); // shorter than it was a moment ago
                }
            }
            if (file.channel().read(ByteBuffer.allocate(1), bytes.capacity()) > 0) {
                return Optional.empty(); // longer
            }
            afterRead.run();
            BasicFileAttributes after = Files.readAttributes(file.path(), BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!after.isRegularFile() || after.size() != file.size()
                    || after.lastModifiedTime().toMillis() != file.lastModifiedMillis()
                    || !Objects.equals(after.fileKey(), file.fileKey())) {
                return Optional.empty();
            }
            return Optional.of(new FileCache.Content(file.path(), bytes.flip(), file.lastModifiedMillis()));
        }
    }
}
