package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.stream.TransferMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The same families as the metrics text, in a Micrometer registry, read live from the snapshot. */
class SluiceMeterBinderTest {

    @Test
    void everyFamilyIsAMeterWithTheSnapshotsValue() {
        AtomicReference<TransferMetrics> current = new AtomicReference<>(PrometheusTextTest.distinct());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SluiceMeterBinder binder = new SluiceMeterBinder(current::get, Tags.of("servlet", "files"));
        binder.bindTo(registry);

        TransferMetrics m = current.get();
        assertEquals(3, registry.get("sluice.active.transfers").tag("servlet", "files").gauge().value());
        FunctionCounter sent = registry.get("sluice.bytes.sent").functionCounter();
        assertEquals(1_000_003, sent.count());
        assertEquals(null, sent.getId().getBaseUnit(), "the name has its unit already");
        assertEquals(5, registry.get("sluice.transfers").tag("outcome", "completed").functionCounter().count());
        assertEquals(7, registry.get("sluice.transfers").tag("outcome", "aborted").functionCounter().count());
        assertEquals(11, registry.get("sluice.transfers").tag("outcome", "failed").functionCounter().count());
        Gauge buffer = registry.get("sluice.buffer").gauge();
        assertEquals(m.bufferBytesInUse(), buffer.value());
        assertEquals("bytes", buffer.getId().getBaseUnit());
        assertEquals(m.bufferBytesBudget(), registry.get("sluice.buffer.budget").gauge().value());
        assertEquals(m.bufferBytesHighWater(), registry.get("sluice.buffer.high.water").gauge().value());
        assertEquals(19, registry.get("sluice.buffer.waits").functionCounter().count());
        assertEquals(23, registry.get("sluice.read.queue.length").gauge().value());
        assertEquals(29, registry.get("sluice.handed.off.transfers").functionCounter().count());
        FunctionCounter handedOffBytes = registry.get("sluice.handed.off").functionCounter();
        assertEquals(31 * 1024, handedOffBytes.count());
        assertEquals("bytes", handedOffBytes.getId().getBaseUnit());
        assertEquals(37, registry.get("sluice.rate.groups").tag("kind", "client").gauge().value());
        assertEquals(41, registry.get("sluice.rate.groups").tag("kind", "user").gauge().value());
        assertEquals(43, registry.get("sluice.mapped.windows").gauge().value());
        FunctionCounter throttle = registry.get("sluice.parked").tag("reason", "throttle").functionCounter();
        assertEquals(53, throttle.count());
        assertEquals("seconds", throttle.getId().getBaseUnit());
        FunctionTimer durations = registry.get("sluice.transfer.duration").functionTimer();
        assertEquals(23, durations.count());
        assertEquals(123.5, durations.totalTime(TimeUnit.SECONDS), 1e-9);
        Meter sizes = registry.get("sluice.transfer.size").meter();
        Map<Statistic, Double> measured = new java.util.EnumMap<>(Statistic.class);
        sizes.measure().forEach(x -> measured.put(x.getStatistic(), x.getValue()));
        assertEquals(Map.of(Statistic.COUNT, 10.0, Statistic.TOTAL, 7_654_321.0), measured);
        assertEquals("bytes", sizes.getId().getBaseUnit());

        int samples = MetricFamilies.FAMILIES.stream().mapToInt(f -> f.samples().size()).sum();
        assertEquals(samples + MetricFamilies.HISTOGRAMS.size(), registry.getMeters().size());
        assertTrue(registry.getMeters().stream().allMatch(x -> "files".equals(x.getId().getTag("servlet"))));

        current.set(new TransferMetrics(0, 2_000_000, 6, 7, 11, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, m.parked(),
                m.durations(), m.sizes()));
        assertEquals(2_000_000, sent.count(), "read live, not copied at bind time");
        assertEquals(6, registry.get("sluice.transfers").tag("outcome", "completed").functionCounter().count());

        binder.close();
        assertEquals(0, registry.getMeters().size(), "closing removes every meter");
    }

    @Test
    void micrometerNamesComeBackAsThePrometheusNames() {
        for (MetricFamilies.Family family : MetricFamilies.FAMILIES) {
            String name = family.micrometerName().replace('.', '_');
            if (family.micrometerUnit() != null) {
                name += "_" + family.micrometerUnit();
            }
            if (family.kind() == MetricFamilies.Kind.COUNTER) {
                name += "_total";
            }
            assertEquals(family.name(), name);
        }
        for (MetricFamilies.HistogramFamily family : MetricFamilies.HISTOGRAMS) {
            assertEquals(family.name(), family.micrometerName().replace('.', '_') + "_" + family.unit());
        }
    }
}
