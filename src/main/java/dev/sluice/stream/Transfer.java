package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.io.IOUtils;

/**
 * Streams one response body: the servlet form of "write while the socket takes data, park when it does not,
 * resume when it is writable, clean up at once when the client goes away".
 *
 * <h2>One owner at a time</h2>
 * Seven kinds of thread poke a transfer: the container ({@link #onWritePossible}, {@link #onError}), the read pool
 * (a chunk was read), whichever thread releases a buffer (a buffer was granted), the stall timer, the throttle
 * timer (the next chunk's time has come), whichever thread lets a shared rate group grant a chunk
 * ({@link #rateGranted}), and engine shutdown. None of them touches the transfer's state directly. Each one posts
 * an event to the inbox and then calls {@link #wake}. {@code wake} moves the state from a parked state to {@link State#PROCESSING} with a
 * compare-and-set. The single thread that wins the CAS becomes the owner and runs {@link #process} passes until
 * it parks again. An event that arrives while an owner is running only flips the state to
 * {@link State#PROCESSING_AGAIN}, and the owner then runs one more pass. So:
 * <ul>
 *   <li>two write loops never run at once, and everything below "owner-confined" needs no lock: the CAS on
 *       {@code state} hands it from one owner to the next with a happens-before edge;</li>
 *   <li>a read that completes synchronously on the owner's own thread (a direct executor, a cached read) does
 *       not recurse: its {@code wake} sees {@code PROCESSING} and returns, and the owner loops;</li>
 *   <li>no wake-up is lost: the event is in the inbox before the state is read, and an owner can only park with
 *       a CAS from {@code PROCESSING}, which fails when an event has arrived since its last pass.</li>
 * </ul>
 *
 * <h2>Buffers</h2>
 * The transfer holds at most {@code readAhead} pooled buffers (two while its socket refuses data): the one being
 * read, the ones read and waiting, and the one the container is writing. Their size follows the client: a
 * {@link ChunkSizer} measures how fast the socket drains, so a slow client holds a few small buffers and a
 * fast one large ones. Servlet 6.1 allows the container to use a written buffer until the next
 * {@code isReady()} returns true, so a chunk goes back to the pool only then. If the transfer ends while the
 * container may still hold a chunk, that chunk is retired instead of reused.
 *
 * <p>With {@code bufferKind=mapped}, a file region longer than a chunk is sent as slices of the file's mapping
 * instead ({@link FileWindows}): they count against the read-ahead like buffers, but hold no pool memory and go
 * back to nobody. Their bytes are copied when the container writes them, so the file's size is checked once more
 * before the body's last byte ({@link #fileStillHoldsTheMappedBytes}).
 */
public final class Transfer implements WriteListener, BufferPool.Waiter, RateGroup.Waiter {

    /** Where a transfer stands. Parked states hold no thread; terminal states are final. */
    public enum State {
        /** Listener registered; waiting for the container's first {@code onWritePossible}. */
        STARTING,
        /** One thread owns the transfer and runs {@code process()}: it alone touches the output and the chunks. */
        PROCESSING,
        /** Owned, and an event arrived since the pass began: the owner must run another pass before parking. */
        PROCESSING_AGAIN,
        /** Parked: {@code isReady()} returned false. The container's {@code onWritePossible} resumes it. */
        WAITING_FOR_SOCKET,
        /** Parked: the socket takes data, the next chunk is being read. The read's completion resumes it. */
        WAITING_FOR_READ,
        /** Parked: the shared buffer budget is spent. A buffer granted by the pool resumes it. */
        WAITING_FOR_BUFFER,
        /**
         * Parked: over its speed limit. The throttle's timer resumes it when the next chunk's time has come, or a
         * shared rate group ({@code globalRate}, {@code limitRatePerClient}) when it grants the next chunk.
         */
        WAITING_FOR_THROTTLE,
        /** Ended: every byte was written and the container accepted it. */
        COMPLETED,
        /** Ended: the client went away, a write failed, the client stalled, or the engine shut down. */
        ABORTED,
        /** Ended: the file could not be read, or shrank below the promised length. */
        FAILED;

        public boolean isTerminal() {
            return this == COMPLETED || this == ABORTED || this == FAILED;
        }

        static State of(Outcome outcome) {
            return switch (outcome) {
                case COMPLETED -> COMPLETED;
                case ABORTED -> ABORTED;
                case FAILED -> FAILED;
            };
        }
    }

    private sealed interface Event {
    }

    private record WritePossible() implements Event {
    }

    /** A chunk read into a pooled buffer, or mapped: a slice of the file's mapping ending at {@code fileEnd}. */
    private record ReadDone(ByteBuffer buffer, Source source, long fileEnd) implements Event {
    }

    /** A read failed; {@code buffer} is its pooled buffer, {@code null} for a mapped read. */
    private record ReadFailed(ByteBuffer buffer, Throwable cause) implements Event {
    }

    private record Granted(ByteBuffer buffer) implements Event {
    }

    private record Failure(Outcome outcome, Throwable cause) implements Event {
    }

    private record Stalled() implements Event {
    }

    private record ThrottleElapsed() implements Event {
    }

    private record RateGranted() implements Event {
    }

    private static final Event WRITE_POSSIBLE = new WritePossible();
    private static final Event STALLED = new Stalled();
    private static final Event THROTTLE_ELAPSED = new ThrottleElapsed();
    private static final Event RATE_GRANTED = new RateGranted();

    /** Where a chunk's bytes live, which says what to do with it once the container is done with it. */
    private enum Source {
        /** A buffer of the pool: held against {@code readAhead}, returned to the pool. */
        POOL,
        /** A slice of the file's mapping: held against {@code readAhead}, left to the collector. */
        MAPPING,
        /** A literal segment's bytes (or the split-off last byte): held against nothing. */
        LITERAL
    }

    /** A chunk on its way to the socket; {@code fileEnd} is where a mapped chunk ends in the file, else 0. */
    private record Chunk(ByteBuffer data, Source source, long fileEnd) {

        Chunk(ByteBuffer data, Source source) {
            this(data, source, 0);
        }

        boolean pooled() {
            return source == Source.POOL;
        }

        boolean held() {
            return source != Source.LITERAL;
        }
    }

    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final ConcurrentLinkedQueue<Event> inbox = new ConcurrentLinkedQueue<>();
    private final TransferEngine engine;
    private final BufferPool pool;
    private final ServletOutputStream out;
    private final FileChannel channel;
    private final FileVersion fileVersion;
    private final List<Segment> segments;
    private final TransferListener listener;
    private final int readAhead;
    private final Throttle throttle;
    private final RateLimits rateLimits;
    private final ChunkSizer sizer;
    /** The largest chunk: {@code chunkSize}, or larger for a transfer that maps its file (see the engine). */
    private final int chunkCeiling;
    private final TransferRecording recording;

    /** When the socket stopped taking data, for the stall timer; 0 while it takes data. */
    private volatile long blockedSinceNanos;

    // Owner-confined: read and written only by the thread that owns the transfer (see the class comment).
    private final ArrayDeque<Chunk> ready = new ArrayDeque<>();
    private int segmentIndex;
    private long segmentOffset;
    private long bytesLeft;
    private long bytesWritten;
    private long bytesScheduled;
    private boolean throttleTimerSet;
    private Chunk inContainer;
    private ByteBuffer spare;
    /** Pooled buffers and mapped slices held: being read, read, or in the container. */
    private int chunksHeld;
    /** The file's mappings, taken on the first mapped read; used by the reads only (see {@link FileWindows}). */
    private FileWindows windows;
    /** The end of the furthest mapped chunk written, checked against the file's size before the last write. */
    private long mappedEnd;
    private boolean readInFlight;
    private boolean readsStarted;
    private boolean waitingForBuffer;
    private boolean socketBlocked;
    private boolean lastByteSplit;
    private boolean flushBeforeLastByte;
    private Outcome endOutcome;
    private Throwable endCause;

    Transfer(TransferEngine engine, ServletOutputStream out, FileChannel channel, FileVersion fileVersion,
            List<Segment> segments, Object clientKey, TransferLabel label, TransferListener listener) {
        this.engine = engine;
        this.pool = engine.pool();
        this.out = out;
        this.channel = channel;
        this.fileVersion = fileVersion;
        this.segments = List.copyOf(segments);
        this.listener = listener;
        this.readAhead = engine.settings().readAhead();
        this.throttle = new Throttle(engine.settings().limitRate(), engine.settings().limitRateAfter());
        this.bytesLeft = this.segments.stream().mapToLong(Segment::length).sum();
        this.rateLimits = engine.rateLimits(clientKey, this);
        // A speed limit spaces chunks by their worth in time: larger chunks would make it burstier.
        boolean unlimited = !throttle.limits() && !rateLimits.limits();
        boolean mapsFile = this.segments.stream().anyMatch(this::mapped);
        this.chunkCeiling = unlimited && mapsFile ? engine.mappedChunkCeiling() : engine.settings().chunkSize();
        this.sizer = new ChunkSizer(chunkCeiling, engine.nanoTime(), mapsFile);
        this.recording = new TransferRecording(label, engine::nanoTime);
    }

    /** The current state, for metrics and tests; stale as soon as it is read. */
    public State state() {
        return state.get();
    }

    // ---------------------------------------------------------------- events (any thread)

    @Override
    public void onWritePossible() {
        post(WRITE_POSSIBLE);
    }

    @Override
    public void onError(Throwable cause) {
        post(new Failure(Outcome.ABORTED, cause));
    }

    void readCompleted(ByteBuffer buffer) {
        post(new ReadDone(buffer, Source.POOL, 0));
    }

    void mappedReadCompleted(MappedByteBuffer chunk, long fileEnd) {
        post(new ReadDone(chunk, Source.MAPPING, fileEnd));
    }

    void readFailed(ByteBuffer buffer, Throwable cause) {
        post(new ReadFailed(buffer, cause));
    }

    /**
     * A buffer from the pool, on the thread that released one. The owner's pass runs on the engine's executor
     * rather than here: the releasing thread may itself be an owner in mid-pass, and running this transfer's
     * pass inline would nest one transfer's loop inside another's.
     */
    @Override
    public void granted(ByteBuffer buffer) {
        inbox.add(new Granted(buffer));
        engine.wakeLater(this);
    }

    /**
     * A shared rate group granted the chunk this transfer waits to send, on the thread that granted it (a group's
     * timer, or another transfer's owner): as with {@link #granted}, the pass runs on the engine's executor so one
     * transfer's loop never runs nested in another's.
     */
    @Override
    public void rateGranted() {
        inbox.add(RATE_GRANTED);
        engine.wakeLater(this);
    }

    /** Called by the stall timer: ends the transfer if the socket has taken nothing for the stall timeout. */
    void checkStall(long nowNanos) {
        long since = blockedSinceNanos;
        if (since != 0 && nowNanos - since >= engine.settings().stallTimeout().toNanos()) {
            post(STALLED);
        }
    }

    /** Undoes the constructor's joining of rate groups, when the container refused the listener. */
    void abandon() {
        rateLimits.close();
    }

    /** Ends the transfer because the engine stops. */
    void shutdown() {
        post(new Failure(Outcome.ABORTED, new IOException("server stopping")));
    }

    private void post(Event event) {
        inbox.add(event);
        wake();
    }

    /** Runs the transfer on this thread if it is parked; otherwise makes the current owner look again. */
    void wake() {
        for (;;) {
            State s = state.get();
            if (s.isTerminal()) {
                releaseLateEvents();
                return;
            }
            if (s == State.PROCESSING) {
                if (state.compareAndSet(s, State.PROCESSING_AGAIN)) {
                    return;
                }
            } else if (s == State.PROCESSING_AGAIN) {
                return;
            } else if (state.compareAndSet(s, State.PROCESSING)) {
                run();
                return;
            }
        }
    }

    // ---------------------------------------------------------------- the owner

    private void run() {
        recording.resumed();
        for (;;) {
            State next;
            try {
                next = process();
            } catch (RuntimeException | Error e) {
                fail(Outcome.FAILED, e);
                next = State.of(endOutcome); // an end recorded before the throw stands
            }
            if (next.isTerminal()) {
                finish(next);
                return;
            }
            recording.parking(next); // before the CAS: after it, another thread may own the transfer
            if (state.compareAndSet(State.PROCESSING, next)) {
                return;
            }
            state.set(State.PROCESSING);
        }
    }

    /** One pass: apply the events, then write while the socket takes data and chunks are ready. */
    private State process() {
        for (Event event; (event = inbox.poll()) != null; ) {
            apply(event);
        }
        for (;;) {
            requestReads();
            if (endOutcome != null) {
                return State.of(endOutcome);
            }
            if (socketBlocked) {
                return State.WAITING_FOR_SOCKET;
            }
            boolean writable;
            try {
                writable = out.isReady();
            } catch (RuntimeException e) {
                return containerFailed(e);
            }
            if (!writable) {
                socketBlocked = true;
                long now = engine.nanoTime();
                blockedSinceNanos = Math.max(1, now);
                sizer.parked(now);
                return State.WAITING_FOR_SOCKET;
            }
            if (inContainer != null) {
                if (sizer.needsClock()) {
                    sizer.drained(engine.nanoTime());
                }
                recycle(inContainer);
                inContainer = null;
                requestReads();
                if (endOutcome != null) {
                    return State.of(endOutcome);
                }
            }
            if (flushBeforeLastByte) {
                flushBeforeLastByte = false;
                try {
                    out.flush();
                } catch (IOException | RuntimeException e) {
                    return containerFailed(e);
                }
                continue; // the next isReady() says when the flush is done
            }
            if (bytesLeft == 0) {
                return State.COMPLETED;
            }
            Chunk chunk = ready.peek();
            if (chunk == null) {
                return waitingForBuffer ? State.WAITING_FOR_BUFFER : State.WAITING_FOR_READ;
            }
            int length = chunk.data().remaining();
            if (!lastByteSplit) { // the last byte's time and rate were paid with the rest of its chunk
                if (throttleTimerSet) {
                    return State.WAITING_FOR_THROTTLE;
                }
                long delay = throttle.limits() ? throttle.delayNanos(bytesWritten, length, engine.nanoTime()) : 0;
                if (delay > 0) {
                    throttleTimerSet = true;
                    engine.schedule(() -> post(THROTTLE_ELAPSED), delay);
                    return State.WAITING_FOR_THROTTLE;
                }
                if (rateLimits.limits() && !rateLimits.permit(length)) {
                    return State.WAITING_FOR_THROTTLE; // a group queued the chunk; its grant resumes the transfer
                }
            }
            ready.poll();
            mappedEnd = Math.max(mappedEnd, chunk.fileEnd());
            if (!lastByteSplit && length == bytesLeft && length > 1) {
                splitLastByte(chunk);
                length--;
            }
            if (length == bytesLeft && mappedEnd > 0 && !fileStillHoldsTheMappedBytes()) {
                recycle(chunk); // never written: a pooled one goes back to the pool
                return State.FAILED;
            }
            inContainer = chunk;
            try {
                engine.write(out, chunk.data());
            } catch (IOException | RuntimeException e) {
                return containerFailed(e);
            }
            flushBeforeLastByte = lastByteSplit && bytesLeft - length == 1;
            bytesLeft -= length;
            bytesWritten += length;
            sizer.written(length);
            engine.countSent(length);
        }
    }

    /**
     * Splits the body's last byte off its last chunk, so the body ends with a one-byte write made only once the
     * container has sent everything before it: the rest of the chunk is written, then flushed, and the last byte
     * goes out only when {@code isReady()} says the flush is done. Speed limits see the chunk whole: the last
     * byte goes without waiting for a throttle or a rate group.
     *
     * <p>Why: the write that reaches the Content-Length makes the container close the response (Servlet 5.7), and
     * Tomcat 11's HTTP/2 stream ends with a <em>blocking</em> flush ({@code StreamOutputBuffer.end()} calls
     * {@code flush(true)}) inside that same {@code write()}. When the non-blocking part of that write has just
     * run out of flow-control window, it has registered a non-blocking wait for the window, and the blocking
     * flush's wait throws {@code IllegalStateException: ... Already waiting}: the download is lost. Ending
     * with one byte after a drained flush leaves Tomcat's blocking flush one byte to send and no wait pending.
     * That flush still blocks the writing thread if the window is exactly spent at that moment, until the client
     * reopens it (Tomcat's stream and connection write timeouts bound the wait). On other containers the split
     * costs one small write at the end of each download.
     */
    private void splitLastByte(Chunk last) {
        lastByteSplit = true;
        ByteBuffer data = last.data();
        int end = data.limit();
        ByteBuffer lastByte = ByteBuffer.allocate(1).put(0, data.get(end - 1));
        data.limit(end - 1);
        ready.addFirst(new Chunk(lastByte, Source.LITERAL));
    }

    /**
     * Before the write that ends the body, after the container has sent every byte before it: whether the file
     * still holds every mapped byte sent. A mapped chunk's bytes are copied when the container writes them, not
     * when they were read, and a file truncated in between leaves zeros for the rest of its last page. Each
     * mapped read checks the size first, so a file that shrinks mid-body fails its next read; this check catches
     * a shrink after the last read, which would otherwise complete a body that may hold zeros. It fails the
     * transfer one byte short of its length, and the client sees a broken download.
     */
    private boolean fileStillHoldsTheMappedBytes() {
        try {
            long size = channel.size();
            if (size >= mappedEnd) {
                return true;
            }
            fail(Outcome.FAILED, new FileShrankException(size));
        } catch (IOException e) {
            fail(Outcome.FAILED, e);
        }
        return false;
    }

    /**
     * The container's output threw: the connection is gone or the container has ended the request on its own.
     * Tomcat, for one, completes and recycles a request whose {@code onError} returned without completing it,
     * so an owner that was running elsewhere meets an {@code IllegalStateException} instead of an
     * {@code IOException}. Either way the client is gone: the transfer is aborted, not failed.
     */
    private State containerFailed(Exception e) {
        fail(Outcome.ABORTED, e);
        return State.ABORTED;
    }

    private void apply(Event event) {
        if (event instanceof WritePossible) {
            socketBlocked = false;
            blockedSinceNanos = 0;
        } else if (event instanceof ReadDone done) {
            readInFlight = false;
            ready.add(new Chunk(done.buffer(), done.source(), done.fileEnd()));
        } else if (event instanceof ReadFailed failed) {
            readInFlight = false;
            chunksHeld--;
            if (failed.buffer() != null) {
                pool.release(failed.buffer());
            }
            fail(Outcome.FAILED, failed.cause());
        } else if (event instanceof Granted granted) {
            waitingForBuffer = false;
            chunksHeld++;
            spare = granted.buffer();
        } else if (event instanceof Failure failure) {
            fail(failure.outcome(), failure.cause());
        } else if (event instanceof ThrottleElapsed) {
            throttleTimerSet = false;
        } else if (event instanceof RateGranted) {
            rateLimits.granted();
        } else if (event instanceof Stalled && socketBlocked) {
            fail(Outcome.ABORTED, new StalledException(engine.settings().stallTimeout()));
        }
    }

    /**
     * Keeps the read-ahead full: one read in flight at a time (so chunks arrive in order and literal segments
     * can be queued between them), and no more than {@link #readAheadNow()} pooled buffers held. Each buffer
     * is sized by the {@link ChunkSizer} when it is asked for.
     */
    private void requestReads() {
        while (!readInFlight && endOutcome == null && segmentIndex < segments.size()) {
            Segment segment = segments.get(segmentIndex);
            long remaining = segment.length() - segmentOffset;
            if (remaining == 0) {
                segmentIndex++;
                segmentOffset = 0;
                continue;
            }
            if (segment instanceof Segment.Literal literal) {
                ready.add(new Chunk(literal.bytes().duplicate(), Source.LITERAL));
                segmentOffset = remaining;
                bytesScheduled += remaining;
                continue;
            }
            Segment.FileRegion region = (Segment.FileRegion) segment;
            boolean mapped = mapped(region);
            ByteBuffer buffer = spare;
            if (mapped) {
                if (chunksHeld - (buffer == null ? 0 : 1) >= readAheadNow()) {
                    return;
                }
                if (buffer != null) { // granted for a pooled read that a mapped region now follows
                    chunksHeld--;
                    pool.release(buffer);
                    buffer = null;
                }
                chunksHeld++;
            } else if (buffer == null) {
                if (waitingForBuffer || chunksHeld >= readAheadNow()) {
                    return;
                }
                buffer = pool.acquire(Math.min(sizer.bufferFor(remaining), engine.settings().chunkSize()), this);
                if (buffer == null) {
                    waitingForBuffer = true;
                    return;
                }
                chunksHeld++;
            }
            spare = null;
            long position = region.position() + segmentOffset;
            long length = Math.min(mapped ? sizer.bufferFor(remaining) : buffer.capacity(), remaining);
            if (mapped) {
                long windowBytes = engine.mappedWindows().windowBytes();
                length = Math.min(length, windowBytes - position % windowBytes); // a chunk never spans two windows
            }
            if (throttle.limits() && bytesScheduled < throttle.freeBytes()) {
                length = Math.min(length, throttle.freeBytes() - bytesScheduled); // full speed ends at a chunk's end
            }
            readInFlight = true;
            boolean firstRead = !readsStarted;
            readsStarted = true;
            segmentOffset += length;
            bytesScheduled += length;
            try {
                engine.read(mapped ? mappedRead(position, (int) length)
                        : new ChunkRead(this, channel, position, (int) length, buffer), firstRead);
            } catch (RejectedExecutionException e) {
                readInFlight = false;
                chunksHeld--;
                if (buffer != null) {
                    pool.release(buffer);
                }
                fail(Outcome.ABORTED, new IOException("server stopping", e));
            }
        }
    }

    /** Whether {@code segment} is sent from the file's mapping: a file region longer than one chunk, when mapping. */
    private boolean mapped(Segment segment) {
        return engine.mapsFiles() && segment instanceof Segment.FileRegion region
                && region.length() > engine.settings().chunkSize();
    }

    private MappedChunkRead mappedRead(long position, int length) {
        if (windows == null) {
            windows = new FileWindows(channel, fileVersion, engine.mappedWindows());
        }
        return new MappedChunkRead(this, windows, position, length);
    }

    /**
     * How many chunks (pooled buffers or mapped slices) the transfer may hold now: {@code readAhead}, but at most two (the chunk the
     * container holds and the one that goes next) while a transfer below full chunk size waits for its
     * socket. A slow client is parked most of the time, and more chunks would only sit in memory until it
     * reads; its next read starts when the socket drains, so it reads chunks only as fast as it takes them.
     * A transfer at full size keeps its whole read-ahead: its client is fast, and a deep read-ahead hides a
     * slow disk from it.
     */
    private int readAheadNow() {
        return socketBlocked && sizer.size() < chunkCeiling ? Math.min(readAhead, 2) : readAhead;
    }

    private void fail(Outcome outcome, Throwable cause) {
        if (endOutcome == null) {
            endOutcome = outcome;
            endCause = cause;
        }
    }

    private void recycle(Chunk chunk) {
        if (chunk.held()) {
            chunksHeld--;
        }
        if (chunk.pooled()) {
            pool.release(chunk.data());
        }
    }

    /**
     * Ends the transfer: terminal state first (so late events know to clean up after themselves), then the
     * channel, the buffers, the counters, and the listener, exactly once.
     */
    private void finish(State terminal) {
        state.set(terminal);
        Outcome outcome = terminal == State.COMPLETED ? Outcome.COMPLETED : endOutcome;
        if (waitingForBuffer) {
            pool.cancel(this);
        }
        rateLimits.close();
        if (inContainer != null && inContainer.pooled()) {
            if (terminal == State.COMPLETED) {
                pool.release(inContainer.data());
            } else {
                pool.retire(inContainer.data());
            }
        }
        inContainer = null;
        for (Chunk chunk; (chunk = ready.poll()) != null; ) {
            if (chunk.pooled()) {
                pool.release(chunk.data());
            }
        }
        if (spare != null) {
            pool.release(spare);
            spare = null;
        }
        if (!readInFlight) {
            IOUtils.closeQuietly(channel);
        }
        releaseLateEvents();
        engine.ended(this, outcome);
        recording.ended(outcome, bytesWritten);
        try {
            listener.ended(outcome, bytesWritten, outcome == Outcome.COMPLETED ? null : endCause);
        } catch (RuntimeException e) {
            engine.listenerFailed(e);
        }
    }

    /**
     * After the end, events still arrive: the read that was in flight, a buffer granted just before the waiter
     * was cancelled. Their buffers go straight back, and the read's return means the channel can close without
     * making a container thread wait for a disk read. Safe on any thread: each event is polled once.
     */
    private void releaseLateEvents() {
        for (Event event; (event = inbox.poll()) != null; ) {
            if (event instanceof ReadDone done) {
                if (done.source() == Source.POOL) {
                    pool.release(done.buffer());
                }
                IOUtils.closeQuietly(channel);
            } else if (event instanceof ReadFailed failed) {
                if (failed.buffer() != null) {
                    pool.release(failed.buffer());
                }
                IOUtils.closeQuietly(channel);
            } else if (event instanceof Granted granted) {
                pool.release(granted.buffer());
            }
        }
    }
}
