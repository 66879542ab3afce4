package dev.sluice.it;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, instead of sleeping and hoping. */
public final class Await {

    private Await() {
    }

    public static void until(String what, Duration deadline, BooleanSupplier condition) {
        until(what, deadline, condition, () -> "");
    }

    /** Polls {@code condition} until it holds; past the deadline, fails with {@code what} and the state. */
    public static void until(String what, Duration deadline, BooleanSupplier condition, Supplier<String> state) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not true after " + deadline.toMillis() + " ms: " + what + " "
                        + state.get());
            }
            LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
        }
    }

    /**
     * Waits until {@code thread} waits for a monitor (another thread holds it): how a test proves that a call
     * waits for one in progress. Fails if the thread ends first, or past the deadline.
     */
    public static void untilBlocked(Thread thread, String what, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (thread.getState() != Thread.State.BLOCKED) {
            if (!thread.isAlive()) {
                throw new AssertionError(what + ": it returned instead of waiting");
            }
            if (System.nanoTime() > end) {
                throw new AssertionError(what + ": neither returned nor waited after " + deadline.toMillis()
                        + " ms, " + thread.getState());
            }
            Thread.onSpinWait();
        }
    }
}
