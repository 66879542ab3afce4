package dev.sluice.stream;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The per-client rate groups ({@code limitRatePerClient}): one group per client key, created when the client's
 * first transfer starts and removed when its last one ends, so the map holds only clients that are downloading
 * now, however many have come and gone.
 *
 * <p>Joining and leaving count a group's transfers under this registry's lock, in one step with the lookup, so a
 * transfer can never join a group that is being removed. The lock is never held together with a group's own lock.
 */
final class ClientRates {

    /** A group and how many running transfers belong to it. */
    private static final class Entry {
        final RateGroup group;
        int transfers;

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

    /** The group of {@code clientKey}, created if this is the client's only transfer; pair with {@link #leave}. */
    synchronized RateGroup join(Object clientKey) {
        Entry entry = groups.computeIfAbsent(clientKey, key -> new Entry(new RateGroup(bytesPerSecond, clock,
                scheduler)));
        entry.transfers++;
        return entry.group;
    }

    /** One transfer of {@code clientKey} ended; the group goes with its last transfer. */
    synchronized void leave(Object clientKey) {
        Entry entry = groups.get(clientKey);
        if (entry != null && --entry.transfers == 0) {
            groups.remove(clientKey);
        }
    }

    /** Clients with a running transfer: the groups held now. */
    synchronized int size() {
        return groups.size();
    }
}
