package dev.sluice.stream;

/**
 * Told once, when a transfer ends. The servlet layer completes the {@code AsyncContext} here. Called on
 * whichever thread ended the transfer (a container thread, a read thread or the timer), after the file channel
 * is closed and every buffer the transfer owned is back in the pool.
 */
@FunctionalInterface
public interface TransferListener {

    /**
     * @param outcome how the transfer ended
     * @param bytesWritten body bytes handed to the container
     * @param cause why it did not complete, or {@code null} when it completed
     */
    void ended(Outcome outcome, long bytesWritten, Throwable cause);
}
