package dev.sluice.stream;

import java.util.function.LongSupplier;

/**
 * The flight-recorder side of one transfer: adds up the time it spends in each waiting state and commits one
 * {@link TransferEvent} at its end. When the event is not enabled as the transfer starts, every method returns
 * at once without reading the clock, so a server without a recording pays one small allocation per transfer.
 *
 * <p>Owner-confined like the transfer's other fields: {@link #parking} is called by the owner before the
 * compare-and-set that parks the transfer, {@link #resumed} by the next owner after the one that wins it, so the
 * state handoff orders the two.
 */
final class TransferRecording {

    private final TransferEvent event = new TransferEvent();
    private final boolean enabled;
    private final LongSupplier clock;
    private final TransferLabel label;
    private Transfer.State parkedIn;
    private long parkedSince;

    TransferRecording(TransferLabel label, LongSupplier clock) {
        this.enabled = event.isEnabled();
        this.clock = clock;
        this.label = label;
        if (enabled) {
            event.begin();
        }
    }

    /** The owner is about to park in {@code state}; a failed park is overwritten by the next call. */
    void parking(Transfer.State state) {
        if (enabled) {
            parkedIn = state;
            parkedSince = clock.getAsLong();
        }
    }

    /** A new owner runs the transfer: the time since {@link #parking} goes to the state it was parked in. */
    void resumed() {
        if (!enabled || parkedIn == null) {
            return;
        }
        long waited = clock.getAsLong() - parkedSince;
        switch (parkedIn) {
            case WAITING_FOR_SOCKET -> event.socketWait += waited;
            case WAITING_FOR_READ -> event.readWait += waited;
            case WAITING_FOR_BUFFER -> event.bufferWait += waited;
            case WAITING_FOR_THROTTLE -> event.throttleWait += waited;
            default -> {
                // the owner parks only in the four waiting states
            }
        }
        parkedIn = null;
    }

    /** Commits the event, once, as the transfer ends. */
    void ended(Outcome outcome, long bytesWritten) {
        if (!enabled) {
            return;
        }
        event.end();
        if (event.shouldCommit()) {
            event.file = label.file();
            event.range = label.range();
            event.bytes = bytesWritten;
            event.outcome = outcome.name();
            event.commit();
        }
    }
}
