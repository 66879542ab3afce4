package dev.sluice.ops;

import dev.sluice.stream.Histogram;
import dev.sluice.stream.TransferMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Sluice's counters as Micrometer meters, for applications that embed it and have a {@link MeterRegistry}: the
 * same families, names and help as the {@code metricsPath} text ({@link MetricFamilies}), each read from a fresh
 * {@link TransferMetrics} snapshot when the registry asks. With Micrometer's Prometheus registry the names come out
 * as the endpoint's ({@code sluice.bytes.sent} is {@code sluice_bytes_sent_total}). The two histograms have no
 * buckets here (Micrometer cannot take buckets counted elsewhere): transfer duration is a
 * {@link FunctionTimer}, bytes per transfer a distribution summary of count and total.
 *
 * <pre>{@code
 * SluiceServlet servlet = ...;
 * new SluiceMeterBinder(servlet::metrics).bindTo(registry);
 * }</pre>
 *
 * A {@link dev.sluice.servlet.SluiceServlet} binds one by itself when Micrometer is on its class path: to the
 * registry in its servlet context's attribute {@code dev.sluice.meterRegistry}, else to Micrometer's global
 * registry, and {@link #close() removes} its meters when it is destroyed.
 */
public final class SluiceMeterBinder implements MeterBinder, AutoCloseable {

    private final Supplier<TransferMetrics> metrics;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private MeterRegistry registry;

    /** Meters without tags, reading {@code metrics}. */
    public SluiceMeterBinder(Supplier<TransferMetrics> metrics) {
        this(metrics, Tags.empty());
    }

    /** Meters with {@code tags} (e.g. which servlet), reading {@code metrics}. */
    public SluiceMeterBinder(Supplier<TransferMetrics> metrics, Iterable<Tag> tags) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.tags = Tags.of(tags);
    }

    @Override
    public synchronized void bindTo(MeterRegistry target) {
        registry = target;
        for (MetricFamilies.Family family : MetricFamilies.FAMILIES) {
            for (MetricFamilies.Sample sample : family.samples()) {
                Tags sampleTags = family.label() == null ? tags : tags.and(family.label(), sample.labelValue());
                if (family.kind() == MetricFamilies.Kind.COUNTER) {
                    meters.add(FunctionCounter.builder(family.micrometerName(), this,
                                    b -> sample.read().applyAsDouble(b.metrics.get()))
                            .description(family.help()).baseUnit(family.micrometerUnit()).tags(sampleTags)
                            .register(target));
                } else {
                    meters.add(Gauge.builder(family.micrometerName(), this,
                                    b -> sample.read().applyAsDouble(b.metrics.get()))
                            .description(family.help()).baseUnit(family.micrometerUnit()).tags(sampleTags)
                            .register(target));
                }
            }
        }
        MetricFamilies.HistogramFamily durations = MetricFamilies.HISTOGRAMS.get(0);
        meters.add(FunctionTimer.builder(durations.micrometerName(), this,
                        b -> durations.read().apply(b.metrics.get()).count(),
                        b -> durations.read().apply(b.metrics.get()).sum(), TimeUnit.SECONDS)
                .description(durations.help()).tags(tags).register(target));
        MetricFamilies.HistogramFamily sizes = MetricFamilies.HISTOGRAMS.get(1);
        meters.add(Meter.builder(sizes.micrometerName(), Meter.Type.DISTRIBUTION_SUMMARY, List.of(
                        new Measurement(() -> (double) snapshot(sizes).count(), Statistic.COUNT),
                        new Measurement(() -> snapshot(sizes).sum(), Statistic.TOTAL)))
                .description(sizes.help()).baseUnit(sizes.unit()).tags(tags).register(target));
    }

    private Histogram.Snapshot snapshot(MetricFamilies.HistogramFamily family) {
        return family.read().apply(metrics.get());
    }

    /** The meters this binder registered, for tests and for removal. */
    public synchronized List<Meter> meters() {
        return List.copyOf(meters);
    }

    /** Removes the meters from the registry they were bound to (a stopped servlet leaves none behind). */
    @Override
    public synchronized void close() {
        if (registry != null) {
            meters.forEach(registry::remove);
        }
        meters.clear();
        registry = null;
    }
}
