package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.TransfersMXBean;
import dev.sluice.stream.Histogram;
import dev.sluice.stream.TransferMetrics;
import dev.sluice.stream.Waits;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The metrics text: valid for a strict parser, and every number of the snapshot in it, once. */
class PrometheusTextTest {

    /** Where each component of {@link TransferMetrics} appears: metric, label pair (or none), value. */
    private record Exposed(String metric, Map<String, String> labels) {
    }

    private static final Map<String, List<Exposed>> EXPOSED = Map.ofEntries(
            Map.entry("activeTransfers", List.of(new Exposed("sluice_active_transfers", Map.of()))),
            Map.entry("bytesSent", List.of(new Exposed("sluice_bytes_sent_total", Map.of()))),
            Map.entry("completed", List.of(new Exposed("sluice_transfers_total", Map.of("outcome", "completed")))),
            Map.entry("aborted", List.of(new Exposed("sluice_transfers_total", Map.of("outcome", "aborted")))),
            Map.entry("failed", List.of(new Exposed("sluice_transfers_total", Map.of("outcome", "failed")))),
            Map.entry("bufferBytesInUse", List.of(new Exposed("sluice_buffer_bytes", Map.of()))),
            Map.entry("bufferBytesHighWater", List.of(new Exposed("sluice_buffer_high_water_bytes", Map.of()))),
            Map.entry("bufferWaits", List.of(new Exposed("sluice_buffer_waits_total", Map.of()))),
            Map.entry("readQueueLength", List.of(new Exposed("sluice_read_queue_length", Map.of()))),
            Map.entry("reads", List.of(new Exposed("sluice_reads_total", Map.of()))),
            Map.entry("handedOff", List.of(new Exposed("sluice_handed_off_transfers_total", Map.of()))),
            Map.entry("bytesHandedOff", List.of(new Exposed("sluice_handed_off_bytes_total", Map.of()))),
            Map.entry("bufferBytesBudget", List.of(new Exposed("sluice_buffer_budget_bytes", Map.of()))),
            Map.entry("clientRateGroups", List.of(new Exposed("sluice_rate_groups", Map.of("kind", "client")))),
            Map.entry("userRateGroups", List.of(new Exposed("sluice_rate_groups", Map.of("kind", "user")))),
            Map.entry("mappedWindows", List.of(new Exposed("sluice_mapped_windows", Map.of()))),
            Map.entry("readThreads", List.of(new Exposed("sluice_read_threads", Map.of()))),
            Map.entry("spanLoads", List.of(new Exposed("sluice_span_loads", Map.of()))),
            Map.entry("parked", List.of(
                    new Exposed("sluice_parked_seconds_total", Map.of("reason", "socket")),
                    new Exposed("sluice_parked_seconds_total", Map.of("reason", "read")),
                    new Exposed("sluice_parked_seconds_total", Map.of("reason", "buffer")),
                    new Exposed("sluice_parked_seconds_total", Map.of("reason", "throttle")))),
            Map.entry("durations", List.of(new Exposed("sluice_transfer_duration_seconds", Map.of()))),
            Map.entry("sizes", List.of(new Exposed("sluice_transfer_size_bytes", Map.of()))));

    /** A snapshot whose every number differs from every other. */
    static TransferMetrics distinct() {
        return new TransferMetrics(3, 1_000_003, 5, 7, 11, 13 * 4096, 17 * 4096, 19, 23, 59, 29, 31 * 1024,
                256L << 20, 37, 41, 43, 61, 67, new Waits(1_500_000_000L, 2_250_000_000L, 47_000_000L, 53_000_000_000L),
                new Histogram.Snapshot(new double[] {0.01, 0.1, 1, 10}, new long[] {1, 4, 9, 20}, 123.5, 23),
                new Histogram.Snapshot(new double[] {4096, 65536, 1 << 20}, new long[] {2, 2, 10}, 7_654_321, 10));
    }

    @Test
    void everyNumberOfTheSnapshotIsInTheTextWithItsValue() {
        TransferMetrics m = distinct();
        Map<String, PrometheusParser.Family> families = PrometheusParser.parse(PrometheusText.of(m));
        Set<String> components = new TreeSet<>();
        for (RecordComponent component : TransferMetrics.class.getRecordComponents()) {
            components.add(component.getName());
            assertTrue(EXPOSED.containsKey(component.getName()), "TransferMetrics." + component.getName()
                    + " is not in the metrics text (nor in this test's table)");
        }
        assertEquals(components, new TreeSet<>(EXPOSED.keySet()), "the table names a component that is gone");

        assertEquals(3, families.get("sluice_active_transfers").value("sluice_active_transfers", Map.of()));
        assertEquals(1_000_003, families.get("sluice_bytes_sent_total").value("sluice_bytes_sent_total", Map.of()));
        PrometheusParser.Family outcomes = families.get("sluice_transfers_total");
        assertEquals("counter", outcomes.type());
        assertEquals(5, outcomes.value("sluice_transfers_total", Map.of("outcome", "completed")));
        assertEquals(7, outcomes.value("sluice_transfers_total", Map.of("outcome", "aborted")));
        assertEquals(11, outcomes.value("sluice_transfers_total", Map.of("outcome", "failed")));
        assertEquals(13 * 4096, families.get("sluice_buffer_bytes").value("sluice_buffer_bytes", Map.of()));
        assertEquals(17 * 4096, families.get("sluice_buffer_high_water_bytes")
                .value("sluice_buffer_high_water_bytes", Map.of()));
        assertEquals(19, families.get("sluice_buffer_waits_total").value("sluice_buffer_waits_total", Map.of()));
        assertEquals(23, families.get("sluice_read_queue_length").value("sluice_read_queue_length", Map.of()));
        assertEquals(29, families.get("sluice_handed_off_transfers_total").value("sluice_handed_off_transfers_total", Map.of()));
        assertEquals(31 * 1024, families.get("sluice_handed_off_bytes_total")
                .value("sluice_handed_off_bytes_total", Map.of()));
        assertEquals(256L << 20, families.get("sluice_buffer_budget_bytes")
                .value("sluice_buffer_budget_bytes", Map.of()));
        assertEquals(37, families.get("sluice_rate_groups").value("sluice_rate_groups", Map.of("kind", "client")));
        assertEquals(41, families.get("sluice_rate_groups").value("sluice_rate_groups", Map.of("kind", "user")));
        assertEquals(43, families.get("sluice_mapped_windows").value("sluice_mapped_windows", Map.of()));
        assertEquals(61, families.get("sluice_read_threads").value("sluice_read_threads", Map.of()));
        assertEquals(67, families.get("sluice_span_loads").value("sluice_span_loads", Map.of()));
        PrometheusParser.Family parked = families.get("sluice_parked_seconds_total");
        assertEquals(1.5, parked.value("sluice_parked_seconds_total", Map.of("reason", "socket")));
        assertEquals(2.25, parked.value("sluice_parked_seconds_total", Map.of("reason", "read")));
        assertEquals(0.047, parked.value("sluice_parked_seconds_total", Map.of("reason", "buffer")), 1e-12);
        assertEquals(53, parked.value("sluice_parked_seconds_total", Map.of("reason", "throttle")));

        PrometheusParser.Family durations = families.get("sluice_transfer_duration_seconds");
        assertEquals("histogram", durations.type());
        assertEquals(4, durations.value("sluice_transfer_duration_seconds_bucket", Map.of("le", "0.1")));
        assertEquals(20, durations.value("sluice_transfer_duration_seconds_bucket", Map.of("le", "10")));
        assertEquals(23, durations.value("sluice_transfer_duration_seconds_bucket", Map.of("le", "+Inf")));
        assertEquals(23, durations.value("sluice_transfer_duration_seconds_count", Map.of()));
        assertEquals(123.5, durations.value("sluice_transfer_duration_seconds_sum", Map.of()));
        PrometheusParser.Family sizes = families.get("sluice_transfer_size_bytes");
        assertEquals(10, sizes.value("sluice_transfer_size_bytes_bucket", Map.of("le", "1048576")));
        assertEquals(7_654_321, sizes.value("sluice_transfer_size_bytes_sum", Map.of()));

        for (List<Exposed> places : EXPOSED.values()) {
            for (Exposed place : places) {
                assertTrue(families.containsKey(place.metric()), place.metric());
                assertTrue(families.get(place.metric()).help() != null, place.metric() + " has no HELP");
            }
        }
        assertEquals(EXPOSED.values().stream().flatMap(List::stream).map(Exposed::metric).distinct().count(),
                families.size(), "a family in the text that the table does not know: " + families.keySet());
    }

    @Test
    void everyMBeanAttributeAndEveryStatusJsonCounterIsAComponentInTheText() {
        for (Method getter : TransfersMXBean.class.getMethods()) {
            String attribute = getter.getName().substring(3);
            String component = attribute.substring(0, 1).toLowerCase(Locale.ROOT) + attribute.substring(1);
            assertTrue(EXPOSED.containsKey(component), "JMX shows " + attribute + ", the metrics text does not");
        }
        Map<String, Object> json = JsonReader.object(StatusJson.of(distinct(), List.of(),
                dev.sluice.stream.EngineSettings.defaults(), 0));
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (e.getValue() instanceof Long && !Set.of("now", "transfersOmitted").contains(e.getKey())) {
                assertTrue(EXPOSED.containsKey(e.getKey()), "the JSON shows " + e.getKey() + ", the metrics text does not");
            }
        }
        assertTrue(json.containsKey("parkedMs"));
    }

    @Test
    void anEmptyEngineIsValidToo() {
        TransferMetrics zero = new TransferMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 << 20, 0, 0, 0, 0, 0, Waits.NONE,
                new Histogram.Snapshot(new double[] {1, 10}, new long[] {0, 0}, 0, 0),
                new Histogram.Snapshot(new double[] {4096}, new long[] {0}, 0, 0));
        String text = PrometheusText.of(zero);
        Map<String, PrometheusParser.Family> families = PrometheusParser.parse(text);
        assertEquals(0, families.get("sluice_transfer_size_bytes").value("sluice_transfer_size_bytes_count", Map.of()));
        assertTrue(text.contains("\nsluice_transfer_size_bytes_bucket{le=\"+Inf\"} 0\n"), text);
        assertTrue(text.startsWith("# HELP sluice_active_transfers "), text);
    }

    @Test
    void numbersAreWrittenAsThePrometheusParserReadsThem() {
        assertEquals("4096", PrometheusText.number(4096));
        assertEquals("8589934592", PrometheusText.number(8L << 30));
        assertEquals("0.01", PrometheusText.number(0.01));
        assertEquals("1.5E-4", PrometheusText.number(0.00015));
        assertEquals("+Inf", PrometheusText.number(Double.POSITIVE_INFINITY));
        assertEquals("a\\\"b\\\\c\\nd", PrometheusText.labelValue("a\"b\\c\nd"));
    }

    /** The parser the tests rely on refuses what Prometheus refuses. */
    @Test
    void theStrictParserRefusesBrokenText() {
        List<String> broken = List.of(
                "sluice_x 1", // no final line feed
                "# TYPE a counter\na 1\n", // counter without _total
                "# TYPE a_total counter\na_total -1\n", // negative counter
                "a{b=\"1\"} 1\na{b=\"1\"} 2\n", // series twice
                "a 1\nb 1\na{c=\"1\"} 1\n", // family split
                "a 1\n# TYPE a gauge\n", // TYPE after samples
                "a{b=1} 1\n", // unquoted label value
                "a{__b=\"1\"} 1\n", // reserved label
                "a 1 2 3\n", // too many fields
                "a  1\n", // two spaces
                "a one\n", // not a number
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
                "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n"
                        + "h_count 1\n",
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n");
        for (String text : broken) {
            assertThrows(RuntimeException.class, () -> PrometheusParser.parse(text), () -> "accepted:\n" + text);
        }
        assertEquals(Set.of("a", "h"), PrometheusParser.parse("# HELP a x\\\\y\n# TYPE a gauge\na{b=\"q\\\"\"} 1e3\n"
                + "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n").keySet());
    }
}
