package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Owns what transfers share: the read pool, the buffer pool under the memory budget, the stall timer and the
 * counters. One engine per servlet; {@link #close} ends every transfer still running.
 *
 * <p>The engine knows nothing of HTTP: it is handed an output stream, an open file and a list of segments.
 *
 * <h2>What embedders may use</h2>
 * The public API of this package is what code outside it may rely on:
 * <ul>
 *   <li>{@link #TransferEngine(EngineSettings)} and {@link #close()}: an engine with its own threads, and its stop;</li>
 *   <li>{@link #start(TransferRequest)}: send one body ({@link TransferRequest}, {@link Segment},
 *       {@link FileVersion}, {@link TransferLabel}), be told its end ({@link TransferListener}, {@link Outcome},
 *       {@link FileShrankException}, {@link StalledException}), and watch it ({@link Transfer#state()});</li>
 *   <li>{@link #metrics()}, {@link #countHandedOff}, {@link #settings()}, {@link #writeMode()}: the counters and
 *       what the engine was built with; {@link TransferEvent} is the flight-recorder event it commits.</li>
 * </ul>
 * Everything else (the read pool, the buffer pool, rate groups, the transfer's callbacks) is package-private: it
 * may change without notice.
 */
public final class TransferEngine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TransferEngine.class.getName());

    private final EngineSettings settings;
    private final BufferPool pool;
    private final Executor reads;
    private final ReadPool readPool;
    private final ScheduledExecutorService timer;
    /** The timer's thread, for {@link #close} to wait for its end. */
    private final JoinableThreads timerThreads;
    private final LongSupplier nanoClock;
    private final boolean byteBufferWrites;
    private final Scheduler scheduler;
    private final Set<Transfer> active = ConcurrentHashMap.newKeySet();
    private final AtomicLong activeCount = new AtomicLong();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder aborted = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final RateGroup globalRate;
    private final ClientRates clientRates;
    private final ClientRates userRates;
    private final LongAdder handedOff = new LongAdder();
    private final LongAdder readsStarted = new LongAdder();
    private final LongAdder bytesHandedOff = new LongAdder();
    private final TransferRecording.ParkedTime parkedTime = new TransferRecording.ParkedTime();
    /** Seconds from a transfer's start to its end. */
    private final Histogram durations = new Histogram(0.01, 0.1, 1, 10, 60, 600, 3600, 86400);
    /** Body bytes a transfer sent. */
    private final Histogram sizes = new Histogram(4096, 65536, 1 << 20, 16 << 20, 128 << 20, 1 << 30, 8L << 30,
            64L << 30);

    /** An engine with its own read threads and stall timer. */
    public TransferEngine(EngineSettings settings) {
        this.settings = settings;
        this.pool = newPool(settings, ChunkWriter.BYTE_BUFFER_WRITES);
        this.readPool = new ReadPool(settings.readThreads(), settings.maxReadThreads(), ReadPool.KEEP_ALIVE,
                StorageGauge.Clocks.system(), JoinableThreads.daemonFactory("sluice-read-"));
        this.reads = task -> readPool.execute(task, false);
        this.nanoClock = System::nanoTime;
        this.byteBufferWrites = ChunkWriter.BYTE_BUFFER_WRITES;
        this.timerThreads = JoinableThreads.daemon("sluice-timer-");
        this.timer = Executors.newSingleThreadScheduledExecutor(timerThreads);
        this.scheduler = (task, delay) -> timer.schedule(task, delay, TimeUnit.NANOSECONDS);
        long period = Math.max(50, Math.min(1000, settings.stallTimeout().toMillis() / 4));
        timer.scheduleWithFixedDelay(this::checkStalls, period, period, TimeUnit.MILLISECONDS);
        this.globalRate = globalRate(settings, nanoClock, scheduler);
        this.clientRates = keyedRates(settings.limitRatePerClient(), nanoClock, scheduler);
        this.userRates = keyedRates(settings.limitRatePerUser(), nanoClock, scheduler);
        this.mappedWindows = mappedWindows(MAP_WINDOW, nanoClock);
    }

    /** Runs a task after a delay: the engine's timer, or a test's hand-driven clock. */
    interface Scheduler {
        void schedule(Runnable task, long delayNanos);
    }

    /**
     * An engine whose reads run on {@code reads}, whose clock is {@code nanoClock} and whose timed tasks go to
     * {@code scheduler}, with no threads of its own: tests complete reads and fire timers by hand and call
     * {@link #checkStalls()} themselves.
     */
    TransferEngine(EngineSettings settings, Executor reads, LongSupplier nanoClock, boolean byteBufferWrites,
            Scheduler scheduler) {
        this(settings, reads, nanoClock, byteBufferWrites, scheduler,
                newPool(settings, byteBufferWrites));
    }

    /** As above, with the buffer pool given: for tests whose pool cannot allocate. */
    TransferEngine(EngineSettings settings, Executor reads, LongSupplier nanoClock, boolean byteBufferWrites,
            Scheduler scheduler, BufferPool pool) {
        this.settings = settings;
        this.scheduler = scheduler;
        this.byteBufferWrites = byteBufferWrites;
        this.pool = pool;
        this.reads = reads;
        this.readPool = null;
        this.timer = null;
        this.timerThreads = null;
        this.nanoClock = nanoClock;
        this.globalRate = globalRate(settings, nanoClock, scheduler);
        this.clientRates = keyedRates(settings.limitRatePerClient(), nanoClock, scheduler);
        this.userRates = keyedRates(settings.limitRatePerUser(), nanoClock, scheduler);
        this.mappedWindows = mappedWindows(MAP_WINDOW, nanoClock);
    }

    /**
     * Direct buffers only where the container can take them without a copy ({@code write(ByteBuffer)}); with
     * {@code mapped}, the pool's buffers serve the regions too short to map.
     */
    private static BufferPool newPool(EngineSettings settings, boolean byteBufferWrites) {
        return new BufferPool(settings.chunkSize(), settings.maxBufferMemory(),
                buffersAreDirect(settings.bufferKind(), byteBufferWrites));
    }

    /**
     * Whether the pool's buffers for {@code kind} are direct in this JVM: not for {@code heap}, and not where the
     * Servlet API has no {@code write(ByteBuffer)} (6.0), whatever the kind.
     */
    public static boolean buffersAreDirect(BufferKind kind) {
        return buffersAreDirect(kind, ChunkWriter.BYTE_BUFFER_WRITES);
    }

    private static boolean buffersAreDirect(BufferKind kind, boolean byteBufferWrites) {
        return kind != BufferKind.HEAP && byteBufferWrites;
    }

    private static RateGroup globalRate(EngineSettings settings, LongSupplier clock, Scheduler scheduler) {
        return settings.globalRate() > 0 ? new RateGroup(settings.globalRate(), clock, scheduler) : null;
    }

    /** One rate group per key ({@code limitRatePerClient}, {@code limitRatePerUser}), or none for a rate of 0. */
    private static ClientRates keyedRates(long bytesPerSecond, LongSupplier clock, Scheduler scheduler) {
        return bytesPerSecond > 0 ? new ClientRates(bytesPerSecond, clock, scheduler) : null;
    }

    public EngineSettings settings() {
        return settings;
    }

    BufferPool pool() {
        return pool;
    }

    /** What the reads report their times to: the read pool's, or one that measures nothing. */
    StorageGauge storageGauge() {
        return readPool == null ? StorageGauge.OFF : readPool.gauge();
    }

    /** Threads of the read pool alive now (not the first-read lane's); 0 for an engine without one. */
    int readThreads() {
        return readPool == null ? 0 : readPool.threads();
    }

    /** Whether file regions longer than a chunk are sent from mappings ({@code bufferKind=mapped}, Servlet 6.1). */
    boolean mapsFiles() {
        return settings.bufferKind() == BufferKind.MAPPED && byteBufferWrites;
    }

    /**
     * The largest chunk of a transfer that maps its file, unless {@code chunkSize} is larger. A mapped chunk holds
     * no buffer, only pages of the file that the kernel caches anyway, so its size costs no memory, and larger
     * chunks mean fewer hand-offs between read threads and writers: measured with one client on a cached 1 GiB
     * file, 4 MiB chunks used 25% less server CPU per byte than 256 KiB ones. A slow client's chunks stay small
     * all the same: the {@link ChunkSizer} sizes them by what its socket drains. A transfer under a speed limit
     * keeps {@code chunkSize}: the limit spaces chunks by their worth in time, and larger ones would come in
     * longer bursts.
     */
    static final int MAPPED_CHUNK = 4 * 1024 * 1024;

    int mappedChunkCeiling() {
        return Math.max(settings.chunkSize(), MAPPED_CHUNK);
    }

    /** Bytes one window of a file's mapping covers at most; see {@link MappedWindows}. */
    static final long MAP_WINDOW = 64L * 1024 * 1024;

    /**
     * Windows the engine keeps mapped at most. Each is one entry in the process's memory map (Linux allows 65,530
     * by default, {@code vm.max_map_count}), none of it memory of its own.
     */
    static final int MAX_WINDOWS = 1024;

    /** Address space the kept windows cover at most: 64 full windows, or many more of smaller files. */
    static final long MAX_MAPPED_BYTES = 4L * 1024 * 1024 * 1024;

    /** How long a window nobody reads stays in the cache. */
    static final Duration WINDOW_IDLE = Duration.ofSeconds(30);

    /** Not final only for {@link #withMapWindow}, which runs before any transfer. */
    private MappedWindows mappedWindows;

    /**
     * How a read thread starts a cold span's reads all at once ({@link PageAdvice}): the JVM's, also when the read
     * pool may grow ({@code maxReadThreads} above {@code readThreads}). Until 2026-12-06 a pool that may grow had
     * none, its threads giving the reads in flight, since advice on top had measured worse (64 read threads on the
     * benchmark's FUSE mount, 400 clients: 213 MB/s with advice against 247 without). That was the FUSE process's
     * own cost growing with the reads in flight (its heap, see {@code bench/slowfs.py}); with it kept, advice on
     * top moved more: 366 and 358 MB/s against 314 and 322 at 400 clients, 443 and 480 against 384 and 460 at 100;
     * at 20, 298 and 274 against 341 and 378, with ten times the small requests answered beside them (one round
     * each, alternating; {@code docs/performance.md}, "Slow storage").
     */
    PageAdvice pageAdvice() {
        return pageAdvice;
    }

    /** Not final only for {@link #withoutPageAdvice}, which runs before any transfer. */
    private PageAdvice pageAdvice = PageAdvice.system();

    /** How a read thread enters a span's pages in the page tables once they are read ({@link PageTouch}). */
    PageTouch pageTouch() {
        return pageTouch;
    }

    private final PageTouch pageTouch = new PageTouch();

    /**
     * For tests: no page advice, as in a JVM that does not open {@code java.nio} (the tests do), so that a cold
     * span's pieces are loaded by several read threads ({@link SpanLoad}). Call before any transfer.
     */
    TransferEngine withoutPageAdvice() {
        pageAdvice = PageAdvice.none("turned off by a test");
        return this;
    }

    /**
     * Pieces of spans asked for ({@link PageAdvice}) and not yet read, at most, over all transfers. Why a bound:
     * the storage is asked for every advised piece at once, and storage that answers each read late still has a
     * throughput of its own; past it, more reads in flight only queue there, and cost it more. Measured on the
     * benchmark's FUSE mount (its daemon a core of Python): with 8 read threads (up to 256 pieces in flight)
     * advice moved 1.3 to 1.5 times the bytes of loading piece by piece; with 64 read threads (up to 2,048), 0.82
     * to 0.88 times, while 64 threads loading one piece each moved the most. 64 pieces is that: 8 MiB in flight
     * (with it, 8 threads moved 1.2 to 1.4 times the bytes of piece by piece). Those runs paid the FUSE process's
     * heap per read (see {@link #pageAdvice}); since, 64 threads with advice under this bound moved the most. Each
     * span load keeps at most its share of the bound in flight ({@link #startSpanLoad}, see
     * {@code MappedChunkRead.loadAdvised}), so that the first loads do not take it all.
     */
    static final int ADVISED_PIECES = 64;

    /**
     * Bytes a span after one that came from the storage has at least, when its pieces are asked for at once: four
     * pieces of {@link PageAdvice#PIECE}, 512 KiB. A read thread waits once for the storage's latency per span, so
     * the span's size is the bytes one wait brings. Measured on the benchmark's FUSE mount (5 ms per read, 100 MB/s
     * per open file), Sluice alone, one round per cell, alternating with two pieces: {@code docs/performance.md},
     * "The FUSE process's heap, then four pieces a wait". Eight threads then keep up to 32 pieces in flight, within
     * {@link #ADVISED_PIECES}.
     */
    static final int STORAGE_SPAN = 4 * PageAdvice.PIECE;

    private final Semaphore advisedPieces = new Semaphore(ADVISED_PIECES);
    private final AtomicInteger spanLoads = new AtomicInteger();

    /** Permits for pieces in flight; see {@link #ADVISED_PIECES}. */
    Semaphore advisedPieces() {
        return advisedPieces;
    }

    /**
     * Counts a span load from the storage as started ({@link MappedChunkRead}, with or without advice); each must
     * be ended with {@link #endSpanLoad}.
     *
     * @return the span loads in progress, this one included: the advice permits are shared between them
     */
    int startSpanLoad() {
        return spanLoads.incrementAndGet();
    }

    void endSpanLoad() {
        spanLoads.decrementAndGet();
    }

    MappedWindows mappedWindows() {
        return mappedWindows;
    }

    private static MappedWindows mappedWindows(long windowBytes, LongSupplier clock) {
        return new MappedWindows(windowBytes, MAX_WINDOWS, MAX_MAPPED_BYTES, WINDOW_IDLE.toNanos(), clock);
    }

    /** For tests, before any transfer starts: windows small enough that a small file crosses several. */
    TransferEngine withMapWindow(long bytes) {
        this.mappedWindows = mappedWindows(bytes, nanoClock);
        return this;
    }

    /**
     * How chunks reach the container, for the start-up log: an operator of a Servlet 6.0 container (Tomcat 10.1,
     * Jetty ee10) sees why {@code bufferKind=direct} gave heap buffers.
     */
    public String writeMode() {
        return writeMode(true);
    }

    /**
     * The same for a container whose output streams may not write buffers as given ({@code mappingContainer}
     * false: Tomcat, which copies them), where {@code bufferKind=mapped} maps nothing.
     */
    public String writeMode(boolean mappingContainer) {
        if (mapsFiles() && !mappingContainer) {
            return "write(ByteBuffer) from direct buffers (bufferKind=mapped maps files only for output streams"
                    + " that write buffers as given: Jetty's on clear text)";
        }
        if (mapsFiles()) {
            return "write(ByteBuffer) from mapped files (regions longer than chunkSize, to output streams that"
                    + " write them as given: Jetty's on clear text) and direct buffers; "
                    + (pageAdvice.available() ? "pages missing from memory are read ahead a span at once"
                            : "pages missing from memory are read by several read threads (a span at once with"
                                    + " --add-opens=java.base/java.nio=ALL-UNNAMED)");
        }
        if (byteBufferWrites) {
            return "write(ByteBuffer) from " + (pool.direct() ? "direct" : "heap") + " buffers";
        }
        return "write(byte[]) from heap buffers (Servlet 6.0 API: no write(ByteBuffer))";
    }

    /**
     * Starts streaming {@code request}'s body. From a successful start on, the transfer owns the request's channel
     * (it is closed when the transfer ends) and its listener is told exactly once how it ended.
     *
     * @return the transfer, for watching it; empty when {@code maxTransfers} are already running: then nothing
     *         was started, and the caller still owns the channel and the response
     * @throws RuntimeException what {@code setWriteListener} throws (the request is not in async mode, or has a
     *         listener already): then, too, nothing was started and the caller still owns the channel
     */
    public Optional<Transfer> start(TransferRequest request) {
        if (!admit()) {
            return Optional.empty();
        }
        Transfer transfer = new Transfer(this, request);
        active.add(transfer);
        try {
            request.out().setWriteListener(transfer.writeListener());
        } catch (RuntimeException | Error e) { // e.g. not async, or a listener already set: nothing started
            transfer.abandon();
            if (active.remove(transfer)) {
                activeCount.decrementAndGet();
            }
            throw e;
        }
        return Optional.of(transfer);
    }

    /** Counts a new transfer in, unless the limit is reached: one atomic step, so the limit is never passed. */
    private boolean admit() {
        int max = settings.maxTransfers();
        for (;;) {
            long running = activeCount.get();
            if (max > 0 && running >= max) {
                return false;
            }
            if (activeCount.compareAndSet(running, running + 1)) {
                return true;
            }
        }
    }

    /**
     * Ends every running transfer and stops the engine's threads, waiting up to {@link #STOP_WAIT} for the reads
     * in progress: a container that looks for a web application's leftover threads when it stops it (Tomcat
     * does, and warns) should find none.
     */
    @Override
    public void close() {
        for (Transfer transfer : active) {
            transfer.shutdown();
        }
        mappedWindows.clear();
        if (readPool != null) {
            readPool.shutdown();
        }
        pageTouch.close();
        if (timer != null) {
            timer.shutdownNow();
        }
        try {
            long deadline = System.nanoTime() + STOP_WAIT.toNanos();
            if (readPool != null) {
                readPool.awaitTermination(deadline);
            }
            if (timer != null) {
                timer.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                timerThreads.join(deadline); // the executor is terminated before its thread has returned
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #close} waits for reads in progress (a read from a slow disk may take a while). */
    static final Duration STOP_WAIT = Duration.ofSeconds(5);

    public TransferMetrics metrics() {
        long queued = readPool == null ? 0 : readPool.queued();
        long readThreads = readPool == null ? 0 : readPool.threads();
        return new TransferMetrics(activeCount.get(), bytesSent.sum(), completed.sum(), aborted.sum(), failed.sum(),
                pool.bytesInUse(), pool.highWater(), pool.waits(), queued, readsStarted.sum(), handedOff.sum(), bytesHandedOff.sum(),
                settings.maxBufferMemory(), clientRateGroups(), userRateGroups(), mappedWindows.size(),
                readThreads, spanLoads.get(), parkedTime.sum(), durations.snapshot(), sizes.snapshot());
    }

    /**
     * Asks every transfer that waits for its socket whether it has waited past the stall timeout, and lets the
     * mappings nobody has read for a while go.
     */
    void checkStalls() {
        long now = nanoClock.getAsLong();
        for (Transfer transfer : active) {
            transfer.checkStall(now);
        }
        mappedWindows.expire();
    }

    /** Runs {@code task} after {@code delayNanos}, or now if the engine has stopped. */
    void schedule(Runnable task, long delayNanos) {
        try {
            scheduler.schedule(task, delayNanos);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    /** The shared rate groups a new transfer of {@code clientKey} and {@code userKey} belongs to; it must close them when it ends. */
    RateLimits rateLimits(Object clientKey, Object userKey, RateGroup.Waiter waiter) {
        return RateLimits.of(clientRates, clientKey, userRates, userKey, globalRate, waiter);
    }

    /** Clients that have a rate group now (with {@code limitRatePerClient}); for tests. */
    int clientRateGroups() {
        return clientRates == null ? 0 : clientRates.size();
    }

    /** Users that have a rate group now (with {@code limitRatePerUser}); for tests. */
    int userRateGroups() {
        return userRates == null ? 0 : userRates.size();
    }

    /** The group of {@code globalRate}, or {@code null}; for tests. */
    RateGroup globalRateGroup() {
        return globalRate;
    }

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    void write(ServletOutputStream out, ByteBuffer data) throws IOException {
        ChunkWriter.write(out, data, byteBufferWrites);
    }

    /**
     * Writes a mapped chunk whose index 0 is file position {@code start} of {@code channel}; offers its region to
     * the container when {@link FileRegions} are enabled.
     */
    void writeMapped(ServletOutputStream out, ByteBuffer data, FileChannel channel, long start) throws IOException {
        if (byteBufferWrites && FileRegions.enabled()) {
            FileRegions.write(out, data, channel, start, true);
        } else {
            ChunkWriter.write(out, data, byteBufferWrites);
        }
    }

    /**
     * Queues a read; {@code firstRead} marks a transfer's first, which goes to the {@link ReadPool}'s first-read
     * lane if that is idle, else ahead of the other reads in the queue. On one of the engine's own read threads
     * (not the lane), the read is instead run by this thread as soon as its current task returns (at most
     * {@link #MAX_CHAIN} in a row): the owner of a transfer usually runs on the thread whose read just completed,
     * and handing its next read to another thread would cost a wake-up and a context switch per chunk for
     * nothing. The cap sends a transfer that keeps its thread busy back to the queue, so the others' reads are
     * not starved, and a first read waiting in the queue ends every chain at once, so a new request waits for
     * one task of a running transfer, not for sixteen.
     */
    void read(Runnable read, boolean firstRead) {
        readsStarted.increment();
        if (readPool == null) {
            reads.execute(read);
            return;
        }
        ReadChain chain = chains.get();
        if (chain != null && chain.next == null && chain.length < MAX_CHAIN && !readPool.firstReadsWaiting()) {
            chain.next = read;
            return;
        }
        if (firstRead && readPool.tryLane(read)) { // not a chain: the lane must be free for the next first read
            return;
        }
        readPool.execute(() -> runChain(read), firstRead);
    }

    /**
     * Queues a helper of a read already under way (a share of a span, {@link SpanLoad}) with the rank of that
     * read, but only when a read thread can take it at once: never chained onto this thread, which is busy with
     * the read itself, and never on the first-read lane, which must stay free for new transfers.
     *
     * @return whether the helper was queued; false when no read thread is free for it now
     * @throws RejectedExecutionException once the engine stops
     */
    boolean readAlongside(Runnable helper, boolean firstRead) {
        if (readPool == null) {
            reads.execute(helper);
            return true;
        }
        return readPool.executeIfFree(helper, firstRead);
    }

    /**
     * Whether a read queued now would wait for a read thread: every thread is busy and the pool may not grow. A
     * transfer then keeps a span it must bring in from the storage to {@code chunkSize}
     * ({@link Transfer}'s {@code startSpanRead}), so that the threads turn over between all transfers. Counted
     * without a lock: a hint, not a promise.
     */
    boolean readThreadsBusy() {
        return readPool == null ? readThreadsBusyInTests.getAsBoolean() : !readPool.hasFreeThread();
    }

    /** What {@link #readThreadsBusy} says for an engine whose reads run on a test's executor. */
    void readThreadsBusyWhen(BooleanSupplier busy) {
        readThreadsBusyInTests = busy;
    }

    private volatile BooleanSupplier readThreadsBusyInTests = () -> false;

    static final int MAX_CHAIN = 16;

    /** The read a read thread runs next, instead of queueing it. */
    private static final class ReadChain {
        Runnable next;
        int length;
    }

    /** Per engine, so a read can only ever be chained onto a thread of the engine that owns it. */
    private final ThreadLocal<ReadChain> chains = new ThreadLocal<>();

    private void runChain(Runnable first) {
        ReadChain chain = new ReadChain();
        chains.set(chain);
        try {
            for (Runnable task = first; task != null; ) {
                chain.next = null;
                chain.length++;
                task.run();
                task = chain.next;
            }
        } finally {
            chains.remove();
            if (chain.next != null) { // the task threw after chaining a read: do not lose it
                Runnable orphan = chain.next;
                readPool.execute(() -> runChain(orphan), false);
            }
        }
    }

    /**
     * Runs a transfer's pass on the read executor, or here if the executor no longer takes work: the one way in
     * for wake-ups that arrive on a thread serving many transfers (the timer, a buffer or rate grant made by
     * another transfer's owner). A pass may block in the container, and the timer must stay free to fire the
     * others' timers; the read threads are many and already run passes when their reads complete. The same when
     * the executor cannot start a thread for it ({@link ReadPool#execute} throws an {@code Error}): the event is
     * already in the transfer's inbox, and a wake-up lost here would leave the transfer parked for good.
     */
    void wakeLater(Transfer transfer) {
        try {
            reads.execute(transfer::wake);
        } catch (RuntimeException | Error e) {
            transfer.wake();
        }
    }

    /**
     * Counts a body of {@code bytes} that the container sends by itself (Tomcat's sendfile) instead of a
     * transfer: the engine never sees it again, so it is counted apart from the transfers.
     */
    public void countHandedOff(long bytes) {
        handedOff.increment();
        bytesHandedOff.add(bytes);
    }

    void countSent(int bytes) {
        bytesSent.add(bytes);
    }

    void ended(Transfer transfer, TransferSummary summary) {
        if (active.remove(transfer)) {
            activeCount.decrementAndGet();
        }
        switch (summary.outcome()) {
            case COMPLETED -> completed.increment();
            case ABORTED -> aborted.increment();
            case FAILED -> failed.increment();
        }
        durations.observe(summary.durationNanos() / 1e9);
        sizes.observe(summary.bytesWritten());
    }

    TransferRecording.ParkedTime parkedTime() {
        return parkedTime;
    }

    /** Every transfer in flight now, as seen at this moment: for a live status page. */
    public List<TransferView> activeTransfers() {
        return active.stream().map(Transfer::view).toList();
    }

    void listenerFailed(RuntimeException e) {
        LOG.log(Level.WARNING, "transfer listener failed", e);
    }
}
