package dev.sluice.launcher;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launcher's connector: Jetty's {@link ServerConnector}, but a failing {@code accept} (the process out of file
 * descriptors, {@code EMFILE}) is logged as one line, then summed up at most once a minute, instead of Jetty's WARN
 * with a stack trace for every retry (one a second per acceptor, for as long as the descriptors stay spent). The
 * retry itself is Jetty's: the acceptor pauses a second and accepts again.
 */
class LauncherConnector extends ServerConnector {

    private static final Logger LOG = LoggerFactory.getLogger(LauncherConnector.class);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

    private final AcceptFailures failures = new AcceptFailures(System::nanoTime);

    LauncherConnector(Server server, int acceptors, int selectors, ConnectionFactory... factories) {
        super(server, acceptors, selectors, factories);
    }

    @Override
    protected boolean handleAcceptFailure(Throwable failure) {
        if (!isRunning() || !isOpen() || Thread.currentThread().isInterrupted() || !(failure instanceof IOException)
                || failure instanceof ClosedChannelException) {
            return super.handleAcceptFailure(failure); // stopping (its channel closed, its acceptor interrupted)
        }
        String line = failures.count(failure);
        if (line != null) {
            LOG.warn(line);
        }
        try {
            Thread.sleep(RETRY_PAUSE.toMillis()); // as Jetty does, so that a spent limit is not a busy loop
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The lines for failed accepts: the first at once, then a sum at most once per {@link #INTERVAL}. */
    static final class AcceptFailures {

        static final Duration INTERVAL = Duration.ofMinutes(1);

        private final LongSupplier nanoClock;
        private long failed;
        private long nextLineNanos;
        private boolean first = true;

        AcceptFailures(LongSupplier nanoClock) {
            this.nanoClock = nanoClock;
        }

        /** Counts one failed accept; returns the line to log now, or null while the interval runs. */
        synchronized String count(Throwable failure) {
            failed++;
            long now = nanoClock.getAsLong();
            if (!first && now - nextLineNanos < 0) {
                return null;
            }
            String reason = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getName();
            String line = first
                    ? "Sluice: cannot accept connections: " + reason + ". Retrying each second; the next failures"
                            + " are summed up here at most once a minute (too many open files: raise `ulimit -n`)"
                    : "Sluice: " + failed + " more failed accepts since the last such line, the last: " + reason;
            first = false;
            failed = 0;
            nextLineNanos = now + INTERVAL.toNanos();
            return line;
        }
    }
}
