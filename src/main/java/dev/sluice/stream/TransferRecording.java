package dev.sluice.stream;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Where one transfer's time goes: adds up the time it spends in each waiting state, for its
 * {@link TransferSummary}, the engine's totals ({@link ParkedTime}) and, when the flight recorder records it, one
 * {@link TransferEvent} committed at its end. Two clock reads per park.
 *
 * <p>Owner-confined like the transfer's other fields: {@link #parking} is called by the owner before the
 * compare-and-set that parks the transfer, {@link #resumed} by the next owner after the one that wins it, so the
 * state handoff orders the two.
 */
final class TransferRecording {

    /** The engine's running totals of parked time, by what was awaited; added to at every resume. */
    static final class ParkedTime {
        final LongAdder socket = new LongAdder();
        final LongAdder read = new LongAdder();
        final LongAdder buffer = new LongAdder();
        final LongAdder throttle = new LongAdder();

        Waits sum() {
            return new Waits(socket.sum(), read.sum(), buffer.sum(), throttle.sum());
        }
    }

    private final TransferEvent event = new TransferEvent();
    private final boolean enabled;
    private final LongSupplier clock;
    private final TransferLabel label;
    private final ParkedTime totals;
    private final long startNanos;
    private Transfer.State parkedIn;
    private long parkedSince;
    private long socketWait;
    private long readWait;
    private long bufferWait;
    private long throttleWait;

    TransferRecording(TransferLabel label, LongSupplier clock, ParkedTime totals) {
        this.enabled = event.isEnabled();
        this.clock = clock;
        this.label = label;
        this.totals = totals;
        this.startNanos = clock.getAsLong();
        if (enabled) {
            event.begin();
        }
    }

    long startNanos() {
        return startNanos;
    }

    /** The owner is about to park in {@code state}; a failed park is overwritten by the next call. */
    void parking(Transfer.State state) {
        parkedIn = state;
        parkedSince = clock.getAsLong();
    }

    /**
     * A new owner runs the transfer: the time since {@link #parking} goes to the state it was parked in.
     *
     * @return the time waited if it was for a read, else 0: the chunk sizer leaves that out of its client's drain
     *         rate ({@link ChunkSizer#readWaited})
     */
    long resumed() {
        if (parkedIn == null) {
            return 0;
        }
        long waited = clock.getAsLong() - parkedSince;
        long readWaited = parkedIn == Transfer.State.WAITING_FOR_READ ? waited : 0;
        switch (parkedIn) {
            case WAITING_FOR_SOCKET -> {
                socketWait += waited;
                totals.socket.add(waited);
            }
            case WAITING_FOR_READ -> {
                readWait += waited;
                totals.read.add(waited);
            }
            case WAITING_FOR_BUFFER -> {
                bufferWait += waited;
                totals.buffer.add(waited);
            }
            case WAITING_FOR_THROTTLE -> {
                throttleWait += waited;
                totals.throttle.add(waited);
            }
            default -> {
                // the owner parks only in the four waiting states
            }
        }
        parkedIn = null;
        return readWaited;
    }

    /** Ends the recording, once, as the transfer ends: commits the event if it is recorded. */
    TransferSummary ended(Outcome outcome, long bytesWritten, long length, Throwable cause, int startChunk,
            int earnedChunk) {
        TransferSummary summary = new TransferSummary(outcome, bytesWritten, length, cause,
                clock.getAsLong() - startNanos, new Waits(socketWait, readWait, bufferWait, throttleWait), startChunk,
                earnedChunk);
        if (enabled) {
            event.end();
            if (event.shouldCommit()) {
                event.file = label.file();
                event.range = label.range();
                event.bytes = bytesWritten;
                event.outcome = outcome.name();
                event.socketWait = socketWait;
                event.readWait = readWait;
                event.bufferWait = bufferWait;
                event.throttleWait = throttleWait;
                event.startChunk = startChunk;
                event.earnedChunk = earnedChunk;
                event.commit();
            }
        }
        return summary;
    }
}
