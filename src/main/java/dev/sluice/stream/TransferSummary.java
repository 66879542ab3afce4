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
 */
public record TransferSummary(Outcome outcome, long bytesWritten, long length, Throwable cause, long durationNanos,
        Waits waits) {
}
