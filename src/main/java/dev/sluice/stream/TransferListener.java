package dev.sluice.stream;

import java.io.IOException;

/**
 * Told once, when a transfer ends (and asked once, before its first write: {@link #beforeFirstWrite}). The servlet
 * layer completes the {@code AsyncContext} here. Called on whichever thread ended the transfer: a container thread,
 * or one of the engine's read threads (which also run the passes that timers and grants start). By then every buffer
 * the transfer held is back in the pool or retired, and the file channel is closed, except while a read is still in
 * flight: that read closes the channel and returns its buffer when it comes back, so the end is never delayed by a
 * slow disk.
 */
@FunctionalInterface
public interface TransferListener {

    /**
     * @param outcome how the transfer ended
     * @param bytesWritten body bytes handed to the container
     * @param cause why it did not complete, or {@code null} when it completed
     */
    void ended(Outcome outcome, long bytesWritten, Throwable cause);

    /**
     * The whole story of the end, with the time spent and where it went; what the engine calls. By default it
     * hands {@link #ended(Outcome, long, Throwable)} the outcome, the bytes and the cause.
     */
    default void ended(TransferSummary summary) {
        ended(summary.outcome(), summary.bytesWritten(), summary.cause());
    }

    /**
     * The container reported an error ({@code WriteListener.onError}) and will end the request itself once
     * {@code onError} returns. Called on the container's thread inside {@code onError}, at most once, after the
     * engine's last call on the response's output stream. The transfer's end is still told to {@code ended},
     * perhaps on another thread after {@code onError} has returned, when a container may already have recycled
     * the request and response for another request (Tomcat does): a listener that completes the
     * {@code AsyncContext} must therefore do it here or in {@code ended}, whichever comes first, never later.
     * Whatever it throws is logged by the engine, not passed to the container. By default nothing.
     *
     * @param cause what the container reported
     */
    default void containerEnding(Throwable cause) {
    }

    /**
     * The container called {@code onWritePossible} after the transfer ended: it has sent what it held. A listener
     * that waits for that before it ends the request (Tomcat's, see {@code AsyncEnd}) ends it here. Called on the
     * container's thread, inside {@code onWritePossible}, once per call of it; the engine no longer touches the
     * output stream. It may come before {@code ended} has been told, when the container calls back while the
     * transfer is ending, so a listener must also ask {@code isReady()} itself after the end. Whatever it throws is
     * logged by the engine. By default nothing.
     */
    default void writePossibleAfterEnd() {
    }

    /**
     * Asked once, on the thread about to make the body's first write, right before it, and only while the
     * container has reported no error: whether the response may still carry the body. An {@code IOException} (or a
     * {@code RuntimeException}) from here ends the transfer, nothing written, as a failed write does: as
     * {@link Outcome#ABORTED} with it as the cause (as {@link Outcome#FAILED} if the file turns out to be at fault).
     * The servlet layer refuses when the application answered otherwise after handing the body over (a
     * {@code sendError} after {@code send}): the status is no longer the body's. By default yes.
     *
     * @throws IOException when the body must not go
     */
    default void beforeFirstWrite() throws IOException {
    }
}
