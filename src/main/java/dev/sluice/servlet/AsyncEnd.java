package dev.sluice.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Ends one download's {@code AsyncContext} exactly once: when its transfer ends, or when the container reports an
 * error, whichever comes first.
 *
 * <p>Why the container's error ends it, and why a lock: once {@code WriteListener.onError} returns, a container may
 * complete and recycle the request and response itself and give them to another request. Tomcat does, and pools
 * them across HTTP/2 streams, so a {@code complete()} that a read thread made after that ended or committed the
 * response of another stream (seen: a new stream's response "already committed" before Sluice had written
 * anything). So {@link #containerEnding} completes inside {@code onError}, and first waits for an end that another
 * thread has begun to return; after it, no end starts. The lock is held across one {@code complete()} or
 * {@code dispatch()}, or one {@code isReady()}, which do not block.
 *
 * <p>Why a cut waits, on Tomcat's HTTP/1.1 and AJP, until the container has sent what it holds
 * ({@link #endOnceSent}): a download cut while its socket takes nothing (its client stalled, its file failed)
 * leaves bytes in Tomcat 11: the tail of the last chunk (up to 8 KiB) in its servlet layer's buffer, the rest in the
 * connection's queue of non-blocking writes. The cut's {@code dispatch()} makes Tomcat's writes blocking again
 * ({@code AsyncStateMachine.clearNonBlockingListeners}), and the cut request's {@code ErrorReportValve} then
 * flushes that tail with a blocking write, which goes to the socket before the queue
 * ({@code SocketWrapperBase.writeBlocking} does not look at it): the client got the chunk's tail where its start
 * belonged, a spliced body. Once Tomcat calls {@code onWritePossible}, its queue is empty, and the cut writes in
 * order. A client that never reads again is ended by Tomcat's write timeout ({@code connectionTimeout}, counted
 * from the same last byte as {@code stallTimeout}) through {@code onError}, a stopping web application's requests
 * by its timeout through {@code onTimeout} ({@link ContainerEnds}), which complete; with no write timeout
 * ({@code connectionTimeout="-1"}) the connection stays until its client reads or goes. The transfer has given back
 * its file, buffers and place already.
 */
final class AsyncEnd {

    private static final Logger LOG = Logger.getLogger(AsyncEnd.class.getName());

    private final AsyncContext async;
    private final ServletOutputStream waitsForSent;
    private boolean ended; // guarded by this
    private Consumer<AsyncContext> waiting; // guarded by this

    /**
     * @param waitsForSent the response's stream, whose {@code isReady()} says when the container holds nothing
     *         unsent, for a container where an end must wait for that (Tomcat); {@code null} elsewhere
     */
    AsyncEnd(AsyncContext async, ServletOutputStream waitsForSent) {
        this.async = async;
        this.waitsForSent = waitsForSent;
    }

    /** Ends the request by {@code how} ({@code complete}, or a dispatch), unless it has been ended already. */
    synchronized void end(Consumer<AsyncContext> how) {
        if (ended) {
            return;
        }
        ended = true;
        waiting = null;
        try {
            how.accept(async);
        } catch (IllegalStateException e) {
            // The container ended the request already: it does after an onError that returned without ending it.
            LOG.fine("Sluice: request already ended by the container: " + e.getMessage());
        }
    }

    /**
     * Ends the request by {@code how} once the container has sent every byte it was given: now, if its stream is
     * ready, or else in the {@code onWritePossible} that follows ({@link #writePossible}); a container error that
     * comes first ends it instead. Where nothing needs to wait, now. Called after the transfer ended, which no longer
     * touches the stream.
     */
    void endOnceSent(Consumer<AsyncContext> how) {
        if (waitsForSent == null) {
            end(how);
            return;
        }
        synchronized (this) {
            if (ended) {
                return;
            }
            waiting = how;
            // Under the lock, so that it never reaches a request the container ended and recycled (an onError ends
            // it through containerEnding, which takes the lock first); isReady() does not block or call back. False
            // registers the container to call onWritePossible; an onWritePossible that came before this call, while
            // the transfer was ending, left the stream ready.
            boolean ready;
            try {
                ready = waitsForSent.isReady();
            } catch (RuntimeException e) {
                LOG.fine("Sluice: isReady() after the end: " + e);
                ready = true;
            }
            if (ready) {
                end(how);
            }
        }
    }

    /** The container can take a write: an end that waits for it ({@link #endOnceSent}) happens now. */
    synchronized void writePossible() {
        if (waiting != null) {
            end(waiting);
        }
    }

    /** On the container's thread, inside {@code onError}: completes now, while the request is still this one. */
    void containerEnding() {
        end(AsyncContext::complete);
    }
}
