package dev.sluice.servlet;

import jakarta.servlet.AsyncContext;
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
 * {@code dispatch()}, which do not block.
 */
final class AsyncEnd {

    private static final Logger LOG = Logger.getLogger(AsyncEnd.class.getName());

    private final AsyncContext async;
    private boolean ended; // guarded by this

    AsyncEnd(AsyncContext async) {
        this.async = async;
    }

    /** Ends the request by {@code how} ({@code complete}, or a dispatch), unless it has been ended already. */
    synchronized void end(Consumer<AsyncContext> how) {
        if (ended) {
            return;
        }
        ended = true;
        try {
            how.accept(async);
        } catch (IllegalStateException e) {
            // The container ended the request already: it does after an onError that returned without ending it.
            LOG.fine("Sluice: request already ended by the container: " + e.getMessage());
        }
    }

    /** On the container's thread, inside {@code onError}: completes now, while the request is still this one. */
    void containerEnding() {
        end(AsyncContext::complete);
    }
}
