package dev.sluice.stream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * One bytes-per-second budget shared by several transfers: all of them ({@code globalRate}) or all those of one
 * client ({@code limitRatePerClient}). The engine knows nothing of who the members are; a group only hands out
 * permission to send a number of bytes.
 *
 * <h2>The budget: a token bucket with a small burst</h2>
 * The bucket is kept as the time its debt is paid ({@code readyAtNanos}): a request may go when that time has come,
 * and moves it on by the time its bytes are worth at the group's rate. A request may therefore take the bucket
 * into debt by one chunk, which keeps any chunk size possible without a bucket as large as a chunk. An idle group
 * banks at most {@link #BURST_NANOS} of its rate, so over any interval {@code T} the group sends at most
 * {@code rate * (T + 50 ms)} plus one chunk.
 *
 * <h2>Fair sharing: the least served goes first</h2>
 * When the budget is spent, requests queue, and each time the budget allows one, it goes to the member that has
 * been served the fewest bytes (arrival order among equals). Transfers that keep asking are thus served
 * alternately and converge to equal shares of the rate; a new or small response starts with the least service and
 * goes ahead of long-running ones, so small responses are not queued behind big ones. A member that does not ask
 * (its socket is full because its client is slow, or it waits for a disk read) takes nothing, and the others
 * share what it leaves. So that nobody can bank service by being idle or new and then shut the others out, a
 * member's count is raised, when it asks, to at least the group's virtual time (the count of the last member
 * served) minus a head start: {@link #HEAD_START_NANOS} of the group's rate while it keeps asking, so a newcomer
 * goes first for its first half second's worth of the rate, no longer; but only {@link #RESUME_NANOS} of it when it
 * comes back after more than that long without asking. Why the return is treated apart: a member stops asking while
 * its socket is full, and a slow client's socket fills and drains again and again. With the newcomer's head start at
 * every return, four clients reading at 200 KB/s under a 4 MiB/s {@code globalRate} each took half a second of the
 * whole rate whenever their sockets drained, and the two fast clients beside them got nothing for seconds at a time
 * (a black-box run, 2026-12-07). A member asking again right after its grant has not been away: raising it then
 * would take a newcomer's head start back after its first chunk.
 *
 * <h2>Concurrency</h2>
 * A group is shared by transfers owned by different threads, so, unlike a transfer's own {@link Throttle}, it is
 * guarded by its own lock. The lock is held only to update the bucket and the queue: grants are announced to
 * their members, and the group's timer is set, after it is released, so no thread ever holds it while a transfer
 * writes to a socket or runs its pass, and a group can never be part of a lock cycle. A queued member holds no
 * thread: a grant is announced to its {@link Waiter}, which posts an event to its transfer's inbox. One timer at
 * most is pending per group, set through the engine's scheduler for when the bucket's debt is paid.
 */
final class RateGroup {

    /** How much unused rate an idle group keeps: the largest burst it allows beyond one chunk. */
    static final long BURST_NANOS = 50_000_000L;

    /** How far behind the group's virtual time a new member may start: its head start. */
    static final long HEAD_START_NANOS = 500_000_000L;

    /**
     * How long a member may go between a grant and its next request and still count as asking all along (the
     * moment it takes to write the chunk); and how far behind the group's virtual time one that took longer may
     * resume: too little to have banked service while it did not ask.
     */
    static final long RESUME_NANOS = 50_000_000L;

    /** Told that a queued request was granted: outside the group's lock, on the granting thread. */
    interface Waiter {
        void rateGranted();
    }

    /** One transfer's place in the group. Its fields are guarded by the group's lock. */
    static final class Member {
        private final Waiter waiter;
        private long served;
        private long order;
        private long wanted;
        private boolean queued;
        private boolean granted;
        private long grantedAtNanos;

        Member(Waiter waiter) {
            this.waiter = waiter;
        }
    }

    private static final Comparator<Member> LEAST_SERVED_FIRST = Comparator.<Member>comparingLong(m -> m.served)
            .thenComparingLong(m -> m.order);

    private final long bytesPerSecond;
    private final long headStartBytes;
    private final long resumeBytes;
    private final LongSupplier clock;
    private final TransferEngine.Scheduler scheduler;

    // Guarded by this.
    private final TreeSet<Member> waiting = new TreeSet<>(LEAST_SERVED_FIRST);
    private long readyAtNanos;
    private long virtualTime;
    private long arrivals;
    private boolean timerSet;

    RateGroup(long bytesPerSecond, LongSupplier clock, TransferEngine.Scheduler scheduler) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive: " + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
        this.headStartBytes = bytesFor(HEAD_START_NANOS);
        this.resumeBytes = bytesFor(RESUME_NANOS);
        this.clock = clock;
        this.scheduler = scheduler;
        this.readyAtNanos = clock.getAsLong() - BURST_NANOS;
    }

    /**
     * Asks to send {@code bytes} now. True: granted, send them. False: queued, and {@code member}'s waiter will be
     * told once it is granted (unless {@link #cancel} comes first). A member asks again only after its grant.
     */
    boolean acquire(Member member, long bytes) {
        List<Member> granted;
        long timerDelay;
        boolean self;
        synchronized (this) {
            if (member.queued) {
                throw new IllegalStateException("a queued member asked again");
            }
            long now = clock.getAsLong();
            boolean returning = member.granted && now - member.grantedAtNanos > RESUME_NANOS;
            member.served = Math.max(member.served, virtualTime - (returning ? resumeBytes : headStartBytes));
            if (waiting.isEmpty() && now >= readyAtNanos) {
                charge(member, bytes, now);
                return true;
            }
            member.wanted = bytes;
            member.queued = true;
            member.order = arrivals++;
            waiting.add(member);
            granted = dispatch(now);
            self = granted.remove(member);
            timerDelay = timerDelay(now);
        }
        announce(granted, timerDelay);
        return self;
    }

    /** Forgets {@code member}'s queued request (its transfer ended). A grant that raced with this still arrives. */
    void cancel(Member member) {
        synchronized (this) {
            if (member.queued) {
                waiting.remove(member);
                member.queued = false;
            }
        }
    }

    /**
     * How long until this group, if nobody asks meanwhile, owes nothing and has banked its whole burst: from then
     * on it grants exactly as a new group would, so it may be dropped and made again. Zero or less: now.
     */
    synchronized long nanosUntilFresh() {
        return readyAtNanos + BURST_NANOS - clock.getAsLong();
    }

    /** Members waiting for a grant now; for tests. */
    synchronized int waiting() {
        return waiting.size();
    }

    private void timerFired() {
        List<Member> granted;
        long timerDelay;
        synchronized (this) {
            timerSet = false;
            long now = clock.getAsLong();
            granted = dispatch(now);
            timerDelay = timerDelay(now);
        }
        announce(granted, timerDelay);
    }

    /** Grants queued requests, least served first, while the budget allows. Under the lock. */
    private List<Member> dispatch(long now) {
        List<Member> granted = new ArrayList<>();
        while (!waiting.isEmpty() && now >= readyAtNanos) {
            Member next = waiting.pollFirst();
            next.queued = false;
            charge(next, next.wanted, now);
            granted.add(next);
        }
        return granted;
    }

    /** The delay for a timer to set, or -1 when none is needed. Under the lock. */
    private long timerDelay(long now) {
        if (waiting.isEmpty() || timerSet) {
            return -1;
        }
        timerSet = true;
        return Math.max(0, readyAtNanos - now);
    }

    private void charge(Member member, long bytes, long now) {
        readyAtNanos = Math.max(readyAtNanos, now - BURST_NANOS) + nanosFor(bytes);
        virtualTime = Math.max(virtualTime, member.served);
        member.served += bytes;
        member.wanted = 0;
        member.granted = true;
        member.grantedAtNanos = now;
    }

    /** Outside the lock: a grant wakes a transfer, which must never run while a group's lock is held. */
    private void announce(List<Member> granted, long timerDelay) {
        if (timerDelay >= 0) {
            try {
                scheduler.schedule(this::timerFired, timerDelay);
            } catch (RejectedExecutionException e) {
                // The engine has stopped and is ending every transfer, the queued ones included.
            }
        }
        for (Member member : granted) {
            member.waiter.rateGranted();
        }
    }

    private long nanosFor(long bytes) {
        return (long) Math.ceil(bytes * 1_000_000_000.0 / bytesPerSecond);
    }

    private long bytesFor(long nanos) {
        return (long) (bytesPerSecond * (nanos / 1_000_000_000.0));
    }
}
