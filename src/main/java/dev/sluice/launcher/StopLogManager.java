package dev.sluice.launcher;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.LogManager;

/**
 * The launcher's {@code java.util.logging} manager: it keeps the log handlers until the server has stopped.
 *
 * <p>Why: the JDK resets logging (closing every handler) in a shutdown hook of its own, and shutdown hooks run
 * at once, in no order. On SIGTERM the launcher's stop lets downloads run for up to {@code --stopTimeout}; the lines
 * their ends write (the access log, a failure's WARNING) came after the reset and were lost. So a reset during
 * shutdown waits here until {@link #serverStopped} (or a bound, so that a stop that hangs cannot keep the JVM
 * alive for ever), then resets as usual.
 *
 * <p>The root logger's handlers must exist before the shutdown begins: the JDK creates them on first use, and
 * its shutdown hook forbids creating them from then on, so a server that had logged nothing through them yet would
 * lose its stop's lines all the same. The launcher asks for them at start-up.
 *
 * <p>It takes effect only as the JVM's log manager: the launcher names it in the system property
 * {@code java.util.logging.manager} before anything uses logging, unless the user named another. (Not from a
 * method of this class: loading it loads {@link LogManager}, which reads the property as it loads.)
 */
public final class StopLogManager extends LogManager {

    private static final CountDownLatch STOPPED = new CountDownLatch(1);
    private static volatile long waitMillis;

    /** How long a reset during shutdown waits for the server's stop, at most. */
    static void keepHandlersWhileStopping(java.time.Duration longest) {
        waitMillis = longest.toMillis();
    }

    /** The server has stopped: a reset may go ahead. */
    static void serverStopped() {
        STOPPED.countDown();
    }

    @Override
    public void reset() {
        if (waitMillis > 0 && isShuttingDown()) {
            try {
                STOPPED.await(waitMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        super.reset();
    }

    /** Whether the JVM is running its shutdown hooks: adding one then is refused. */
    static boolean isShuttingDown() {
        try {
            Thread probe = new Thread(() -> { });
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
