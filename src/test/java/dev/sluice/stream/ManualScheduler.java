package dev.sluice.stream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Timed tasks on a clock the test moves by hand: a timer fires only when the test lets time pass. */
final class ManualScheduler implements TransferEngine.Scheduler {

    private record Timed(long dueNanos, long order, Runnable task) {
    }

    private final AtomicLong clock;
    private final List<Timed> timers = new ArrayList<>();
    private long order;

    ManualScheduler(AtomicLong clock) {
        this.clock = clock;
    }

    @Override
    public void schedule(Runnable task, long delayNanos) {
        timers.add(new Timed(clock.get() + delayNanos, order++, task));
    }

    int pending() {
        return timers.size();
    }

    /** When the next timer is due; {@code Long.MAX_VALUE} when none is set. */
    long nextDueNanos() {
        return timers.stream().mapToLong(Timed::dueNanos).min().orElse(Long.MAX_VALUE);
    }

    /** Moves the clock to the next timer and runs it; false when no timer is set. */
    boolean fireNext() {
        Timed next = timers.stream().min(Comparator.comparingLong(Timed::dueNanos).thenComparingLong(Timed::order))
                .orElse(null);
        if (next == null) {
            return false;
        }
        timers.remove(next);
        clock.set(Math.max(clock.get(), next.dueNanos()));
        next.task().run();
        return true;
    }
}
