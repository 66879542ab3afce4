package dev.sluice.stream;

import java.util.ArrayList;
import java.util.List;

/**
 * The shared rate groups one transfer belongs to, asked in a fixed order (its client's group, its user's group,
 * then the global group) for each chunk it is about to send. The transfer's own {@code limitRate} is its {@link Throttle}, asked
 * before these.
 *
 * <p>A chunk goes only once every group has granted it. A group that queues the request announces its grant
 * later through the transfer's inbox; the transfer then calls {@link #granted} and asks again, and the groups
 * that already granted are not asked twice. A group that granted keeps the bytes charged even if a later group
 * makes the chunk wait: the chunk is going to be sent, and asking in a fixed order means no two transfers can
 * each hold what the other waits for.
 *
 * <p>Owner-confined: only the thread that owns the transfer calls it.
 */
final class RateLimits {

    private static final RateLimits NONE = new RateLimits(List.of(), List.of(), List.of());

    /** A keyed group this transfer joined, to leave when it ends. */
    private record Joined(ClientRates registry, Object key) {
    }

    private final List<RateGroup> groups;
    private final List<RateGroup.Member> members;
    private final List<Joined> joined;
    private int grantedSoFar;
    private boolean waiting;
    private boolean closed;

    private RateLimits(List<RateGroup> groups, List<RateGroup.Member> members, List<Joined> joined) {
        this.groups = groups;
        this.members = members;
        this.joined = joined;
    }

    /**
     * The limits of a new transfer, asked in this order: its client's group when {@code clients} and
     * {@code clientKey} are given, its user's group when {@code users} and {@code userKey} are given (both joined
     * now, left in {@link #close}), then {@code global} when given.
     */
    static RateLimits of(ClientRates clients, Object clientKey, ClientRates users, Object userKey, RateGroup global,
            RateGroup.Waiter waiter) {
        List<Joined> joined = new ArrayList<>(2);
        if (clients != null && clientKey != null) {
            joined.add(new Joined(clients, clientKey));
        }
        if (users != null && userKey != null) {
            joined.add(new Joined(users, userKey));
        }
        if (joined.isEmpty() && global == null) {
            return NONE;
        }
        List<RateGroup> groups = new ArrayList<>(3);
        for (Joined group : joined) {
            groups.add(group.registry().join(group.key()));
        }
        if (global != null) {
            groups.add(global);
        }
        List<RateGroup.Member> members = groups.stream().map(g -> new RateGroup.Member(waiter)).toList();
        return new RateLimits(List.copyOf(groups), members, List.copyOf(joined));
    }

    boolean limits() {
        return !groups.isEmpty();
    }

    /**
     * True when every group lets {@code bytes} go now: send them at once. False when a group queued the request
     * or an earlier request still waits: the transfer parks until its grant arrives.
     */
    boolean permit(long bytes) {
        if (waiting) {
            return false;
        }
        while (grantedSoFar < groups.size()) {
            if (!groups.get(grantedSoFar).acquire(members.get(grantedSoFar), bytes)) {
                waiting = true;
                return false;
            }
            grantedSoFar++;
        }
        grantedSoFar = 0;
        return true;
    }

    /** Whether no chunk is asked for or granted in part: the next {@link #permit} starts with the first group. */
    boolean betweenChunks() {
        return !waiting && grantedSoFar == 0;
    }

    /** The group that queued the request granted it. */
    void granted() {
        if (waiting) {
            waiting = false;
            grantedSoFar++;
        }
    }

    /** The transfer ended: leave every queue and the client's group. Idempotent. */
    void close() {
        if (closed || groups.isEmpty()) { // the shared NONE is never written
            return;
        }
        closed = true;
        for (int i = 0; i < groups.size(); i++) {
            groups.get(i).cancel(members.get(i));
        }
        for (Joined group : joined) {
            group.registry().leave(group.key());
        }
    }
}
