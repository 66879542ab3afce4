package dev.sluice.ops;

import dev.sluice.stream.Histogram;
import dev.sluice.stream.TransferMetrics;

/**
 * The counters of one snapshot in Prometheus' text exposition format (version 0.0.4), what {@code metricsPath}
 * answers: each family's {@code # HELP} and {@code # TYPE}, then its samples; histograms as cumulative
 * {@code _bucket} samples up to {@code le="+Inf"}, then {@code _sum} and {@code _count}.
 */
public final class PrometheusText {

    /** The content type of the format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText() {
    }

    public static String of(TransferMetrics metrics) {
        StringBuilder out = new StringBuilder(4096);
        for (MetricFamilies.Family family : MetricFamilies.FAMILIES) {
            head(out, family.name(), family.kind() == MetricFamilies.Kind.COUNTER ? "counter" : "gauge",
                    family.help());
            for (MetricFamilies.Sample sample : family.samples()) {
                out.append(family.name());
                if (family.label() != null) {
                    out.append('{').append(family.label()).append("=\"").append(labelValue(sample.labelValue()))
                            .append("\"}");
                }
                out.append(' ').append(number(sample.read().applyAsDouble(metrics))).append('\n');
            }
        }
        for (MetricFamilies.HistogramFamily family : MetricFamilies.HISTOGRAMS) {
            histogram(out, family, family.read().apply(metrics));
        }
        return out.toString();
    }

    private static void histogram(StringBuilder out, MetricFamilies.HistogramFamily family,
            Histogram.Snapshot snapshot) {
        head(out, family.name(), "histogram", family.help());
        for (int i = 0; i < snapshot.upperBounds().length; i++) {
            bucket(out, family.name(), number(snapshot.upperBounds()[i]), snapshot.cumulativeCounts()[i]);
        }
        bucket(out, family.name(), "+Inf", snapshot.count());
        out.append(family.name()).append("_sum ").append(number(snapshot.sum())).append('\n');
        out.append(family.name()).append("_count ").append(snapshot.count()).append('\n');
    }

    private static void bucket(StringBuilder out, String name, String le, long count) {
        out.append(name).append("_bucket{le=\"").append(le).append("\"} ").append(count).append('\n');
    }

    private static void head(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** A label value escaped as the format asks: backslash, double quote and line feed. */
    static String labelValue(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Whole numbers without a fraction ({@code 4096}, not {@code 4096.0}); others as Java writes doubles. */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }
}
