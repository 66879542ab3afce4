package dev.sluice.ops;

import dev.sluice.stream.Histogram;
import dev.sluice.stream.TransferMetrics;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Every number of {@link TransferMetrics}, named once for Prometheus ({@link PrometheusText}) and Micrometer
 * ({@link SluiceMeterBinder}): the name, the kind, the unit, the help text and how to read each sample from a
 * snapshot. The status JSON and JMX show the same snapshot's fields; a test checks that every field is here.
 */
public final class MetricFamilies {

    private MetricFamilies() {
    }

    /** What a number is: Prometheus' and Micrometer's counter (only ever grows) or gauge (goes up and down). */
    public enum Kind {
        COUNTER, GAUGE
    }

    /**
     * One sample of a family: its label (or none) and how to read it.
     *
     * @param labelValue the value of the family's label, or {@code null} for a family without one
     * @param read the sample's value in a snapshot, in the family's unit
     */
    public record Sample(String labelValue, ToDoubleFunction<TransferMetrics> read) {
    }

    /**
     * A counter or gauge family.
     *
     * @param name the Prometheus name, with its unit and, for a counter, {@code _total}
     * @param kind counter or gauge
     * @param unit {@code bytes}, {@code seconds} or empty
     * @param help one sentence
     * @param label the label that tells the samples apart, or {@code null} for one sample
     * @param samples the samples, in order
     */
    public record Family(String name, Kind kind, String unit, String help, String label, List<Sample> samples) {

        /**
         * The name Micrometer is given: the Prometheus name without {@code _total} and without a trailing unit,
         * dotted ({@code sluice_parked_seconds_total} is {@code sluice.parked}, base unit seconds), which
         * Micrometer's Prometheus naming turns back into the Prometheus name.
         */
        public String micrometerName() {
            String base = kind == Kind.COUNTER ? name.substring(0, name.length() - "_total".length()) : name;
            if (!unit.isEmpty() && base.endsWith("_" + unit)) {
                base = base.substring(0, base.length() - unit.length() - 1);
            }
            return base.replace('_', '.');
        }

        /** The unit Micrometer is given: the family's unit when the Prometheus name ends with it, else none. */
        public String micrometerUnit() {
            String base = kind == Kind.COUNTER ? name.substring(0, name.length() - "_total".length()) : name;
            return !unit.isEmpty() && base.endsWith("_" + unit) ? unit : null;
        }
    }

    /**
     * A histogram family, read as one {@link Histogram.Snapshot}.
     *
     * @param name the Prometheus name, with its unit
     * @param unit {@code bytes} or {@code seconds}
     * @param help one sentence
     * @param read the snapshot in a metrics snapshot
     */
    public record HistogramFamily(String name, String unit, String help, Function<TransferMetrics,
            Histogram.Snapshot> read) {

        /** The Micrometer name: without the unit, dotted. */
        public String micrometerName() {
            return name.substring(0, name.length() - unit.length() - 1).replace('_', '.');
        }
    }

    private static final double NANOS = 1e9;

    public static final List<Family> FAMILIES = List.of(
            gauge("sluice_active_transfers", "", "Transfers started and not yet ended.",
                    TransferMetrics::activeTransfers),
            counter("sluice_bytes_sent_total", "bytes", "Body bytes handed to the container by transfers.",
                    TransferMetrics::bytesSent),
            new Family("sluice_transfers_total", Kind.COUNTER, "", "Transfers ended, by outcome: completed (every"
                    + " byte sent), aborted (client gone, write error, stalled, shutdown), failed (read error, file"
                    + " shrank).", "outcome", List.of(
                            new Sample("completed", TransferMetrics::completed),
                            new Sample("aborted", TransferMetrics::aborted),
                            new Sample("failed", TransferMetrics::failed))),
            gauge("sluice_buffer_bytes", "bytes", "Chunk-buffer bytes held by transfers now.",
                    TransferMetrics::bufferBytesInUse),
            gauge("sluice_buffer_high_water_bytes", "bytes", "The most chunk-buffer bytes ever held at once.",
                    TransferMetrics::bufferBytesHighWater),
            gauge("sluice_buffer_budget_bytes", "bytes", "The most chunk-buffer bytes all transfers may hold"
                    + " (maxBufferMemory).", TransferMetrics::bufferBytesBudget),
            counter("sluice_buffer_waits_total", "", "Times a transfer waited for a buffer because the budget was"
                    + " spent.", TransferMetrics::bufferWaits),
            gauge("sluice_read_queue_length", "", "File reads waiting for a read thread.",
                    TransferMetrics::readQueueLength),
            counter("sluice_reads_total", "", "File reads started: a chunk read into a buffer, or a span of a"
                    + " mapped file made resident.", TransferMetrics::reads),
            counter("sluice_handed_off_transfers_total", "", "Bodies handed to the container to send by itself (Tomcat's"
                    + " sendfile), counted nowhere else.", TransferMetrics::handedOff),
            counter("sluice_handed_off_bytes_total", "bytes", "Planned lengths of the bodies handed to the"
                    + " container.", TransferMetrics::bytesHandedOff),
            new Family("sluice_rate_groups", Kind.GAUGE, "", "Shared rate groups now, by kind: client"
                    + " (limitRatePerClient), user (limitRatePerUser).", "kind", List.of(
                            new Sample("client", TransferMetrics::clientRateGroups),
                            new Sample("user", TransferMetrics::userRateGroups))),
            gauge("sluice_mapped_windows", "", "Windows of files mapped now (bufferKind=mapped).",
                    TransferMetrics::mappedWindows),
            gauge("sluice_read_threads", "", "Read threads alive now: readThreads, and up to maxReadThreads while"
                    + " reads wait for the storage.", TransferMetrics::readThreads),
            gauge("sluice_span_loads", "", "Spans of mapped files being read from the storage now.",
                    TransferMetrics::spanLoads),
            new Family("sluice_parked_seconds_total", Kind.COUNTER, "seconds", "Time transfers spent parked, by"
                    + " what they awaited: socket (the client), read (the disk), buffer (maxBufferMemory spent),"
                    + " throttle (a speed limit).", "reason", List.of(
                            new Sample("socket", m -> m.parked().socketNanos() / NANOS),
                            new Sample("read", m -> m.parked().readNanos() / NANOS),
                            new Sample("buffer", m -> m.parked().bufferNanos() / NANOS),
                            new Sample("throttle", m -> m.parked().throttleNanos() / NANOS))));

    public static final List<HistogramFamily> HISTOGRAMS = List.of(
            new HistogramFamily("sluice_transfer_duration_seconds", "seconds", "Time from a transfer's start to"
                    + " its end.", TransferMetrics::durations),
            new HistogramFamily("sluice_transfer_size_bytes", "bytes", "Body bytes a transfer sent.",
                    TransferMetrics::sizes));

    private static Family gauge(String name, String unit, String help, ToDoubleFunction<TransferMetrics> read) {
        return new Family(name, Kind.GAUGE, unit, help, null, List.of(new Sample(null, read)));
    }

    private static Family counter(String name, String unit, String help, ToDoubleFunction<TransferMetrics> read) {
        return new Family(name, Kind.COUNTER, unit, help, null, List.of(new Sample(null, read)));
    }
}
