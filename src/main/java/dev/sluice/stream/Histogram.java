package dev.sluice.stream;

import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A histogram with fixed bucket bounds, counted without a lock: what Prometheus calls a histogram (cumulative
 * buckets, a sum and a count). Many threads observe; {@link #snapshot} reads.
 */
public final class Histogram {

    private final double[] upperBounds;
    private final LongAdder[] buckets;
    private final DoubleAdder sum = new DoubleAdder();
    private final LongAdder count = new LongAdder();

    Histogram(double... upperBounds) {
        this.upperBounds = upperBounds.clone();
        this.buckets = new LongAdder[upperBounds.length];
        Arrays.setAll(buckets, i -> new LongAdder());
    }

    void observe(double value) {
        for (int i = 0; i < upperBounds.length; i++) {
            if (value <= upperBounds[i]) {
                buckets[i].increment();
                break;
            }
        }
        sum.add(value);
        count.increment();
    }

    Snapshot snapshot() {
        long[] cumulative = new long[upperBounds.length];
        long running = 0;
        for (int i = 0; i < upperBounds.length; i++) {
            running += buckets[i].sum();
            cumulative[i] = running;
        }
        long total = count.sum();
        return new Snapshot(upperBounds.clone(), cumulative, sum.sum(), Math.max(total, running));
    }

    /**
     * A histogram as read at one moment.
     *
     * @param upperBounds each bucket's upper bound, ascending (the {@code +Inf} bucket is {@link #count})
     * @param cumulativeCounts observations at or below each bound
     * @param sum the sum of all observations
     * @param count all observations
     */
    public record Snapshot(double[] upperBounds, long[] cumulativeCounts, double sum, long count) {
    }
}
