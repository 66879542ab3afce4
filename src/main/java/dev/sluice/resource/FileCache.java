package dev.sluice.resource;

import dev.sluice.resource.FileResolver.Checked;
import dev.sluice.resource.FileResolver.Looked;
import dev.sluice.stream.JoinableThreads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * What the file system said about recently requested paths, and the bytes of small files, so that a request for
 * one of them touches no storage: no {@code stat}, no {@code open}, no read (with {@code precompressed} on, the
 * lookup of a compressed variant still does). On storage where each of those costs
 * milliseconds (a network or FUSE mount) this is the difference between answering small files from memory and
 * queueing them behind the big downloads' reads. Tomcat's resource cache and nginx's {@code open_file_cache} do
 * the same.
 *
 * <p><b>Keys and security.</b> Entries are keyed by the decoded path after {@link FileResolver}'s checks that read
 * no file system (encoding, dot segments, device names, hidden names), which run on every request. What an entry
 * holds is the outcome of the checks that do read it (symlinks, containment, hidden targets, names on disk): the
 * file's real path, or the refusal. A path the resolver would refuse now (a symlink changed to lead out of the
 * root, a file renamed to a hidden name) may thus be served, or refused, as it was, until the entry is next
 * revalidated.
 *
 * <p><b>Revalidation.</b> An entry checked less than {@code revalidate} ago is used as it is. The first request
 * after that starts one revalidation of the entry on the cache's own threads (one at a time per entry, however
 * many requests come) and, like every request until it ends, is answered from the entry as it was: no request
 * thread waits for the storage to be asked. An entry older than twice {@code revalidate} (its revalidation did not
 * end within an interval, or nobody asked for it) is not used: the request resolves the path itself, as without
 * the cache, and the entry is replaced by what it found. So a change on disk is seen within {@code revalidate}
 * after the last check plus the length of one revalidation, and never later than twice {@code revalidate}.
 * Missing files are remembered like others: a file created is found within the same bound.
 *
 * <p><b>Bytes.</b> A file of at most {@code maxFileSize} bytes is read, on the cache's threads, after a request
 * found it: opened, read whole, and its size, time and file key checked again after the read. If they changed
 * during the read, the bytes are dropped. So the bytes always carry the validators (size, modification time) they
 * were read with, and a response built from a {@link Content} never sends one version's bytes under another's
 * {@code ETag}. A revalidation that finds another size, time or file key drops the bytes and reads them again.
 *
 * <p><b>Memory.</b> Entries count their bytes plus an estimate of their own size against {@code maxMemory}; the
 * least recently used go first. {@code maxMemory} 0 turns the cache off: every request resolves, stats and opens
 * its file as without it.
 *
 * <p>Thread-safe. The map is guarded by its own lock, held for a lookup or a replacement only, never across a
 * file-system call.
 */
public final class FileCache implements AutoCloseable {

    /**
     * The cache's settings.
     *
     * @param maxMemory most bytes the entries may hold together (file bytes plus about {@link #ENTRY_OVERHEAD} per
     *        entry); 0: no cache
     * @param maxFileSize largest file whose bytes are kept; 0: metadata only
     * @param revalidate how long an entry is used before it is checked again
     */
    public record Settings(long maxMemory, long maxFileSize, Duration revalidate) {

        public Settings {
            Objects.requireNonNull(revalidate, "revalidate");
            if (maxMemory < 0 || maxFileSize < 0 || revalidate.isNegative() || revalidate.isZero()) {
                throw new IllegalArgumentException("bad cache settings: " + maxMemory + ", " + maxFileSize + ", "
                        + revalidate);
            }
        }

        /** No cache. */
        public static Settings off() {
            return new Settings(0, 0, Duration.ofSeconds(5));
        }
    }

    /**
     * A small file's bytes and the validators they were read with.
     *
     * @param path the real path they were read from
     * @param bytes the file's content, read-only
     * @param lastModifiedMillis the modification time when they were read
     */
    public record Content(Path path, ByteBuffer bytes, long lastModifiedMillis) {

        public Content {
            bytes = bytes.asReadOnlyBuffer();
        }

        /** The bytes, as a buffer of the caller's own: shared by every response, so never moved by one. */
        @Override
        public ByteBuffer bytes() {
            return bytes.duplicate();
        }

        /** The file's size when the bytes were read. */
        public long size() {
            return bytes.remaining();
        }
    }

    /** Where the cache asks the file system; tests count the calls. */
    interface Storage {

        /** The resolver's file-system checks of {@code checked}. */
        Looked look(Checked checked);

        /**
         * The bytes of the file {@code looked} found, if it still has {@code looked}'s size, time and key and kept
         * them while it was read; else empty.
         */
        Optional<Content> read(Looked looked) throws IOException;
    }

    /** A rough size of an entry with its key and map node, for the memory bound. */
    static final long ENTRY_OVERHEAD = 256;

    /** Threads that revalidate entries and read small files. Storage is slow when the cache matters. */
    static final int THREADS = 4;

    /** Revalidations and reads waiting at most; more are dropped (the entry then ages past its grace). */
    static final int QUEUE = 1024;

    private final FileResolver resolver;
    private final Settings settings;
    private final Storage storage;
    private final LongSupplier nanoClock;
    private final Executor background;
    private final ThreadPoolExecutor ownThreads;
    private final long intervalNanos;
    /** Guarded by itself; access order, so the eldest entry is the least recently used. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    /** Guarded by {@link #entries}. */
    private long memory;
    /** Paths with a revalidation or read queued or running: one at a time per path. */
    private final Set<String> busy = ConcurrentHashMap.newKeySet();

    /** One path's entry: what the file system said, when it was asked, and the file's bytes if kept. */
    private record Entry(Looked looked, long checkedNanos, Content content) {

        long charge(String key) {
            return ENTRY_OVERHEAD + 2L * key.length() + (content == null ? 0 : content.size());
        }
    }

    private FileCache(FileResolver resolver, Settings settings, Storage storage, LongSupplier nanoClock,
            Executor background, ThreadPoolExecutor ownThreads) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.storage = storage;
        this.nanoClock = nanoClock;
        this.background = background;
        this.ownThreads = ownThreads;
        this.intervalNanos = settings.revalidate().toNanos();
    }

    /** A cache over {@code resolver}'s root, with threads of its own when {@code settings} turn it on. */
    public static FileCache of(FileResolver resolver, Settings settings) {
        if (settings.maxMemory() == 0) {
            return new FileCache(resolver, settings, null, System::nanoTime, null, null);
        }
        ThreadPoolExecutor threads = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), JoinableThreads.daemon("sluice-cache-"));
        threads.allowCoreThreadTimeOut(true);
        return new FileCache(resolver, settings, new DiskStorage(resolver), System::nanoTime, threads,
                threads);
    }

    /** For tests: the storage, clock and executor are theirs. */
    static FileCache of(FileResolver resolver, Settings settings, Storage storage, LongSupplier nanoClock,
            Executor background) {
        return new FileCache(resolver, settings, storage, nanoClock, background, null);
    }

    /** Whether the cache is on ({@code maxMemory} above 0). */
    public boolean enabled() {
        return storage != null;
    }

    /** The resolver the cache remembers the answers of. */
    public FileResolver resolver() {
        return resolver;
    }

    /**
     * What {@link FileResolver#resolve} answers for {@code rawPath}, from the entry of its path while that is
     * recent enough (see the class comment), else from the resolver (and then remembered).
     */
    public Resolution resolve(String rawPath) {
        if (!enabled()) {
            return resolver.resolve(rawPath);
        }
        Checked checked = resolver.check(rawPath);
        if (checked.refusal() != null) {
            return checked.refusal();
        }
        if (checked.segments().isEmpty()) {
            return resolver.look(checked).resolution(checked); // the root: followed anew at most once a second
        }
        return entryFor(checked).looked().resolution(checked);
    }

    /**
     * What {@link #resolve} would answer for {@code rawPath} without asking the storage, when it can: a refusal by
     * the checks that read no file system, the root, or the path's entry while it is usable. Empty when
     * {@link #resolve} would ask the storage on the calling thread (no entry, one past its grace, or no cache).
     * Asks no storage and starts no revalidation.
     */
    public Optional<Resolution> known(String rawPath) {
        Checked checked = resolver.check(rawPath);
        if (checked.refusal() != null) {
            return Optional.of(checked.refusal());
        }
        if (!enabled()) {
            return Optional.empty();
        }
        if (checked.segments().isEmpty()) {
            return Optional.of(resolver.rootAsFound().resolution(checked));
        }
        Entry entry;
        synchronized (entries) {
            entry = entries.get(checked.decodedPath());
        }
        if (entry == null || nanoClock.getAsLong() - entry.checkedNanos() >= 2 * intervalNanos) {
            return Optional.empty();
        }
        return Optional.of(entry.looked().resolution(checked));
    }

    /**
     * Whether the file or directory opened at {@code resolved}'s real path (its file key {@code openedKey}) is the
     * one the cache found there; {@code resolved} itself when it is, else the path's resolution looked up afresh,
     * which then replaces the entry. Why: an entry's real path is opened by name, and a rename since the entry was
     * checked (the file replaced, or a directory on the way replaced, perhaps by a symlink leading out of the root)
     * makes that name lead elsewhere, where the resolver's checks never looked. Touches the storage only when the
     * keys differ.
     *
     * @param rawPath the raw path {@code resolved} was resolved from
     * @param resolved a {@link Resolution.Found} or a {@link Resolution.Directory} this cache gave for it
     */
    public Resolution confirm(String rawPath, Resolution resolved, Object openedKey) {
        return confirmed(rawPath, resolved, openedKey);
    }

    /**
     * What {@code rawPath} resolves to now, when the file at {@code resolved}'s real path is gone: looked up
     * afresh, as {@link #confirm} does for a file that is not the one found there, and remembered. Why: a release
     * deleted right after the symlink in front of it was switched ({@code current -> releases/42}) left the entries
     * of its files naming paths that no longer exist, and their requests were 404 until the entries' next check.
     */
    public Resolution vanished(String rawPath, Resolution resolved) {
        return confirmed(rawPath, resolved, NO_FILE);
    }

    /** A file key no file has. */
    private static final Object NO_FILE = new Object();

    private Resolution confirmed(String rawPath, Resolution resolved, Object openedKey) {
        if (!enabled() || openedKey == null) {
            return resolved;
        }
        String key;
        Path real;
        if (resolved instanceof Resolution.Found found) {
            key = found.decodedPath();
            real = found.file();
        } else if (resolved instanceof Resolution.Directory directory) {
            key = directory.decodedPath();
            real = directory.dir();
        } else {
            return resolved;
        }
        Entry entry;
        synchronized (entries) {
            entry = entries.get(key);
        }
        if (entry != null && entry.looked().real() != null && entry.looked().real().equals(real)
                && openedKey.equals(entry.looked().fileKey())) {
            return resolved;
        }
        Checked checked = resolver.check(rawPath);
        if (checked.refusal() != null) {
            return checked.refusal();
        }
        Looked looked = storage.look(checked);
        Entry fresh = new Entry(looked, nanoClock.getAsLong(), null);
        if (remember(checked.decodedPath(), fresh)) {
            fillLater(checked.decodedPath(), fresh);
        }
        if (real.equals(looked.real()) && openedKey.equals(looked.fileKey())) {
            return resolved; // the entry was gone or stale, and what was opened is what the path leads to now
        }
        return looked.resolution(checked);
    }

    /**
     * The bytes of the file {@code found} names, with the validators they were read with, when the cache holds
     * them for the path {@code found} was resolved by (and the entry is still usable); touches no storage.
     */
    public Optional<Content> content(Resolution.Found found) {
        if (!enabled()) {
            return Optional.empty();
        }
        Entry entry;
        synchronized (entries) {
            entry = entries.get(found.decodedPath());
        }
        if (entry == null || entry.content() == null || !entry.content().path().equals(found.file())
                || nanoClock.getAsLong() - entry.checkedNanos() >= 2 * intervalNanos) {
            return Optional.empty();
        }
        return Optional.of(entry.content());
    }

    /** Bytes the entries hold now, by the memory bound's count. */
    public long memory() {
        synchronized (entries) {
            return memory;
        }
    }

    /** File bytes the entries hold now (without the entries' own size). */
    public long fileBytes() {
        synchronized (entries) {
            return entries.values().stream().mapToLong(e -> e.content() == null ? 0 : e.content().size()).sum();
        }
    }

    /** Entries held now. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private Entry entryFor(Checked checked) {
        String key = checked.decodedPath();
        long now = nanoClock.getAsLong();
        Entry entry;
        synchronized (entries) {
            entry = entries.get(key);
        }
        if (entry != null) {
            long age = now - entry.checkedNanos();
            if (age < intervalNanos) {
                return entry;
            }
            if (age < 2 * intervalNanos) {
                inBackground(key, () -> revalidate(checked, key));
                return entry;
            }
        }
        Looked looked = storage.look(checked);
        Entry fresh = new Entry(looked, now, sameVersion(entry, looked) ? entry.content() : null);
        if (remember(key, fresh)) {
            fillLater(key, fresh);
        }
        return fresh;
    }

    /** On a cache thread: asks the file system again and replaces the entry by what it says. */
    private void revalidate(Checked checked, String key) {
        long started = nanoClock.getAsLong();
        Looked looked = storage.look(checked);
        Entry old;
        synchronized (entries) {
            old = entries.get(key);
        }
        Entry fresh = new Entry(looked, started, sameVersion(old, looked) ? old.content() : null);
        if (remember(key, fresh)) {
            fill(key, fresh);
        }
    }

    /** Whether {@code entry}'s bytes are still those of the file {@code looked} found. */
    private static boolean sameVersion(Entry entry, Looked looked) {
        if (entry == null || entry.content() == null || looked.kind() != Looked.Kind.FILE) {
            return false;
        }
        Looked was = entry.looked();
        return was.kind() == Looked.Kind.FILE && was.real().equals(looked.real()) && was.size() == looked.size()
                && was.lastModifiedMillis() == looked.lastModifiedMillis()
                && Objects.equals(was.fileKey(), looked.fileKey());
    }

    /** Whether the entry's file should have its bytes kept and has none yet. */
    private boolean wantsBytes(Entry entry) {
        Looked looked = entry.looked();
        return entry.content() == null && looked.kind() == Looked.Kind.FILE && settings.maxFileSize() > 0
                && looked.size() <= settings.maxFileSize()
                && looked.size() + ENTRY_OVERHEAD <= settings.maxMemory();
    }

    private void fillLater(String key, Entry entry) {
        if (wantsBytes(entry)) {
            inBackground(key, () -> fill(key, entry));
        }
    }

    /**
     * Reads the entry's file and keeps its bytes, if the entry is still the one they were read for; then does the
     * same for an entry that replaced it meanwhile, whose own fill found this one under way and was dropped.
     */
    private void fill(String key, Entry entry) {
        for (Entry next = entry; next != null; next = replacedSince(key, next)) {
            fillOne(key, next);
        }
    }

    private Entry replacedSince(String key, Entry entry) {
        synchronized (entries) {
            Entry now = entries.get(key);
            return now != null && now != entry && wantsBytes(now) ? now : null;
        }
    }

    private void fillOne(String key, Entry entry) {
        if (!wantsBytes(entry)) {
            return;
        }
        Optional<Content> content;
        try {
            content = storage.read(entry.looked());
        } catch (IOException e) {
            return; // served from the file, as without the cache; the next revalidation tries again
        }
        if (content.isEmpty()) {
            return;
        }
        synchronized (entries) {
            if (entries.get(key) == entry) {
                put(key, new Entry(entry.looked(), entry.checkedNanos(), content.get()));
            }
        }
    }

    /** Stores {@code entry} unless the file system could not be asked; whether it was stored. */
    private boolean remember(String key, Entry entry) {
        if (entry.looked().kind() == Looked.Kind.UNCHECKED) {
            synchronized (entries) {
                Entry gone = entries.remove(key);
                if (gone != null) {
                    memory -= gone.charge(key);
                }
            }
            return false;
        }
        synchronized (entries) {
            put(key, entry);
        }
        return true;
    }

    /** Under the lock: replaces the entry and evicts the least recently used until the bound holds. */
    private void put(String key, Entry entry) {
        Entry old = entries.put(key, entry);
        if (old != null) {
            memory -= old.charge(key);
        }
        memory += entry.charge(key);
        for (Iterator<Map.Entry<String, Entry>> eldest = entries.entrySet().iterator();
                memory > settings.maxMemory() && eldest.hasNext(); ) {
            Map.Entry<String, Entry> victim = eldest.next();
            memory -= victim.getValue().charge(victim.getKey());
            eldest.remove();
        }
    }

    /** Runs {@code task} on a cache thread, unless one is already queued or running for {@code key}. */
    private void inBackground(String key, Runnable task) {
        if (!busy.add(key)) {
            return;
        }
        try {
            background.execute(() -> {
                try {
                    task.run();
                } finally {
                    busy.remove(key);
                }
            });
        } catch (RejectedExecutionException e) {
            busy.remove(key); // full or stopping: the entry ages past its grace and is resolved by a request
        }
    }

    /**
     * Stops the cache's threads, if it has any, and waits up to 5 s for their very end: an executor counts as
     * terminated while its last thread is still returning, and Tomcat, which looks for threads a stopped webapp
     * left running right after it stops, warned of a "memory leak" for a {@code sluice-cache} thread now and then
     * (4 of about 80 redeploys), with an empty stack: most likely such a thread.
     */
    @Override
    public void close() {
        if (ownThreads != null) {
            ownThreads.shutdownNow();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            try {
                ownThreads.awaitTermination(5, TimeUnit.SECONDS);
                if (ownThreads.getThreadFactory() instanceof JoinableThreads made) {
                    made.join(deadline);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
