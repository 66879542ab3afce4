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
 * resume when it is writable, clean up at once when the client goes away". Started by
 * {@link TransferEngine#start}; from outside, a transfer can only be watched ({@link #state}).
 *
 * <h2>Who owns it: {@link Ownership}</h2>
 * Several kinds of thread poke a transfer: the container (its write listener), the read pool (a chunk was read),
 * the buffer pool (a buffer was granted), the engine's timer (a speed limit's wait is over, the client stalled), a
 * shared rate group (the next chunk may go), and engine shutdown. None of them touches the transfer's work state.
 * Each posts an event to the inbox and then wakes the transfer. A wake moves {@link Ownership} from
 * {@code PARKED} to {@code RUNNING} with a compare-and-set; the single thread that wins it becomes the owner and
 * runs passes until the transfer parks again. An event that arrives while an owner runs only flips the ownership
 * to {@code RUNNING_AGAIN}, and the owner then runs one more pass. So:
 * <ul>
 *   <li>two write loops never run at once, and the work state needs no lock: the compare-and-set on the ownership
 *       hands it from one owner to the next with a happens-before edge;</li>
 *   <li>a read that completes synchronously on the owner's own thread (a direct executor, a cached read) does
 *       not recurse: its wake sees {@code RUNNING} and returns, and the owner loops;</li>
 *   <li>no wake-up is lost: the event is in the inbox before the ownership is read, and an owner parks only with a
 *       compare-and-set from {@code RUNNING}, which fails when an event has arrived since its last pass.</li>
 * </ul>
 *
 * <h2>Which thread runs a pass</h2>
 * The container's callbacks and shutdown run the pass on their own thread. Every other wake-up (a buffer grant, a
 * rate grant, the end of a speed limit's wait, a stall) is handed to the engine's executor
 * ({@link TransferEngine#wakeLater}): those arrive on a thread that serves many transfers (the timer, or another
 * transfer's owner releasing a buffer), and a pass may block in the container (Tomcat's HTTP/2 ends a body with a
 * blocking flush), so a pass run there would hold up every other transfer's timers or nest one transfer's loop in
 * another's. The timer only schedules.
 *
 * <h2>Where the work stands</h2>
 * Owner-confined, in four small enums read as one transition table by {@link #nextStep}: the write side
 * ({@link WriteSide}: may the container take a write now?), the read side ({@link ReadSide}: is a read in flight,
 * or a buffer awaited?), the pacing of the next chunk ({@link Pace}) and the end of the body ({@link Tail}). A pass
 * applies the inbox's events to them, then runs the {@link Step} the table names, one after another, until a step
 * parks or ends the transfer.
 *
 * <h2>Buffers</h2>
 * The transfer holds at most {@code readAhead} pooled buffers (two while its socket refuses data, and after a
 * second or two of that only the one the container holds, see {@link #shedReadAhead}): the one being read, the
 * ones read and waiting, and the one the container is writing. Their size follows the client: a
 * {@link ChunkSizer} measures how fast the socket drains, so a slow client holds a few small buffers and a
 * fast one large ones. Servlet 6.1 allows the container to use a written buffer until the next
 * {@code isReady()} returns true, so a chunk goes back to the pool only then. If the transfer ends while the
 * container may still hold a chunk, that chunk is retired instead of reused.
 *
 * <p>With {@code bufferKind=mapped}, a file region longer than a chunk is sent as slices of the file's mapping
 * instead ({@link FileWindows}): they count against the read-ahead like buffers, but hold no pool memory and go
 * back to nobody. A read makes a span of at least {@code chunkSize} bytes resident, and the owner cuts the chunks
 * that lie in it without another read ({@link #fillFromMapping}). Their bytes are copied when the container writes
 * them, so the file is checked once more before the body's last write ({@link #fileStillHoldsTheBody}), which is
 * then of its last byte alone.
 */
public final class Transfer {

    /** The smallest chunk under a speed limit: a quarter of a second's worth at the limit, but not less. */
    static final int LIMITED_FLOOR = 1024;

    /** What a transfer is doing, as seen from outside. Waiting states hold no thread; terminal states are final. */
    public enum State {
        /**
         * Listener registered; waiting for the container's first {@code onWritePossible}. The stall timeout counts
         * from the start: a transfer the container never calls back ends as stalled.
         */
        STARTING,
        /** One thread owns the transfer and runs its passes. */
        PROCESSING,
        /** Owned, and an event arrived since the pass began: the owner runs another pass before parking. */
        PROCESSING_AGAIN,
        /**
         * Parked: {@code isReady()} returned false. The container's {@code onWritePossible} resumes it. After a
         * second or two of it, the stall timer has the chunks read ahead given back (see {@code shedReadAhead}).
         */
        WAITING_FOR_SOCKET,
        /** Parked: the socket takes data, the next chunk is being read. The read's completion resumes it. */
        WAITING_FOR_READ,
        /** Parked: the shared buffer budget is spent. A buffer granted by the pool resumes it. */
        WAITING_FOR_BUFFER,
        /**
         * Parked: over its speed limit. The throttle's timer resumes it when the next chunk's time has come, or a
         * shared rate group ({@code globalRate}, {@code limitRatePerClient}, {@code limitRatePerUser}) when it grants
         * the next chunk.
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

    /** Who owns the transfer: the only state other threads read and change (by compare-and-set). */
    private enum Ownership {
        /** No owner: waiting for an event ({@link #shown} says which). The wake that follows an event takes it. */
        PARKED,
        /** One thread runs passes: it alone touches the work state, the output and the chunks. */
        RUNNING,
        /** Owned, and an event arrived since the pass began: the owner runs one more pass before parking. */
        RUNNING_AGAIN,
        /** Over: late events only give back what they carry. */
        ENDED
    }

    /** Whether the container takes a write now. */
    private enum WriteSide {
        /** Not known: {@code isReady()} must be asked before the next write or flush. */
        UNCONFIRMED,
        /** {@code isReady()} returned true in this pass and nothing was written since: the container takes a write. */
        READY,
        /** {@code isReady()} returned false: only the container's {@code onWritePossible} changes that. */
        BLOCKED
    }

    /** Whether the transfer may start a read. Reads go one at a time, so chunks arrive in order. */
    private enum ReadSide {
        /** No read in flight: one starts as soon as the read-ahead has room. */
        IDLE,
        /** One read is in flight on the read pool; its completion (or failure) returns to {@code IDLE}. */
        READING,
        /** The buffer budget was spent when a buffer was asked for; the pool's grant returns to {@code IDLE}. */
        AWAITING_BUFFER,
        /** Every segment has been read or queued. */
        ALL_READ
    }

    /** Whether the chunk at the head of the queue may go, as far as speed limits are concerned. */
    private enum Pace {
        /** Not asked yet: the throttle and the rate groups must be asked. */
        FREE,
        /** The transfer's own limit asked it to wait; the timer's event returns to {@code FREE}. */
        TIMER_SET,
        /** A shared rate group queued it; the group's grant returns to {@code FREE}, to ask the other groups. */
        QUEUED,
        /** Every limit let it go: write it. */
        CLEARED
    }

    /** How the body ends: its last byte alone, after a flush, or its last chunk whole (see {@link #splitLastByte}). */
    private enum Tail {
        /** Before the last chunk: chunks go as they are, each paced. */
        BODY,
        /** The last byte was split off its chunk, which was written: flush before the last byte. */
        FLUSH_DUE,
        /** Flushed: the last byte goes unpaced (its time and rate were paid with its chunk). */
        LAST_BYTE
    }

    /**
     * One move of the owner, named by {@link #nextStep}. The first five do something and the pass goes on;
     * the others end the pass: {@link #parksIn} names the state the transfer then waits in.
     */
    private enum Step {
        ASK_READY(null), RELEASE_WRITTEN(null), FLUSH(null), PACE(null), WRITE(null),
        PARK_FOR_SOCKET(State.WAITING_FOR_SOCKET), PARK_FOR_READ(State.WAITING_FOR_READ),
        PARK_FOR_BUFFER(State.WAITING_FOR_BUFFER), PARK_FOR_THROTTLE(State.WAITING_FOR_THROTTLE),
        COMPLETE(State.COMPLETED), END(null);

        final State parksIn;

        Step(State parksIn) {
            this.parksIn = parksIn;
        }
    }

    private sealed interface Event {
    }

    private record WritePossible() implements Event {
    }

    /** A chunk read into a pooled buffer. */
    private record ReadDone(ByteBuffer buffer) implements Event {
    }

    /**
     * A span of the file's mapping whose pages were found in memory ({@code loaded} false) or brought in from the
     * storage ({@code loaded} true): bytes {@code [position, position + pages.capacity())} of the file, which the
     * owner cuts into chunks without another read.
     */
    private record SpanMapped(MappedByteBuffer pages, long position, boolean loaded) implements Event {
    }

    /** A read failed; {@code buffer} is its pooled buffer, {@code null} for a mapped read. */
    private record ReadFailed(ByteBuffer buffer, Throwable cause) implements Event {
    }

    private record Granted(ByteBuffer buffer) implements Event {
    }

    private record Failure(Outcome outcome, Throwable cause) implements Event {
    }

    /** The container reported an error through the write listener. */
    private record ContainerFailed(Throwable cause) implements Event {
    }

    /** The stall timer saw the socket refuse data since {@code blockedSinceNanos}, for too long. */
    private record Stalled(long blockedSinceNanos) implements Event {
    }

    /**
     * The stall timer saw the socket refuse data since {@code blockedSinceNanos}, long enough that the chunks read
     * ahead are only memory held for a client that is not reading ({@link #shedReadAhead}).
     */
    private record IdleReadAhead(long blockedSinceNanos) implements Event {
    }

    private record ThrottleElapsed() implements Event {
    }

    private record RateGranted() implements Event {
    }

    private static final Event WRITE_POSSIBLE = new WritePossible();
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

    /** Why the transfer ends; the first reason recorded stands. */
    private record End(Outcome outcome, Throwable cause) {
    }

    private final AtomicReference<Ownership> ownership = new AtomicReference<>(Ownership.PARKED);
    private final ConcurrentLinkedQueue<Event> inbox = new ConcurrentLinkedQueue<>();
    private final Callbacks callbacks = new Callbacks();
    private final TransferEngine engine;
    private final BufferPool pool;
    private final ServletOutputStream out;
    private final FileChannel channel;
    private final FileVersion fileVersion;
    private final List<Segment> segments;
    private final long length;
    /** Where the body's furthest file region ends: the file must keep at least this many bytes. */
    private final long fileEnd;
    /** Whether long regions go out as slices of the file's mapping: the engine maps, and the request allows it. */
    private final boolean mapsRegions;
    private final TransferListener listener;
    private final int readAhead;
    private final Throttle throttle;
    private final RateLimits rateLimits;
    private final ChunkSizer sizer;
    /** The chunk size the sizer started at, for the summary. */
    private final int startChunk;
    /**
     * How often the reads check the file for a change in place ({@link FileCheck}): after the first read, and
     * after the read that crosses each multiple of this many body bytes. Every chunk would cost too much for small
     * ones: a check is an {@code fstat} and a {@code stat}, measured here at 3 to 16 microseconds, about as much as
     * reading a 16 KiB chunk from the page cache. What makes a spliced body impossible is the check before the last
     * write; these only cut a changed file's download early, within this many bytes. (For bytes a container copied
     * when it wrote them: bytes it sent with {@code sendfile} are read from the file when they leave the socket,
     * after this check; see docs/sendfile-jetty.md, "What it gives up".)
     */
    static final long CHECK_EVERY = 1024 * 1024;

    /** How long a socket must refuse data before the chunks read ahead for it are given back. */
    static final long IDLE_READ_AHEAD_NANOS = 1_000_000_000L;

    /** The largest chunk: {@code chunkSize}, or larger for a transfer that maps its file (see the engine). */
    private final int chunkCeiling;
    private final TransferRecording recording;
    private final TransferLabel label;
    private final Object clientKey;
    private final Object userKey;
    private final FileCheck fileCheck;
    /** Whether the container needs the body's last byte alone ({@link TransferRequest#lastByteAlone}). */
    private final boolean lastByteAlone;

    /**
     * Guards every call on the container's output stream ({@code isReady}, {@code write}, {@code flush}) and
     * {@link #containerError}. Why: once {@code WriteListener.onError} returns, a container may complete and
     * recycle the request and response on its own and hand them to another request; Tomcat does, and pools them
     * across HTTP/2 streams. A call made after that by an owner running on another thread would act on that
     * other request's response (seen as another stream's response already committed, or its request's
     * {@code :method} read twice). {@code onError} records the error under this lock, so it returns only after a
     * call in progress has returned, and no call starts after it. Held across one call on the stream, which never
     * waits for the client's reading, but may wait a while in two cases: a mapped chunk's page that is not resident
     * after all (the copy faults it in from storage), and Tomcat's HTTP/2 frame writes, which wait for the
     * connection's socket up to Tomcat's {@code writeTimeout}. A container thread in {@code onError} then waits as
     * long; returning earlier would let Tomcat recycle the request under that call.
     */
    private final Object containerCalls = new Object();
    /** The error the container reported in {@code onError}; from then on the stream is not touched. */
    private Throwable containerError;

    /** What {@link #state} reports while the transfer is parked or ended; written by the owner. */
    private volatile State shown = State.STARTING;
    /** When the socket stopped taking data, for the stall timer; 0 while it takes data. */
    private volatile long blockedSinceNanos;
    /**
     * Whether the transfer parked for its socket holding pooled chunks it has not handed to the container (or a
     * granted buffer): written by the owner when it parks, read by the stall timer, which asks for them back only
     * then ({@link #checkStall}), so a transfer that holds none (a slow client's mapped chunks) costs it nothing.
     * Once they are back it is false, and the timer stops asking.
     */
    private volatile boolean holdsIdleBuffers;
    /** Body bytes handed to the container: written by the owner only, volatile for {@link #view}. */
    private volatile long bytesWritten;

    // Owner-confined: read and written only by the thread that owns the transfer (see the class comment).
    private WriteSide writeSide;
    private ReadSide readSide = ReadSide.IDLE;
    private Pace pace = Pace.FREE;
    private Tail tail = Tail.BODY;
    private End ending;
    /** The read-ahead was given back while the socket refused data: nothing is read again until it drains. */
    private boolean readAheadShed;
    /** The listener was asked whether the body may go ({@link TransferListener#beforeFirstWrite}). */
    private boolean firstWriteAllowed;
    private final ArrayDeque<Chunk> ready = new ArrayDeque<>();
    private int segmentIndex;
    private long segmentOffset;
    private long bytesScheduled;
    private long readsStarted;
    /** File bytes the reads have covered (read into buffers, or mapped spans), for the {@link FileCheck}s. */
    private long bytesRead;
    /** The chunk the container may still be copying from, until the next {@code isReady()} returns true. */
    private Chunk inContainer;
    /** A pooled buffer granted for the next read. */
    private ByteBuffer spare;
    /** Pooled buffers and mapped slices held: being read, read, or in the container. */
    private int chunksHeld;
    /** The file's mappings, taken on the first mapped read; used by the reads only (see {@link FileWindows}). */
    private FileWindows windows;
    /**
     * The last span of the mapping a read made resident, starting at file position {@link #spanFrom}: the
     * chunks of a mapped region that lie in it are cut from it by the owner, with no read (see
     * {@link #fillFromMapping}). {@code null} before the first.
     */
    private MappedByteBuffer span;
    private long spanFrom;
    /**
     * Whether the last span had to be brought in from the storage: then the next is sized for the storage (see
     * {@link #startSpanRead}). True before the first: nothing says yet that the file is in memory.
     */
    private boolean spanLoaded = true;
    /** The end of the furthest mapped chunk written, checked against the file's size before the last write. */
    private long mappedEnd;

    Transfer(TransferEngine engine, TransferRequest request) {
        this.engine = engine;
        this.pool = engine.pool();
        this.out = request.out();
        this.channel = request.channel();
        this.fileVersion = request.file();
        this.segments = request.body();
        this.length = request.length();
        this.fileEnd = segments.stream().filter(Segment.FileRegion.class::isInstance)
                .map(Segment.FileRegion.class::cast).mapToLong(r -> r.position() + r.length()).max().orElse(0);
        this.mapsRegions = engine.mapsFiles() && request.mappedChunks();
        this.lastByteAlone = request.lastByteAlone();
        this.listener = request.listener();
        this.readAhead = engine.settings().readAhead();
        this.throttle = request.rate() == null
                ? new Throttle(engine.settings().limitRate(), engine.settings().limitRateAfter())
                : new Throttle(request.rate().bytesPerSecond(), request.rate().fullSpeedBytes());
        this.rateLimits = engine.rateLimits(request.clientKey(), request.userKey(), callbacks);
        // A speed limit spaces chunks by their worth in time: larger chunks would make it burstier. A chunk is
        // worth at most a quarter of a second at the limit (and is at least LIMITED_FLOOR): 16 KiB chunks at
        // 2 KiB/s came eight seconds apart, which a client or proxy that times out idle reads takes for a dead server.
        // Not with bytes at full speed first (limitRateAfter): those would go in chunks as small.
        boolean unlimited = !throttle.limits() && !rateLimits.limits();
        boolean mapsFile = this.segments.stream().anyMatch(this::mapped);
        int ceiling = unlimited && mapsFile ? engine.mappedChunkCeiling() : engine.settings().chunkSize();
        if (throttle.limits() && throttle.freeBytes() == 0) {
            ceiling = (int) Math.min(ceiling, Math.max(LIMITED_FLOOR, throttle.bytesPerSecond() / 4));
        }
        this.chunkCeiling = ceiling;
        // A limited transfer's first chunk goes at once (see Throttle), so its size is the burst the limit allows:
        // what the client earned, only while that is worth at most a quarter of a second at the limit.
        boolean burstTooLong = throttle.limits() && request.startChunk() > throttle.bytesPerSecond() / 4;
        this.sizer = new ChunkSizer(chunkCeiling, engine.nanoTime(), mapsFile,
                burstTooLong ? 0 : request.startChunk());
        this.startChunk = sizer.size();
        this.recording = new TransferRecording(request.label(), engine::nanoTime, engine.parkedTime());
        this.label = request.label();
        this.clientKey = request.clientKey();
        this.userKey = request.userKey();
        this.fileCheck = new FileCheck(channel, fileVersion, request.path());
        // Until the container's first onWritePossible, the socket has taken nothing: the stall timer counts from
        // here, so a container that never calls back (neither onWritePossible nor onError) cannot keep the
        // transfer, its descriptor and its maxTransfers slot for ever (its async timeout is off).
        this.writeSide = WriteSide.BLOCKED;
        this.blockedSinceNanos = Math.max(1, engine.nanoTime());
    }

    /**
     * The container ended the request on its own, outside the output stream (an {@code AsyncListener}'s
     * {@code onError} or {@code onComplete}): as after {@code WriteListener.onError}, the transfer ends, the stream
     * is not touched again, and the listener hears {@link TransferListener#containerEnding} on this thread first.
     */
    public void containerEnded(Throwable cause) {
        callbacks.onError(cause);
    }

    /** The current state, for metrics and tests; stale as soon as it is read. */
    public State state() {
        return switch (ownership.get()) {
            case RUNNING -> State.PROCESSING;
            case RUNNING_AGAIN -> State.PROCESSING_AGAIN;
            case PARKED, ENDED -> shown;
        };
    }

    /** What the transfer is doing, for a live status page; any thread. */
    TransferView view() {
        return new TransferView(label, clientKey, userKey, bytesWritten, length, state(),
                engine.nanoTime() - recording.startNanos());
    }

    // ---------------------------------------------------------------- events (any thread)

    /**
     * The transfer's face to the container, the buffer pool and the rate groups. It is a private object so that
     * no caller of the public {@link Transfer} can inject an event.
     */
    private final class Callbacks implements WriteListener, BufferPool.Waiter, RateGroup.Waiter {

        /** After the end, the listener hears it too (see {@link TransferListener#writePossibleAfterEnd}). */
        @Override
        public void onWritePossible() {
            boolean late = ownership.get() == Ownership.ENDED;
            post(WRITE_POSSIBLE);
            if (late) {
                try {
                    listener.writePossibleAfterEnd();
                } catch (RuntimeException e) {
                    engine.listenerFailed(e);
                }
            }
        }

        /**
         * Marks the container gone before anything else (see {@link #containerCalls}), lets the transfer end (here
         * if it is parked, else on its owner), and then tells the listener while the container still waits for
         * this method to return.
         */
        @Override
        public void onError(Throwable cause) {
            boolean first;
            synchronized (containerCalls) {
                first = containerError == null;
                if (first) {
                    containerError = cause;
                }
            }
            try {
                post(new ContainerFailed(cause));
            } finally {
                if (first) {
                    try {
                        listener.containerEnding(cause);
                    } catch (RuntimeException e) {
                        engine.listenerFailed(e);
                    }
                }
            }
        }

        /** On the thread that released a buffer, which may be another transfer's owner in mid-pass. */
        @Override
        public void granted(ByteBuffer buffer) {
            postLater(new Granted(buffer));
        }

        /** The pool could not make the buffer this transfer waits for: it fails, rather than wait for nothing. */
        @Override
        public void refused(OutOfMemoryError error) {
            postLater(new Failure(Outcome.FAILED, error));
        }

        /** On the thread that let the group grant: a group's timer, or another transfer's owner. */
        @Override
        public void rateGranted() {
            postLater(RATE_GRANTED);
        }
    }

    /** What the engine hands the container in {@code setWriteListener}. */
    WriteListener writeListener() {
        return callbacks;
    }

    void readCompleted(ByteBuffer buffer) {
        post(new ReadDone(buffer));
    }

    void spanMapped(MappedByteBuffer pages, long position, boolean loaded) {
        post(new SpanMapped(pages, position, loaded));
    }

    void readFailed(ByteBuffer buffer, Throwable cause) {
        post(new ReadFailed(buffer, cause instanceof FileShrankException early ? whyTheFileEndedEarly(early) : cause));
    }

    /**
     * Why a read met the file's end before the body's: the file's change, when its size or time says so
     * ({@link #fileProblem}, asked before and after the read below: a writer in a loop may have emptied the file
     * again in between), or when a read where the end was met now finds bytes (a copy over the file emptied
     * and refilled it within one tick of the file system's clock, size and time as before); else the storage
     * reports a size it cannot read up to (a FUSE or network mount, a pseudo-file): an I/O error, not a change, so
     * that the client is not told to ask again for a file that will never read whole (the servlet answers a change
     * before the first byte with 503, an I/O error with 500). Thread-safe, as {@link #fileProblem} is, and
     * positional reads are: a read thread asks, after the read that met the end.
     */
    private IOException whyTheFileEndedEarly(FileShrankException early) {
        try {
            IOException problem = fileProblem();
            if (problem != null) {
                return problem;
            }
            if (channel.read(ByteBuffer.allocate(1), early.position()) > 0) {
                return new FileChangedException("file rewritten while it was served: a read found its end at byte "
                        + early.position() + ", where it has bytes again");
            }
            problem = fileProblem();
            if (problem != null) {
                return problem;
            }
            return new IOException("the storage ended the file before the size it reports (" + channel.size()
                    + " bytes): " + early.getMessage());
        } catch (IOException e) {
            return e;
        }
    }

    /**
     * Called on the timer: ends the transfer if its socket has taken nothing for the stall timeout, and asks for
     * the pooled chunks read ahead back once it has taken nothing for {@link #IDLE_READ_AHEAD_NANOS}.
     */
    void checkStall(long nowNanos) {
        long since = blockedSinceNanos;
        if (since == 0) {
            return;
        }
        long blocked = nowNanos - since;
        if (blocked >= engine.settings().stallTimeout().toNanos()) {
            postLater(new Stalled(since));
        } else if (blocked >= IDLE_READ_AHEAD_NANOS && holdsIdleBuffers) {
            postLater(new IdleReadAhead(since));
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

    /** Posts and runs the pass on this thread (the container's, a read thread that just finished, shutdown's). */
    private void post(Event event) {
        inbox.add(event);
        wake();
    }

    /** Posts and runs the pass on the engine's executor: for threads that serve many transfers (see above). */
    private void postLater(Event event) {
        inbox.add(event);
        engine.wakeLater(this);
    }

    /** Runs the transfer on this thread if it is parked; otherwise makes the current owner look again. */
    void wake() {
        for (;;) {
            switch (ownership.get()) {
                case ENDED -> {
                    releaseLateEvents();
                    return;
                }
                case RUNNING_AGAIN -> {
                    return;
                }
                case RUNNING -> {
                    if (ownership.compareAndSet(Ownership.RUNNING, Ownership.RUNNING_AGAIN)) {
                        return;
                    }
                }
                case PARKED -> {
                    if (ownership.compareAndSet(Ownership.PARKED, Ownership.RUNNING)) {
                        run();
                        return;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- the owner

    private void run() {
        sizer.readWaited(recording.resumed());
        for (;;) {
            State next;
            try {
                next = pass();
            } catch (RuntimeException | Error e) {
                end(Outcome.FAILED, e);
                next = State.of(ending.outcome()); // an end recorded before the throw stands
            }
            if (next.isTerminal()) {
                finish(next);
                return;
            }
            recording.parking(next); // before the compare-and-set: after it, another thread may own the transfer
            holdsIdleBuffers = next == State.WAITING_FOR_SOCKET && holdsPooledReadAhead();
            shown = next;
            if (ownership.compareAndSet(Ownership.RUNNING, Ownership.PARKED)) {
                return;
            }
            ownership.set(Ownership.RUNNING);
        }
    }

    /**
     * One pass: apply the events, then run steps until one parks or ends the transfer. A pass asks
     * {@code isReady()} afresh: it follows an event, and a container that failed or closed the stream in the
     * meantime shows it there.
     *
     * <p>A stall is judged after every other event of the pass: the stall timer's verdict reaches the transfer
     * through the executor, and an {@code onWritePossible} that came in the meantime (in the same batch or an
     * earlier pass) proves the client is reading again, so the verdict stands only if the socket has refused
     * data ever since the moment the timer saw.
     */
    private State pass() {
        long stalledSince = 0;
        long idleSince = 0;
        for (Event event; (event = inbox.poll()) != null; ) {
            if (event instanceof Stalled stalled) {
                stalledSince = stalled.blockedSinceNanos();
            } else if (event instanceof IdleReadAhead idle) {
                idleSince = idle.blockedSinceNanos();
            } else {
                apply(event);
            }
        }
        if (stalledSince != 0 && writeSide == WriteSide.BLOCKED && blockedSinceNanos == stalledSince) {
            end(Outcome.ABORTED, new StalledException(engine.settings().stallTimeout()));
        }
        if (idleSince != 0 && ending == null && writeSide == WriteSide.BLOCKED && blockedSinceNanos == idleSince) {
            shedReadAhead();
        }
        if (writeSide == WriteSide.READY) {
            writeSide = WriteSide.UNCONFIRMED;
        }
        for (;;) {
            fillReadAhead();
            Step step = nextStep();
            switch (step) {
                case ASK_READY -> askReady();
                case RELEASE_WRITTEN -> releaseWritten();
                case FLUSH -> flushBeforeLastByte();
                case PACE -> pace(ready.element());
                case WRITE -> write(ready.remove());
                case END -> {
                    return State.of(ending.outcome());
                }
                default -> {
                    return step.parksIn;
                }
            }
        }
    }

    /** The transition table: what the owner does next, read off the work state alone. */
    private Step nextStep() {
        if (ending != null) {
            return Step.END;
        }
        switch (writeSide) {
            case BLOCKED -> {
                return Step.PARK_FOR_SOCKET;
            }
            case UNCONFIRMED -> {
                return Step.ASK_READY;
            }
            case READY -> {
                // the container takes a write: go on below
            }
        }
        if (inContainer != null) {
            return Step.RELEASE_WRITTEN;
        }
        if (tail == Tail.FLUSH_DUE) {
            return Step.FLUSH;
        }
        if (bytesWritten == length) {
            return Step.COMPLETE;
        }
        if (ready.isEmpty()) {
            return readSide == ReadSide.AWAITING_BUFFER ? Step.PARK_FOR_BUFFER : Step.PARK_FOR_READ;
        }
        if (tail == Tail.BODY) {
            switch (pace) {
                case FREE -> {
                    return Step.PACE;
                }
                case TIMER_SET, QUEUED -> {
                    return Step.PARK_FOR_THROTTLE;
                }
                case CLEARED -> {
                    // every limit let the chunk go
                }
            }
        }
        return Step.WRITE;
    }

    private void apply(Event event) {
        if (event instanceof WritePossible) {
            writeSide = WriteSide.UNCONFIRMED;
            blockedSinceNanos = 0;
            readAheadShed = false;
        } else if (event instanceof ReadDone done) {
            readSide = ReadSide.IDLE;
            ready.add(new Chunk(done.buffer(), Source.POOL));
        } else if (event instanceof SpanMapped span) {
            readSide = ReadSide.IDLE;
            chunksHeld--; // the read was held against the read-ahead; the chunks cut from it will be
            this.span = span.pages();
            spanFrom = span.position();
            spanLoaded = span.loaded();
        } else if (event instanceof ReadFailed failed) {
            readSide = ReadSide.IDLE;
            chunksHeld--;
            if (failed.buffer() != null) {
                pool.release(failed.buffer());
            }
            end(Outcome.FAILED, failed.cause());
        } else if (event instanceof Granted granted) {
            readSide = ReadSide.IDLE;
            chunksHeld++;
            spare = granted.buffer();
        } else if (event instanceof Failure failure) {
            end(failure.outcome(), failure.cause());
        } else if (event instanceof ContainerFailed failed) {
            containerFailed(failed.cause());
        } else if (event instanceof ThrottleElapsed) {
            pace = Pace.FREE;
        } else if (event instanceof RateGranted) {
            rateLimits.granted();
            pace = Pace.FREE;
        }
    }

    // ---------------------------------------------------------------- the steps

    private void askReady() {
        boolean takesData;
        Throwable failure = null;
        synchronized (containerCalls) {
            try {
                takesData = containerError == null && out.isReady();
                failure = containerError;
            } catch (RuntimeException e) {
                takesData = false;
                failure = e;
            }
        }
        if (failure != null) {
            containerFailed(failure);
            return;
        }
        if (takesData) {
            writeSide = WriteSide.READY;
            return;
        }
        writeSide = WriteSide.BLOCKED;
        long now = engine.nanoTime();
        blockedSinceNanos = Math.max(1, now);
        sizer.parked(now);
    }

    /** {@code isReady()} returned true, so the container is done with the chunk it was given last. */
    private void releaseWritten() {
        if (sizer.needsClock()) {
            sizer.drained(engine.nanoTime());
        }
        recycle(inContainer);
        inContainer = null;
    }

    private void flushBeforeLastByte() {
        tail = Tail.LAST_BYTE;
        writeSide = WriteSide.UNCONFIRMED; // the next isReady() says when the flush is done
        Throwable failure = callContainer(out::flush);
        if (failure != null) {
            containerFailed(failure);
        }
    }

    /** A write or a flush on the container's output stream. */
    @FunctionalInterface
    private interface ContainerCall {
        void run() throws IOException;
    }

    /**
     * Makes {@code call} unless the container has reported an error (see {@link #containerCalls}).
     *
     * @return what it threw, or the container's error; {@code null} when the call was made and returned
     */
    private Throwable callContainer(ContainerCall call) {
        synchronized (containerCalls) {
            if (containerError != null) {
                return containerError;
            }
            try {
                call.run();
                return null;
            } catch (IOException | RuntimeException e) {
                return e;
            }
        }
    }

    /** Asks the transfer's own limit, then the shared rate groups, whether {@code next} may go now. */
    private void pace(Chunk next) {
        int bytes = next.data().remaining();
        long delay = throttle.limits() ? throttle.delayNanos(bytesWritten, bytes, engine.nanoTime()) : 0;
        if (delay > 0) {
            pace = Pace.TIMER_SET;
            engine.schedule(() -> postLater(THROTTLE_ELAPSED), delay);
        } else if (rateLimits.limits() && !rateLimits.permit(bytes)) {
            pace = Pace.QUEUED; // the group's grant resumes the transfer
        } else {
            pace = Pace.CLEARED;
        }
    }

    private void write(Chunk chunk) {
        if (!firstWriteAllowed) {
            // As a write: the listener looks at the response, which the container may have ended and recycled.
            Throwable refused = callContainer(listener::beforeFirstWrite);
            if (refused != null) {
                recycle(chunk);
                containerFailed(refused);
                return;
            }
            firstWriteAllowed = true;
        }
        pace = Pace.FREE;
        mappedEnd = Math.max(mappedEnd, chunk.fileEnd());
        int bytes = chunk.data().remaining();
        long left = length - bytesWritten;
        if (tail == Tail.BODY && bytes == left && bytes > 1 && (lastByteAlone || chunk.source() == Source.MAPPING)) {
            if (!splitLastByte(chunk)) {
                recycle(chunk);
                return;
            }
            bytes--;
        } else if (bytes == left && chunk.source() == Source.MAPPING) {
            // a mapped last chunk of one byte (a span ended one byte before the body): it is the last byte
            ByteBuffer lastByte = lastByteFromFile(chunk);
            recycle(chunk);
            if (lastByte == null) {
                return;
            }
            chunk = new Chunk(lastByte, Source.LITERAL);
        }
        if (bytes == left && (mappedEnd > 0 || fileCheck.enabled()) && !fileStillHoldsTheBody()) {
            recycle(chunk); // never written: a pooled one goes back to the pool
            return;
        }
        Chunk written = chunk;
        inContainer = written;
        writeSide = WriteSide.UNCONFIRMED;
        ByteBuffer data = written.data();
        Throwable failure = written.source() == Source.MAPPING
                ? callContainer(() -> engine.writeMapped(out, data, channel, written.fileEnd() - data.capacity()))
                : callContainer(() -> engine.write(out, data));
        if (failure != null) {
            containerFailed(failure);
            return;
        }
        bytesWritten += bytes;
        sizer.written(bytes);
        engine.countSent(bytes);
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
     * costs one small write at the end of each download, and the sender spares it where the container's closing
     * write does not block ({@link TransferRequest#lastByteAlone}), unless the last chunk is a slice of the mapping:
     * its bytes are copied (or sent with {@code sendfile}) only when the container writes them, so the last check
     * ({@link #fileStillHoldsTheBody}) must come after all but its last byte have gone. Earlier chunks have gone by
     * then: each write follows an {@code isReady()} that said the one before it was done.
     *
     * <p>A mapped chunk's last byte is read from the file, not through the mapping: a read through the mapping
     * enters its page in the process's page tables (a page fault: 1.4% of the server's CPU in a profile of medium
     * files sent with {@code sendfile}, where nothing else of a body touches its mapping), and unmapping the window
     * later must clear that entry and flush it from every core's TLB. The read is of a page the span's read made
     * resident, on the owner's thread, as the file check before that byte is ({@link #fileStillHoldsTheBody}).
     *
     * @return false when the last byte could not be read: the transfer has failed
     */
    private boolean splitLastByte(Chunk last) {
        ByteBuffer data = last.data();
        int end = data.limit();
        ByteBuffer lastByte;
        if (last.source() == Source.MAPPING) {
            lastByte = lastByteFromFile(last);
            if (lastByte == null) {
                return false;
            }
        } else {
            lastByte = ByteBuffer.allocate(1);
            lastByte.put(0, data.get(end - 1));
        }
        tail = Tail.FLUSH_DUE;
        data.limit(end - 1);
        ready.addFirst(new Chunk(lastByte, Source.LITERAL));
        return true;
    }

    /**
     * The last byte of a mapped chunk, read from the file rather than through the mapping (see
     * {@link #splitLastByte}); {@code null} when it could not be read: the transfer has failed.
     */
    private ByteBuffer lastByteFromFile(Chunk mapped) {
        ByteBuffer lastByte = ByteBuffer.allocate(1);
        try {
            if (channel.read(lastByte, mapped.fileEnd() - 1) < 1) {
                end(Outcome.FAILED, whyTheFileEndedEarly(new FileShrankException(mapped.fileEnd() - 1)));
                return null;
            }
        } catch (IOException e) {
            end(Outcome.FAILED, e);
            return null;
        }
        return lastByte.flip();
    }

    /**
     * Before the write that ends the body, after the container has sent every byte before it: whether the file
     * still holds the body as announced. The reads check the file now and then ({@link #CHECK_EVERY}), and a
     * mapped chunk's bytes are copied when the container writes them, not when they were read, so a file
     * truncated or rewritten since the last check may have put zeros or another version's bytes in the body. This
     * check is what keeps such a body from completing: it fails the transfer one byte short of its length, and the
     * client sees a broken download.
     */
    private boolean fileStillHoldsTheBody() {
        try {
            IOException problem = fileProblem();
            if (problem == null) {
                return true;
            }
            end(Outcome.FAILED, problem);
        } catch (IOException e) {
            end(Outcome.FAILED, e);
        }
        return false;
    }

    /**
     * Why the file can no longer give this body, or {@code null}: its version changed ({@link FileCheck}), or it
     * ends before the body's furthest region.
     */
    private IOException fileProblem() throws IOException {
        IOException changed = fileCheck.problem();
        if (changed != null) {
            return changed;
        }
        long size = channel.size();
        return size < fileEnd ? new FileShrankException(size) : null;
    }

    /**
     * The container's output threw, or its {@code onError} came: usually the connection is gone or the container
     * has ended the request on its own (a container that recycled the request without an {@code onError} makes
     * the output throw an {@code IllegalStateException} instead of an {@code IOException}; after an
     * {@code onError} the output is not called again, see {@link #containerCalls}). Then the client is gone: the
     * transfer is aborted.
     *
     * <p>But the container's error says nothing reliable about the cause: a write from a mapping whose file was
     * truncated fails in the kernel ({@code EFAULT}, "Bad address") and reaches us like a broken connection. So
     * the file decides: when it no longer holds the bytes the body needs, or was changed in place, the transfer
     * fails with {@link FileShrankException} or {@link FileChangedException} (the container's error attached as
     * suppressed), whatever the container said,
     * and the counters and the log blame the file, not the client.
     */
    private void containerFailed(Throwable e) {
        IOException problem = null;
        if (fileEnd > 0) {
            try {
                problem = fileProblem();
            } catch (IOException unusable) {
                // the channel cannot tell: nothing speaks against the client's going away
            }
        }
        if (problem == null) {
            end(Outcome.ABORTED, e);
        } else {
            problem.addSuppressed(e);
            end(Outcome.FAILED, problem);
        }
    }

    // ---------------------------------------------------------------- the read side

    /**
     * Keeps the read-ahead full: one read in flight at a time (so chunks arrive in order and literal segments
     * can be queued between them), and no more than {@link #readAheadNow()} chunks held. Each buffer is sized by
     * the {@link ChunkSizer} when it is asked for.
     */
    private void fillReadAhead() {
        if (readAheadShed && writeSide == WriteSide.BLOCKED) {
            return;
        }
        while (readSide == ReadSide.IDLE && ending == null) {
            if (segmentIndex == segments.size()) {
                readSide = ReadSide.ALL_READ;
                return;
            }
            Segment segment = segments.get(segmentIndex);
            long remaining = segment.length() - segmentOffset;
            if (remaining == 0) {
                segmentIndex++;
                segmentOffset = 0;
                continue;
            }
            if (segment instanceof Segment.Literal literal) {
                // A literal may be a whole cached file: it goes in views of chunk size (no copy), so that a speed
                // limit paces it chunk by chunk and the container holds one chunk of it at a time, as for a file.
                int bytes = (int) Math.min(remaining, sizer.bufferFor(remaining));
                ByteBuffer piece = literal.bytes().duplicate();
                piece.position(piece.position() + (int) segmentOffset);
                piece.limit(piece.position() + bytes);
                ready.add(new Chunk(piece.slice(), Source.LITERAL));
                segmentOffset += bytes;
                bytesScheduled += bytes;
                continue;
            }
            Segment.FileRegion region = (Segment.FileRegion) segment;
            if (mapped(region)) {
                if (!fillFromMapping(region, remaining)) {
                    return;
                }
                continue;
            }
            ByteBuffer buffer = spare;
            if (buffer == null) {
                if (chunksHeld >= readAheadNow()) {
                    return;
                }
                buffer = pool.acquire(Math.min(sizer.bufferFor(remaining), engine.settings().chunkSize()), callbacks);
                if (buffer == null) {
                    readSide = ReadSide.AWAITING_BUFFER;
                    return;
                }
                chunksHeld++;
            }
            spare = null;
            startRead(region, remaining, buffer);
        }
    }

    private void startRead(Segment.FileRegion region, long remaining, ByteBuffer buffer) {
        long position = region.position() + segmentOffset;
        long bytes = throttled(Math.min(buffer.capacity(), remaining));
        segmentOffset += bytes;
        bytesScheduled += bytes;
        boolean firstRead = startsRead(bytes);
        try {
            engine.read(new ChunkRead(this, channel, position, (int) bytes, buffer, checkFor(firstRead, bytes),
                    engine.storageGauge()), firstRead);
        } catch (RuntimeException | Error e) {
            readNotStarted(e);
            pool.release(buffer);
        }
    }

    /**
     * The next chunk of a mapped region: cut from the span a read made resident when the span holds it, with no
     * read and no hand-off to a read thread; otherwise a read of the span that starts there. A span is
     * {@code chunkSize} bytes (the most a pooled read reads) or the chunk if larger, so a client whose chunks are
     * smaller than {@code chunkSize} (a slow one) gets several chunks per read, and a fast one one read per chunk
     * as before.
     *
     * <p>Why: a slow client takes floor-size chunks, and a read per chunk made 1,000 clients at 200 KB/s queue
     * about 12,000 reads a second on the read threads, each followed by a hand-off of the transfer to that thread:
     * the clients spent half their time waiting in that queue (no disk involved), and every new download's first
     * read queued with them. A span's pages were resident when its read checked them; the page cache may evict
     * them before the last chunk cut from it is written, and then the container's write reads them back, as
     * after any read (see {@link MappedChunkRead}).
     *
     * @return whether the loop may go on: false when the read-ahead is full or a span read was started
     */
    private boolean fillFromMapping(Segment.FileRegion region, long remaining) {
        if (chunksHeld - (spare == null ? 0 : 1) >= readAheadNow()) {
            return false;
        }
        if (spare != null) { // granted for a pooled read that a mapped region now follows
            chunksHeld--;
            pool.release(spare);
            spare = null;
        }
        long position = region.position() + segmentOffset;
        chunksHeld++; // the span read in flight, or the chunk cut now
        if (span == null || position < spanFrom || position >= spanFrom + span.capacity()) {
            startSpanRead(position, remaining);
            return false;
        }
        // A region may lie wholly inside a span an earlier region's read made resident (ranges overlap in any
        // order through the engine's API): the chunk ends with the region, not with the span.
        long bytes = throttled(Math.min(Math.min(sizer.bufferFor(remaining), remaining),
                spanFrom + span.capacity() - position));
        segmentOffset += bytes;
        bytesScheduled += bytes;
        ready.add(new Chunk(span.slice((int) (position - spanFrom), (int) bytes), Source.MAPPING,
                position + bytes));
        return true;
    }

    /**
     * Starts the read of the span at {@code position}: {@code chunkSize} bytes, or the next chunk if larger. Two
     * rules for a span that may have to come from the storage (the first, or one after a span that had to):
     * <ul>
     * <li>While every read thread is busy ({@link TransferEngine#readThreadsBusy}) it is no larger than it must be:
     * {@code chunkSize} (or the chunk sizer's floor, if larger), or {@link TransferEngine#STORAGE_SPAN} by the next
     * rule. One read thread loads a span, so on storage where each read waits (a FUSE mount adding 5 ms per read: a
     * 4 MiB span is 32 such reads) 4 MiB spans let a few downloads hold every thread while the others waited
     * (measured: a fifth to a third fewer bytes at 20 and 100 clients); smaller spans keep the threads turning over
     * between all of them. With a thread free, the span follows the chunk, so that one fast download from slow
     * storage keeps a whole large span's reads in flight.
     * <li>After a span that had to come from the storage, it is at least {@link TransferEngine#STORAGE_SPAN}, when
     * the engine asks for a span's pieces at once ({@link PageAdvice}). The thread then waits for the storage's
     * latency once per span, whatever its size: with spans of two pieces, eight threads kept about 13 reads in
     * flight and left a third of the CPU idle at 400 clients; with four, each wait brings twice the bytes. Not for a
     * download's first span, whose client waits for all of it before its first byte.
     * </ul>
     * The chunks cut from a span are no larger than the span.
     */
    private void startSpanRead(long position, long remaining) {
        int chunkSize = engine.settings().chunkSize();
        long least = spanLoaded && span != null && engine.pageAdvice().available()
                ? Math.max(chunkSize, TransferEngine.STORAGE_SPAN) : chunkSize;
        long wanted = sizer.bufferFor(remaining);
        if (spanLoaded && wanted > least && engine.readThreadsBusy()) {
            wanted = Math.max(least, ChunkSizer.FLOOR);
        }
        long bytes = Math.min(Math.max(wanted, least), remaining);
        long windowBytes = engine.mappedWindows().windowBytes();
        bytes = Math.min(bytes, windowBytes - position % windowBytes); // a span never spans two windows
        if (windows == null) {
            windows = new FileWindows(channel, fileVersion, engine.mappedWindows());
        }
        boolean firstRead = startsRead(bytes);
        try {
            engine.read(new MappedChunkRead(this, windows, position, (int) bytes, checkFor(firstRead, bytes),
                    firstRead, engine), firstRead);
        } catch (RuntimeException | Error e) {
            readNotStarted(e);
        }
    }

    /** {@code bytes}, or fewer so that a speed limit's full-speed bytes end at a chunk's end. */
    private long throttled(long bytes) {
        if (throttle.limits() && bytesScheduled < throttle.freeBytes()) {
            return Math.min(bytes, throttle.freeBytes() - bytesScheduled);
        }
        return bytes;
    }

    /** Marks a read of {@code bytes} in flight; returns whether it is the transfer's first. */
    private boolean startsRead(long bytes) {
        readSide = ReadSide.READING;
        bytesRead += bytes;
        return readsStarted++ == 0;
    }

    /** The check a read of {@code bytes} makes: after the first read and the read crossing each {@link #CHECK_EVERY}. */
    private FileCheck checkFor(boolean firstRead, long bytes) {
        return firstRead || bytesRead / CHECK_EVERY != (bytesRead - bytes) / CHECK_EVERY ? fileCheck : null;
    }

    /**
     * Undoes {@link #startsRead} for a read that was never queued: the engine stops (the pool refuses it), or the
     * pool could not start a thread for it. Nothing will come back for it, so the channel and the buffer must not
     * wait for its return: {@link #finish} closes the one, the caller releases the other.
     */
    private void readNotStarted(Throwable e) {
        readSide = ReadSide.IDLE;
        chunksHeld--;
        if (e instanceof RejectedExecutionException) {
            end(Outcome.ABORTED, new IOException("server stopping", e));
        } else {
            end(Outcome.FAILED, e);
        }
    }

    /** Whether {@code segment} is sent from the file's mapping: a file region longer than one chunk, when mapping. */
    private boolean mapped(Segment segment) {
        return mapsRegions && segment instanceof Segment.FileRegion region
                && region.length() > engine.settings().chunkSize();
    }

    /**
     * How many chunks (pooled buffers or mapped slices) the transfer may hold now: {@code readAhead}, but at most
     * two (the chunk the container holds and the one that goes next) while a transfer below full chunk size waits
     * for its socket. A slow client is parked most of the time, and more chunks would only sit in memory until it
     * reads; its next read starts when the socket drains, so it reads chunks only as fast as it takes them.
     * A transfer at full size keeps its whole read-ahead: its client is fast, and a deep read-ahead hides a
     * slow disk from it.
     */
    private int readAheadNow() {
        return writeSide == WriteSide.BLOCKED && sizer.size() < chunkCeiling ? Math.min(readAhead, 2) : readAhead;
    }

    /** Whether pooled buffers are held that the container has not been given: read ahead, or granted. */
    private boolean holdsPooledReadAhead() {
        if (spare != null) {
            return true;
        }
        for (Chunk chunk : ready) {
            if (chunk.pooled()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Gives back every chunk read ahead and not yet handed to the container, and the buffer granted for the next
     * read, and moves the read position back to the first of them, so they are read again once the socket drains.
     * Only with no read in flight (chunks come back in order), between chunks as far as speed limits are
     * concerned (no chunk paced, none granted by a rate group), and before the body's end was split off;
     * otherwise the timer asks again at its next round. A buffer awaited from the spent budget stays awaited
     * (calling the wait off would race with its grant): once granted, it is held, unread, and goes back at the
     * timer's next round.
     *
     * <p>Why: a client that read fast, then stopped (a paused video player, a browser tab left open), kept
     * earned full-size chunks until the stall timeout: {@code readAhead} of them, a minute by default, out of
     * the budget all downloads share. After {@link #IDLE_READ_AHEAD_NANOS} of a socket that takes nothing, the
     * socket's own buffer holds far more than a chunk (a socket refuses data only when it is full, and wakes the
     * writer when about a third of it has drained), so reading again when it drains costs the client no wait.
     * An HTTP/2 stream held back by its flow-control window holds nothing, and its client waits for one read
     * when it opens the window again, after taking nothing for a second. The chunk the container was given last
     * stays: the container may still be copying from it.
     */
    private void shedReadAhead() {
        if (tail != Tail.BODY || pace != Pace.FREE || !rateLimits.betweenChunks()
                || readSide == ReadSide.READING) {
            return;
        }
        long bytes = 0;
        for (Chunk chunk; (chunk = ready.pollLast()) != null; ) {
            bytes += chunk.data().remaining();
            recycle(chunk);
        }
        if (spare != null) {
            chunksHeld--;
            pool.release(spare);
            spare = null;
        }
        bytesScheduled -= bytes;
        long back = bytes; // the chunks were the body's bytes just before the read position
        while (back > segmentOffset) {
            back -= segmentOffset;
            segmentIndex--;
            segmentOffset = segments.get(segmentIndex).length();
        }
        segmentOffset -= back;
        if (readSide == ReadSide.ALL_READ) {
            readSide = ReadSide.IDLE;
        }
        readAheadShed = true;
    }

    // ---------------------------------------------------------------- the end

    private void end(Outcome outcome, Throwable cause) {
        if (ending == null) {
            ending = new End(outcome, cause);
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
     * channel, the buffers, the counters, and the listener, exactly once. A read still in flight closes the
     * channel and returns its buffer when it comes back ({@link #releaseLateEvents}), so no thread waits for it.
     * Each step runs whatever the one before threw: Java 17 raised a mapping's fault as an {@link InternalError}
     * at the thread's next safepoint, which was once inside the channel's close, and the end went untold.
     */
    private void finish(State terminal) {
        shown = terminal;
        ownership.set(Ownership.ENDED);
        Outcome outcome = terminal == State.COMPLETED ? Outcome.COMPLETED : ending.outcome();
        try {
            giveBackHeld(terminal);
        } finally { // whatever a release woke and threw, the channel closes and the end is told
            try {
                if (readSide != ReadSide.READING) {
                    IOUtils.closeQuietly(channel); // quiet about exceptions, not about an Error
                }
            } finally {
                try {
                    releaseLateEvents();
                } finally {
                    tellEnded(outcome);
                }
            }
        }
    }

    /** Gives back the buffer wait, the rate groups' places and every chunk the transfer holds. */
    private void giveBackHeld(State terminal) {
        if (readSide == ReadSide.AWAITING_BUFFER) {
            pool.cancel(callbacks);
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
    }

    private void tellEnded(Outcome outcome) {
        TransferSummary summary = recording.ended(outcome, bytesWritten, length,
                outcome == Outcome.COMPLETED ? null : ending.cause(), startChunk, sizer.earned());
        engine.ended(this, summary);
        try {
            listener.ended(summary);
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
                pool.release(done.buffer());
                IOUtils.closeQuietly(channel);
            } else if (event instanceof SpanMapped) {
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
