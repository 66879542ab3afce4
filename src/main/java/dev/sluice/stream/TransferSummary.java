package dev.sluice.stream;

/**
 * How one transfer ended, for its {@link TransferListener}: what an access log writes.
 *
 * @param outcome how it ended
 * @param bytesWritten body bytes handed to the container
 * @param length body bytes it was to send
 * @param cause why it did not complete, or {@code null} when it completed
 * @param durationNanos from its start to its end
 * @param waits the time it spent parked, by what it awaited
 * @param startChunk the chunk size it started at: 16 KiB (or {@code chunkSize} if smaller), or what its request's
 *        {@link TransferRequest#startChunk} allowed
 * @param earnedChunk the chunk size its client had proven it drains when it ended, 0 if the client never proved
 *        itself (see {@link ChunkSizer}): what a later transfer to the same client may start at
 */
public record TransferSummary(Outcome outcome, long bytesWritten, long length, Throwable cause, long durationNanos,
        Waits waits, int startChunk, int earnedChunk) {

    /** A summary that says nothing of chunk sizes. */
    public TransferSummary(Outcome outcome, long bytesWritten, long length, Throwable cause, long durationNanos,
            Waits waits) {
        this(outcome, bytesWritten, length, cause, durationNanos, waits, 0, 0);
    }
}
