package dev.sluice.stream;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * The per-client rate groups ({@code limitRatePerClient}): one group per client key, created when the client's
 * first transfer starts. When its last transfer ends, the group stays until it is {@linkplain
 * RateGroup#nanosUntilFresh() fresh}, that is until the bytes the client took are paid for at its rate: a client
 * that fetches one request after another, say a file in short ranges, meets the debt of the previous one instead of
 * the full burst of a new group. Once fresh, the group goes, so the map holds only the clients downloading now or
 * within the last {@code chunkSize / limitRatePerClient} + 50 ms (the most one chunk of debt and the burst take to
 * pay: 5 s at 256 KiB and 50 KiB/s), however many have come and gone. An idle group costs a few hundred bytes
 * and one pending timer task.
 *
 * <p>Joining and leaving count a group's transfers under this registry's lock, in one step with the lookup, so a
 * transfer can never join a group that is being removed. A group's own lock may be taken inside this one, never
 * the other way round: a group calls nobody while it holds its lock.
 */
final class ClientRates {

    /** A group, how many running transfers belong to it, and whether a timer will look at it again. */
    private static final class Entry {
        final RateGroup group;
        int transfers;
        boolean recheckSet;

        Entry(RateGroup group) {
            this.group = group;
        }
    }

    private final long bytesPerSecond;
    private final LongSupplier clock;
    private final TransferEngine.Scheduler scheduler;
    private final Map<Object, Entry> groups = new HashMap<>();

    ClientRates(long bytesPerSecond, LongSupplier clock, TransferEngine.Scheduler scheduler) {
        this.bytesPerSecond = bytesPerSecond;
        this.clock = clock;
        this.scheduler = scheduler;
    }

    /** The group of {@code clientKey}, created if the client has none; pair with {@link #leave}. */
    synchronized RateGroup join(Object clientKey) {
        Entry entry = groups.computeIfAbsent(clientKey, key -> new Entry(new RateGroup(bytesPerSecond, clock,
                scheduler)));
        entry.transfers++;
        return entry.group;
    }

    /** One transfer of {@code clientKey} ended; the group goes with its last transfer once it is fresh. */
    synchronized void leave(Object clientKey) {
        Entry entry = groups.get(clientKey);
        if (entry != null && --entry.transfers == 0 && !entry.recheckSet) {
            removeWhenFresh(clientKey, entry);
        }
    }

    /**
     * Removes an idle group that is fresh, or looks again when it will be. One timer at most per group: while it
     * is pending, a transfer that joins keeps the group, and the timer looks again when it fires.
     */
    private synchronized void removeWhenFresh(Object clientKey, Entry entry) {
        if (entry.transfers > 0 || groups.get(clientKey) != entry) {
            return;
        }
        long wait = entry.group.nanosUntilFresh();
        if (wait > 0) {
            try {
                scheduler.schedule(() -> recheck(clientKey, entry), wait);
                entry.recheckSet = true;
                return;
            } catch (RejectedExecutionException e) {
                // The engine has stopped: no transfer will join again.
            }
        }
        groups.remove(clientKey);
    }

    private synchronized void recheck(Object clientKey, Entry entry) {
        entry.recheckSet = false;
        removeWhenFresh(clientKey, entry);
    }

    /** Clients that have a group now: those downloading, and those whose last download is not yet paid for. */
    synchronized int size() {
        return groups.size();
    }
}
