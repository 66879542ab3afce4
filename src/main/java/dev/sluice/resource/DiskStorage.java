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
import java.util.function.LongSupplier;

/**
 * The file system as {@link FileCache} asks it: the resolver's checks, and a small file's bytes read so that they
 * are known to be one version of it. The file is opened as a response opens it ({@link OpenedFile}: its attributes
 * before and after the open agree), read whole, and its attributes read once more: bytes whose file changed size,
 * time or key meanwhile, or that are not the version the entry describes, are not kept.
 *
 * <p>Nor are the bytes of a file modified less than {@link #SETTLED_MILLIS} ago: it may be being written. A copy
 * over a file ({@code cp new old}) empties it, then writes it piece by piece, and every write within one tick of
 * the file system's clock leaves the same modification time, so an empty or half-written file can look like a
 * version of its own; kept, it would be served whole for up to twice {@code cacheRevalidate}. Its requests read
 * the file until a later revalidation finds it settled. The age is told by this machine's clock: a time more than
 * {@link #SETTLED_MILLIS} ahead of it (an archive restored with its times, a mount whose clock is ahead) counts as
 * settled, so that such files are cached at all; on a mount whose clock is off by more than that, a copy under way
 * is not recognised, as before this rule.
 */
final class DiskStorage implements FileCache.Storage {

    /** How long after its last modification a file's bytes may be kept: beyond any file system's clock tick. */
    static final long SETTLED_MILLIS = 2_000;

    private final FileResolver resolver;
    private final Runnable afterRead;
    private final LongSupplier wallMillis;

    DiskStorage(FileResolver resolver) {
        this(resolver, () -> { }, System::currentTimeMillis);
    }

    /**
     * {@code afterRead} runs between the read and the last look at the attributes; tests change the file there.
     * {@code wallMillis}: the time now, as {@link System#currentTimeMillis()} tells it.
     */
    DiskStorage(FileResolver resolver, Runnable afterRead, LongSupplier wallMillis) {
        this.resolver = resolver;
        this.afterRead = afterRead;
        this.wallMillis = wallMillis;
    }

    @Override
    public Looked look(Checked checked) {
        return resolver.look(checked);
    }

    @Override
    public Optional<FileCache.Content> read(Looked looked) throws IOException {
        try (OpenedFile file = OpenedFile.open(looked.real())) {
            if (file.size() != looked.size() || file.lastModifiedMillis() != looked.lastModifiedMillis()
                    || !Objects.equals(file.fileKey(), looked.fileKey()) || file.size() > Integer.MAX_VALUE
                    || Math.abs(wallMillis.getAsLong() - file.lastModifiedMillis()) < SETTLED_MILLIS) {
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
