package dev.sluice.servlet;

import dev.sluice.stream.Transfer;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Ends a download's transfer when the container ends its request on its own, outside the output stream: an
 * {@code AsyncListener}'s {@code onError}, or an {@code onComplete} that Sluice did not cause.
 *
 * <p>Why: Tomcat treats an exception that leaves the servlet after {@code startAsync} as the request's failure (its
 * async state becomes {@code MUST_ERROR}): it tells the request's {@code AsyncListener}s and ends the request, but
 * never calls the {@code WriteListener} it was given, neither {@code onWritePossible} nor {@code onError}. An
 * application that lets an exception escape after handing a file over ({@link SluiceSender#send}; or a second
 * {@code send}, which throws) left its transfer waiting for a first {@code onWritePossible} until the stall timeout,
 * holding the file, its {@code maxTransfers} place and a response Tomcat had recycled forcedly; the client got no
 * answer. (Jetty goes on with the download.)
 */
final class ContainerEnds implements AsyncListener {

    private final AtomicReference<Transfer> transfer = new AtomicReference<>();
    private final AsyncEnd end;

    ContainerEnds(AsyncEnd end) {
        this.end = end;
    }

    /** The transfer the engine started for the request: set right after the start. */
    void started(Transfer started) {
        transfer.set(started);
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable cause = event.getThrowable();
        end(() -> cause != null ? cause : new IOException("the container reported an error on the request"));
    }

    @Override
    public void onComplete(AsyncEvent event) {
        end(() -> new CompletedEarly(event.getSuppliedResponse() instanceof HttpServletResponse response
                ? response.getStatus() : 0));
    }

    /**
     * Why a transfer ended when the container completed its request first, with the status the container answered
     * (asked in {@code onComplete}, while the response is still the request's; 0 when not known): Jetty, for one,
     * answers an application's {@code sendError} after {@code send} with its own page.
     */
    static final class CompletedEarly extends IOException {

        private final int status;

        CompletedEarly(int status) {
            super("the container completed the request before its body was sent");
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /**
     * Sluice sets no async timeout (stalls end downloads), but Tomcat times out every request still asynchronous
     * when its web application stops: a cut that waits until Tomcat has sent what it holds ({@link AsyncEnd}) is
     * completed here, before Tomcat's own end of a timed-out request, which writes ahead of that queue.
     */
    @Override
    public void onTimeout(AsyncEvent event) {
        end(() -> new IOException("the container timed the request out"));
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not asked for again: the request is not put into async mode a second time
    }

    /**
     * A live transfer ends as after {@code WriteListener.onError}; after its end, a cut still waiting completes.
     * The cause is made only for a live transfer: every download's request completes through {@code onComplete},
     * nearly always after its transfer ended, and an exception made there for nothing (its stack trace filled) was
     * one per request.
     */
    private void end(Supplier<? extends Throwable> cause) {
        Transfer started = transfer.get();
        if (started == null) {
            return;
        }
        if (!started.state().isTerminal()) {
            started.containerEnded(cause.get());
        } else {
            end.containerEnding();
        }
    }
}
