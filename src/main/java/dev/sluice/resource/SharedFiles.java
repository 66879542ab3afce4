package dev.sluice.resource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.io.function.IOFunction;

/**
 * Opens files for responses, sharing one open file descriptor (a few for a popular file, see "Stripes") among all
 * the responses that send the same version of a file at the same time.
 *
 * <p>Why: a download holds its file open from its head to its last byte, so 10,000 clients of one popular file
 * held 10,000 descriptors besides their 10,000 sockets, and crossed a limit of 20,000 open files that served
 * every socket well (measured: 12 of 10,000 clients got a 500, "Too many open files"). A file's bytes do not
 * depend on who opened it: a descriptor of the same file (same file key, size and modification time) read with
 * positional reads, mappings and {@code transferTo} gives every holder exactly what its own open would.
 *
 * <p>Each caller gets its own {@link FileChannel}: a view of the shared descriptor whose {@code close} gives the
 * caller's reference back; the descriptor closes with its last reference. Only the operations that leave the
 * descriptor's state alone are offered (positional reads, {@code size}, {@code map}, {@code transferTo}); the
 * ones that use or move the channel's position, write, or lock throw {@link UnsupportedOperationException}.
 * A descriptor closed under its holders (a thread interrupted in a read closes it) is not handed out again: the
 * next open opens the file anew.
 *
 * <h2>Stripes: a few descriptors for a popular file</h2>
 * The JDK's {@code FileChannel} serializes {@code size()} and {@code map} on one lock per channel, and
 * {@code transferTo} asks {@code size()} before every {@code sendfile}. With one channel for 10,000 downloads,
 * every container and read thread that sent or checked a chunk queued on that one lock (seen in thread dumps of
 * 10,000 slow clients: seven of seventeen such threads blocked on it at once). So a version of a file opens one
 * more descriptor, up to {@link #MOST_STRIPES}, each time its holders pass another {@link #HOLDERS_PER_STRIPE}, and
 * each call goes to the stripe its thread maps to: the threads, not the holders, are what contend, and a pool's
 * threads spread over the stripes. Every stripe is the same file, checked as a shared open is (file key, size,
 * modification time); a stripe that finds another file is not added. A file with few holders keeps one descriptor.
 *
 * <p>Thread-safe. A file changed in place between two opens is told apart by its size or modification time, as
 * {@link OpenedFile} does; one replaced by another (a rename) by its file key. Where the file system gives no
 * file key, nothing is shared.
 */
public final class SharedFiles {

    /** The most descriptors one version of a file gets. */
    public static final int MOST_STRIPES = 8;

    /** Holders per descriptor above which a version of a file gets another one. */
    static final int HOLDERS_PER_STRIPE = 16;

    private final Map<Path, Descriptor> open = new ConcurrentHashMap<>();
    private final IOFunction<Path, OpenedFile> opener;

    public SharedFiles() {
        this(OpenedFile::open);
    }

    /** With {@code opener} in place of {@link OpenedFile#open}, so a test can hold one open while others run. */
    SharedFiles(IOFunction<Path, OpenedFile> opener) {
        this.opener = opener;
    }

    /**
     * Opens {@code path}, which must be a regular file, as {@link OpenedFile#open} does; the returned file's
     * channel may share its descriptor with others. Closing it (or its channel) gives the reference back.
     *
     * <p>Two first opens of a file may run at once (every client of a new popular file arrives together): both
     * open it, and the one that publishes its descriptor second closes its own and joins the first, so one
     * version of a file never holds two descriptors for long (a CI run counted two under 2,000 downloads when the
     * second simply replaced the first).
     */
    public OpenedFile open(Path path) throws IOException {
        BasicFileAttributes now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!now.isRegularFile()) {
            throw new NoSuchFileException(path.toString(), null, "not a regular file");
        }
        Descriptor shared = open.get(path);
        if (shared != null && shared.describes(now.fileKey(), now.size(), now.lastModifiedTime())
                && shared.acquire()) {
            shared.addStripeIfCrowded();
            return shared.file(path);
        }
        OpenedFile opened = opener.apply(path);
        if (opened.fileKey() == null) {
            return opened;
        }
        Descriptor fresh = new Descriptor(opened);
        while (true) {
            Descriptor published = open.putIfAbsent(path, fresh);
            if (published == null) {
                return fresh.file(path);
            }
            if (published.describes(opened.fileKey(), opened.size(), opened.lastModified())
                    && published.acquire()) {
                OpenedFile joined = published.file(path);
                closeSpare(opened);
                return joined;
            }
            if (open.replace(path, published, fresh)) {
                return fresh.file(path);
            }
        }
    }

    /**
     * Closes a descriptor opened in vain: the caller already holds a reference to the published one, which a
     * failing close (a network file system may report one) must neither lose nor keep from the caller.
     */
    private static void closeSpare(OpenedFile spare) {
        try {
            spare.close();
        } catch (IOException e) {
            // the duplicate's close failed; the response goes on with the shared descriptor
        }
    }

    /**
     * Whether a version of {@code path} is open now with at least one holder, so that {@link #open} would only
     * check the file's attributes (from the kernel's cache, as a rule) and join it. A hint: it may close meanwhile.
     */
    public boolean isOpen(Path path) {
        Descriptor shared = open.get(path);
        return shared != null && shared.holders.get() > 0;
    }

    /**
     * Another view of the version that {@code view} (a view {@link #open} gave, still open) holds, without asking
     * the storage: for a request whose file was opened for it on another thread. Empty when {@code view} is not
     * such a view (a file without a file key is not shared) or is closed.
     */
    public Optional<OpenedFile> another(OpenedFile view) {
        if (view.channel() instanceof View shared && shared.isOpen() && shared.descriptor.acquire()) {
            return Optional.of(shared.descriptor.file(view.path()));
        }
        return Optional.empty();
    }

    /** Versions of files open now with at least one holder; for tests. */
    int descriptors() {
        return open.size();
    }

    /** Descriptors the open version of {@code path} holds (its stripes), 0 if none is open; for tests. */
    int stripes(Path path) {
        Descriptor shared = open.get(path);
        return shared == null ? 0 : shared.stripes.length;
    }

    /**
     * One open version of a file, its stripes (descriptors of that same version) and how many views of it are open.
     */
    private final class Descriptor {
        private final OpenedFile file;
        /** Open views; 0 once the last one closed, after which the descriptor is never handed out again. */
        private final AtomicInteger holders = new AtomicInteger(1);
        /** {@code file}'s channel first; only grows, replaced whole under {@code this}, and closed whole. */
        private volatile FileChannel[] stripes;
        /** Set under {@code this} by the last release: a stripe opened after it is closed, not added. */
        private boolean closed;
        /** Whether a thread is opening a stripe: one open at a time, not one per client of a burst. */
        private final AtomicBoolean growing = new AtomicBoolean();

        Descriptor(OpenedFile file) {
            this.file = file;
            this.stripes = new FileChannel[] {file.channel()};
        }

        /** Whether this version, every stripe still open, is of the file version with this key, size and time. */
        boolean describes(Object fileKey, long size, FileTime lastModified) {
            if (!isVersion(fileKey, size, lastModified)) {
                return false;
            }
            for (FileChannel stripe : stripes) {
                if (!stripe.isOpen()) {
                    return false;
                }
            }
            return true;
        }

        /** Whether this is the file version with this key, size and time. */
        private boolean isVersion(Object fileKey, long size, FileTime lastModified) {
            return file.fileKey().equals(fileKey) && file.size() == size && file.lastModified().equals(lastModified);
        }

        /** The channel for a call on this thread: threads spread over the stripes. */
        FileChannel channel() {
            FileChannel[] now = stripes;
            return now.length == 1 ? now[0] : now[(int) (Thread.currentThread().getId() % now.length)];
        }

        /**
         * Opens one more stripe when the holders have passed another {@link #HOLDERS_PER_STRIPE}: on the caller's
         * thread (where {@link SharedFiles#open} runs its first opens too), one thread at a time, at most
         * {@code MOST_STRIPES - 1} times for a version. One that turns out to be another file, or comes after the
         * last release, is closed again.
         */
        void addStripeIfCrowded() {
            int count = stripes.length;
            if (count >= MOST_STRIPES || holders.get() <= count * HOLDERS_PER_STRIPE
                    || !growing.compareAndSet(false, true)) {
                return;
            }
            OpenedFile stripe;
            try {
                stripe = opener.apply(file.path());
            } catch (IOException e) {
                return; // the holders share the stripes there are
            } finally {
                growing.set(false);
            }
            synchronized (this) {
                if (!closed && stripes.length == count
                        && isVersion(stripe.fileKey(), stripe.size(), stripe.lastModified())) {
                    FileChannel[] more = Arrays.copyOf(stripes, count + 1);
                    more[count] = stripe.channel();
                    stripes = more;
                    return;
                }
            }
            closeSpare(stripe);
        }

        boolean acquire() {
            for (int count = holders.get(); count > 0; count = holders.get()) {
                if (holders.compareAndSet(count, count + 1)) {
                    return true;
                }
            }
            return false;
        }

        void release() throws IOException {
            if (holders.decrementAndGet() == 0) {
                open.remove(file.path(), this);
                FileChannel[] all;
                synchronized (this) {
                    closed = true;
                    all = stripes;
                }
                IOException failed = null;
                for (FileChannel stripe : all) {
                    try {
                        stripe.close();
                    } catch (IOException e) {
                        failed = failed == null ? e : failed;
                    }
                }
                if (failed != null) {
                    throw failed;
                }
            }
        }

        OpenedFile file(Path path) {
            return new OpenedFile(path, new View(this), file.size(), file.lastModified(), file.fileKey());
        }
    }

    /**
     * One holder's channel onto a shared version of a file: reads that leave the descriptors' state alone, each on
     * the stripe of the calling thread.
     */
    private static final class View extends FileChannel {
        private final Descriptor descriptor;

        View(Descriptor descriptor) {
            this.descriptor = descriptor;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            ensureOpen();
            return descriptor.channel().read(dst, position);
        }

        @Override
        public long size() throws IOException {
            ensureOpen();
            return descriptor.channel().size();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            ensureOpen();
            return descriptor.channel().map(mode, position, size);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            ensureOpen();
            return descriptor.channel().transferTo(position, count, target);
        }

        private void ensureOpen() throws IOException {
            if (!isOpen()) {
                throw new ClosedChannelException();
            }
        }

        @Override
        protected void implCloseChannel() throws IOException {
            descriptor.release();
        }

        @Override
        public int read(ByteBuffer dst) {
            throw shared();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw shared();
        }

        @Override
        public int write(ByteBuffer src) {
            throw shared();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw shared();
        }

        @Override
        public long position() {
            throw shared();
        }

        @Override
        public FileChannel position(long newPosition) {
            throw shared();
        }

        @Override
        public FileChannel truncate(long size) {
            throw shared();
        }

        @Override
        public void force(boolean metaData) {
            throw shared();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw shared();
        }

        @Override
        public int write(ByteBuffer src, long position) {
            throw shared();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw shared();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw shared();
        }

        private static UnsupportedOperationException shared() {
            return new UnsupportedOperationException("a shared file descriptor offers positional reads only");
        }
    }
}
