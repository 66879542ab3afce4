package dev.sluice.stream;

/**
 * How big the next chunk of one transfer should be: about what its socket drains in {@link #WINDOW_NANOS},
 * between a floor and the {@code chunkSize} setting, so that a slow client holds small buffers and a fast one
 * large ones.
 *
 * <h2>Why a drain rate, and not "did the socket park?"</h2>
 * Parking alone says little. A fast client on a fast network parks too, whenever the disk outruns it, and a
 * slow client looks fast for a moment after every wake-up, because the kernel's send buffer (megabytes on
 * Linux, autotuned) takes a burst long after the client stopped reading. Bytes over time, measured across whole
 * park cycles, is what the client really drains: the kernel's buffer only smooths it.
 *
 * <h2>The rule</h2>
 * <ul>
 *   <li>A new transfer starts at the floor: it knows nothing of its client yet, and a client that never reads
 *       should not have made it hold big buffers. Growth is like TCP's slow start: fast, but earned.</li>
 *   <li>Unless an earlier transfer to the same client earned a size ({@link #earned}): then it starts there, as
 *       proven, and measures from its first window on. The caller decides what "the same client" is (the
 *       servlet: the same keep-alive connection, whose history is this client's and no one else's). Without it,
 *       every medium file on a fast connection paid the slow start again, in 16 KiB chunks for its first
 *       megabytes. What it risks is bounded: a client that was fast and then stops reading holds at most
 *       {@code readAhead} chunks of its size until its first window shrinks them or the stall timeout ends it,
 *       and every pooled chunk still comes out of the shared budget ({@code maxBufferMemory}), which no
 *       transfer can exceed, whatever size it asks for: it waits for a buffer instead.</li>
 *   <li>Until its socket has pushed back once and drained again, a transfer grows only after it has sent
 *       {@link #UNPROVEN_BYTES}: that much the kernel's send buffer can take from a client that never reads
 *       (Linux autotunes it up to 4 MiB), so a faster start would make every new client look fast and leave
 *       the ones that then stop reading holding full-size buffers.</li>
 *   <li>Until then, every event the transfer reports ({@link #drained}: the socket took a written chunk;
 *       {@link #parked}: the socket refused more) closes a measuring window once it has lasted
 *       {@link #WINDOW_NANOS}. The window's drain rate gives the target: the bytes drained in one window,
 *       rounded down to a size class. Shrinking goes straight to the target; growing at most doubles per
 *       window.</li>
 *   <li>Once the socket has pushed back, a window ends only at a wake-up (the first {@link #drained} after a
 *       park), after {@link #SETTLED_NANOS} without one, or once the socket has taken {@link #UNPROVEN_BYTES}
 *       since it last pushed back. A wake-up finds the kernel's buffer partly empty,
 *       and the writes that refill it go as fast as the server can push, whatever the client reads: measured
 *       on their own they made slow clients look fast, and under load, when a refill spans many windows, grow
 *       to full-size buffers (1,000 clients at 200 KB/s held about 80 KiB of buffers each). A window from
 *       wake-up to wake-up holds the refill and the wait that paid for it, so its rate is the client's. A refill
 *       is at most what the kernel's buffer holds, so more than that without a push-back is the client
 *       draining, not a refill: without this exit, a fast download that happened to park once early sent its
 *       next {@code SETTLED_NANOS} (tens of megabytes on loopback, a whole medium file) at the floor.</li>
 *   <li>Time the transfer spent waiting for a read ({@link #readWaited}) is left out of the window's rate: the
 *       client could not drain what was not yet read. Counted in, it made a fast client on slow storage look as
 *       slow as the storage (on a FUSE mount adding 5 ms to every read, nine in ten downloads never once waited
 *       for their socket, yet their chunks stayed at 16 to 512 KiB), and a small chunk also keeps its reads
 *       small and its read-ahead short, so the storage's latency is hidden less. Time spent waiting for a
 *       buffer from the shared budget still counts: there, smaller chunks are what the budget needs.</li>
 *   <li>At the ceiling, a transfer whose socket has not refused data since the last window has nothing to
 *       decide (it cannot grow, and a socket that never pushes back is not slow), so it reads no clock per
 *       chunk.</li>
 * </ul>
 * Sizes are the pool's size classes: the floor times powers of two, and the ceiling itself.
 *
 * <p>Owner-confined: only the thread that owns the transfer calls it.
 */
final class ChunkSizer {

    /** The smallest chunk: small enough that a parked slow client costs a few tens of KiB, large enough to read well. */
    static final int FLOOR = 16 * 1024;

    /** The shortest measuring window, and the time a chunk should last on its socket. */
    static final long WINDOW_NANOS = 20_000_000L;

    /**
     * The longest window once the socket has pushed back: a socket that takes data this long without refusing
     * any is measured even though no wake-up ends the window.
     */
    static final long SETTLED_NANOS = 16 * WINDOW_NANOS;

    /** Bytes a socket may take with no client reading: Linux's default ceiling for the send buffer. */
    static final long UNPROVEN_BYTES = 4L * 1024 * 1024;

    private final int floor;
    private final int ceiling;
    private final boolean growsAtOnce;
    private int size;
    private long windowStartNanos;
    private long windowBytes;
    /** Of the current window's time, what the transfer spent waiting for reads ({@link #readWaited}). */
    private long windowReadWait;
    private boolean parkedInWindow;
    private long bytesSent;
    private boolean parkedOnce;
    private boolean drainedAfterPark;
    private boolean parkedSinceDrain;
    /** Bytes written since the socket last refused data. */
    private long bytesSincePushBack;
    /** Whether the transfer started at a size an earlier transfer to its client earned. */
    private final boolean provenByHistory;

    ChunkSizer(int ceiling, long nowNanos) {
        this(ceiling, nowNanos, false);
    }

    ChunkSizer(int ceiling, long nowNanos, boolean growsAtOnce) {
        this(ceiling, nowNanos, growsAtOnce, 0);
    }

    /**
     * A sizer whose chunks, once its client is proven, grow straight to the window's target instead of doubling
     * per window: for chunks that hold no buffer (mapped), where a client that only looked fast costs no memory.
     * It starts at {@code earlier}, the size an earlier transfer to the same client {@link #earned} (the largest
     * size class not above it and not above the ceiling), as a proven client; at the floor when {@code earlier}
     * is not above it (0: nothing known).
     */
    ChunkSizer(int ceiling, long nowNanos, boolean growsAtOnce, int earlier) {
        this.growsAtOnce = growsAtOnce;
        this.ceiling = ceiling;
        this.floor = floorFor(ceiling);
        this.size = earlier > floor ? classBelow(earlier) : floor;
        this.provenByHistory = size > floor;
        this.windowStartNanos = nowNanos;
    }

    /** The smallest size class for a ceiling of {@code chunkSize}. */
    static int floorFor(int chunkSize) {
        return Math.min(FLOOR, chunkSize);
    }

    /** The size class that holds {@code bytes}: the smallest class not below it, and never above the ceiling. */
    static int classFor(long bytes, int chunkSize) {
        int size = floorFor(chunkSize);
        while (size < bytes && size < chunkSize) {
            size = (int) Math.min((long) size * 2, chunkSize);
        }
        return size;
    }

    int size() {
        return size;
    }

    /**
     * What this transfer proved its client drains: the current size once the client is proven (its socket pushed
     * back and drained, it took more than a kernel buffer holds, or an earlier transfer proved it), else 0. A
     * later transfer to the same client may start there.
     */
    int earned() {
        return proven() ? size : 0;
    }

    private boolean proven() {
        return provenByHistory || drainedAfterPark || bytesSent >= UNPROVEN_BYTES;
    }

    /** The buffer for a read of at most {@code remaining} bytes: the current size, or less for a short tail. */
    int bufferFor(long remaining) {
        return remaining >= size ? size : classFor(remaining, size);
    }

    /** Whether {@link #drained} needs the clock: only when the window could change the size. */
    boolean needsClock() {
        return size < ceiling || parkedInWindow;
    }

    /** {@code bytes} were handed to the socket. */
    void written(long bytes) {
        windowBytes += bytes;
        bytesSent += bytes;
        bytesSincePushBack += bytes;
    }

    /**
     * The transfer waited {@code nanos} for a read, not for its socket: the current window's drain rate leaves that
     * time out. The window still closes by the clock, so that a client faster than the storage (all of whose
     * time is such waits) is measured too: as draining all it was given at once.
     */
    void readWaited(long nanos) {
        windowReadWait += nanos;
    }

    /** The socket took the last chunk written (with or without parking first). */
    void drained(long nowNanos) {
        drainedAfterPark |= parkedOnce;
        boolean wakeUp = parkedSinceDrain;
        parkedSinceDrain = false;
        if (!parkedOnce || wakeUp || bytesSincePushBack >= UNPROVEN_BYTES
                || nowNanos - windowStartNanos >= SETTLED_NANOS) {
            closeWindowIfDue(nowNanos);
        }
    }

    /** The socket refused more data: the transfer parks until it drains. */
    void parked(long nowNanos) {
        parkedInWindow = true;
        parkedSinceDrain = true;
        bytesSincePushBack = 0;
        if (!parkedOnce) {
            parkedOnce = true;
            closeWindowIfDue(nowNanos);
        }
    }

    private void closeWindowIfDue(long nowNanos) {
        long elapsed = nowNanos - windowStartNanos;
        if (elapsed < WINDOW_NANOS) {
            return;
        }
        long clientNanos = elapsed - windowReadWait;
        int target = clientNanos <= 0 ? ceiling : classBelow((double) windowBytes * WINDOW_NANOS / clientNanos);
        size = target < size ? target : proven() ? (growsAtOnce ? target : Math.min(target, grown(size))) : size;
        windowStartNanos = nowNanos;
        windowBytes = 0;
        windowReadWait = 0;
        parkedInWindow = false;
    }

    /** The largest size class not above {@code bytes}, or the floor. */
    private int classBelow(double bytes) {
        if (bytes >= ceiling) {
            return ceiling;
        }
        int size = floor;
        while (size * 2L <= bytes && size * 2L < ceiling) {
            size *= 2;
        }
        return size;
    }

    private int grown(int current) {
        return (int) Math.min((long) current * 2, ceiling);
    }
}
