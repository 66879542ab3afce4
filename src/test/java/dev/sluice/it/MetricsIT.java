package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ops.JsonReader;
import dev.sluice.ops.MetricFamilies;
import dev.sluice.ops.PrometheusParser;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The metrics path, scraped as downloads complete, abort and fail: what a strict parser and Prometheus' own
 * {@code promtool} accept, and the same numbers as the engine's counters.
 */
class MetricsIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final String METRICS = "/.sluice/metrics";

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theMetricsAreTheCountersWhileDownloadsCompleteAbortAndFail(ContainerKind kind) throws Exception {
        byte[] data = Downloads.write(root, "big.bin", 8 * 1024 * 1024);
        Downloads.write(root, "shrinking.bin", 32 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "metricsPath", METRICS, "statusPath", "/.sluice/status", "chunkSize", "64KiB", "readAhead", "1",
                "bufferKind", "direct"), 0)) {
            Map<String, PrometheusParser.Family> before = scrape(container.uri());
            assertSame(before, servlet.metrics());
            assertEquals(0, before.get("sluice_transfers_total").value("sluice_transfers_total",
                    Map.of("outcome", "completed")));

            assertEquals(TestClient.sha256(data), TestClient.sha256(TestClient.get(container.uri(), "/big.bin").body()));
            Await.until("completed", DEADLINE, () -> servlet.metrics().completed() == 1, servlet.metrics()::toString);
            Map<String, PrometheusParser.Family> completed = scrape(container.uri());
            assertSame(completed, servlet.metrics());
            assertEquals(data.length, completed.get("sluice_bytes_sent_total").value("sluice_bytes_sent_total",
                    Map.of()));
            assertEquals(1, completed.get("sluice_transfer_size_bytes")
                    .value("sluice_transfer_size_bytes_bucket", Map.of("le", "16777216")));
            assertEquals(0, completed.get("sluice_transfer_size_bytes")
                    .value("sluice_transfer_size_bytes_bucket", Map.of("le", "1048576")));

            try (TestClient slow = Downloads.started(container.uri(), "/big.bin")) {
                Await.until("one in flight", DEADLINE, () -> servlet.metrics().activeTransfers() == 1);
                Map<String, PrometheusParser.Family> inFlight = scrape(container.uri());
                assertEquals(1, inFlight.get("sluice_active_transfers").value("sluice_active_transfers", Map.of()));
                assertTrue(inFlight.get("sluice_buffer_bytes").value("sluice_buffer_bytes", Map.of()) > 0,
                        "a download of direct buffers in flight holds one");
                Map<String, Object> status = JsonReader.object(TestClient.get(container.uri(), "/.sluice/status").text());
                assertEquals(1L, status.get("activeTransfers"));
                @SuppressWarnings("unchecked")
                Map<String, Object> transfer = ((List<Map<String, Object>>) status.get("transfers")).get(0);
                assertEquals("/big.bin", transfer.get("file"));
                assertEquals("127.0.0.1", transfer.get("client"));
                assertEquals((long) data.length, transfer.get("length"));
                slow.abort();
            }
            Await.until("aborted", DEADLINE, () -> servlet.metrics().aborted() == 1, servlet.metrics()::toString);
            Await.until("nothing in flight", DEADLINE, () -> servlet.metrics().activeTransfers() == 0);
            assertSame(scrape(container.uri()), servlet.metrics());

            Downloads.failByShrinking(container.uri(), root, "shrinking.bin");
            Await.until("failed", DEADLINE, () -> servlet.metrics().failed() == 1, servlet.metrics()::toString);
            Leaks.assertNothingHeld(servlet, root);
            TransferMetrics m = servlet.metrics();
            String text = TestClient.get(container.uri(), METRICS).text();
            Map<String, PrometheusParser.Family> after = PrometheusParser.parse(text);
            assertSame(after, m);
            PrometheusParser.Family outcomes = after.get("sluice_transfers_total");
            assertEquals(List.of(1.0, 1.0, 1.0), List.of(
                    outcomes.value("sluice_transfers_total", Map.of("outcome", "completed")),
                    outcomes.value("sluice_transfers_total", Map.of("outcome", "aborted")),
                    outcomes.value("sluice_transfers_total", Map.of("outcome", "failed"))));
            assertEquals(3, after.get("sluice_transfer_duration_seconds")
                    .value("sluice_transfer_duration_seconds_count", Map.of()));
            assertEquals(m.bytesSent(), after.get("sluice_transfer_size_bytes")
                    .value("sluice_transfer_size_bytes_sum", Map.of()), "every byte sent is in an ended transfer");
            PrometheusParser.Family parked = after.get("sluice_parked_seconds_total");
            for (String reason : List.of("socket", "read", "buffer", "throttle")) {
                assertEquals(nanosOf(reason, m) / 1e9, parked.value("sluice_parked_seconds_total",
                        Map.of("reason", reason)), 1e-9, reason);
            }
        }
    }

    @Test
    void promtoolAcceptsTheTextWithADownloadDoneAndOneInFlight() throws Exception {
        Path promtool = DebianTool.promtool();
        Downloads.write(root, "big.bin", 8 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = ContainerKind.JETTY_EE11.start(servlet, Map.of("root",
                root.toString(), "metricsPath", METRICS, "limitRatePerClient", "64MiB"), 0)) {
            TestClient.get(container.uri(), "/big.bin");
            Await.until("completed", DEADLINE, () -> servlet.metrics().completed() == 1);
            try (TestClient slow = Downloads.started(container.uri(), "/big.bin")) {
                String text = TestClient.get(container.uri(), METRICS).text();
                promtoolAccepts(promtool, text);
                Files.writeString(Path.of("target", "metrics-sample.txt"), text);
                slow.abort();
            }
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    @Test
    void tomcatsSendfileBodiesAreCountedApart() throws Exception {
        byte[] data = Downloads.write(root, "whole.bin", 3 * 1024 * 1024);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running tomcat = ContainerKind.startTomcatWithSendfile(servlet, Map.of("root",
                root.toString(), "metricsPath", METRICS), 0)) {
            assertEquals(TestClient.sha256(data), TestClient.sha256(TestClient.get(tomcat.uri(), "/whole.bin").body()));
            Map<String, PrometheusParser.Family> families = scrape(tomcat.uri());
            assertSame(families, servlet.metrics());
            assertEquals(1, families.get("sluice_handed_off_transfers_total")
                    .value("sluice_handed_off_transfers_total", Map.of()));
            assertEquals(data.length, families.get("sluice_handed_off_bytes_total")
                    .value("sluice_handed_off_bytes_total", Map.of()));
            assertEquals(0, families.get("sluice_bytes_sent_total").value("sluice_bytes_sent_total", Map.of()));
        }
    }

    private static long nanosOf(String reason, TransferMetrics m) {
        return switch (reason) {
            case "socket" -> m.parked().socketNanos();
            case "read" -> m.parked().readNanos();
            case "buffer" -> m.parked().bufferNanos();
            default -> m.parked().throttleNanos();
        };
    }

    private static Map<String, PrometheusParser.Family> scrape(URI uri) throws IOException {
        TestClient.Response response = TestClient.get(uri, METRICS);
        assertEquals(200, response.status());
        String type = response.header("Content-Type").replace(" ", "").toLowerCase(java.util.Locale.ROOT);
        assertTrue(type.startsWith("text/plain;") && type.contains(";version=0.0.4") && type.contains("charset=utf-8"),
                type);
        assertEquals("no-store", response.header("Cache-Control"));
        return PrometheusParser.parse(response.text());
    }

    /** Every family has the value the snapshot gives it, and the families are the declared ones. */
    private static void assertSame(Map<String, PrometheusParser.Family> families, TransferMetrics m) {
        for (MetricFamilies.Family family : MetricFamilies.FAMILIES) {
            if (family.name().equals("sluice_parked_seconds_total")) {
                continue; // grows while anything is parked; checked at the end
            }
            for (MetricFamilies.Sample sample : family.samples()) {
                Map<String, String> labels = family.label() == null ? Map.of()
                        : Map.of(family.label(), sample.labelValue());
                assertEquals(sample.read().applyAsDouble(m), families.get(family.name()).value(family.name(), labels),
                        family.name() + labels);
            }
        }
        assertEquals(m.bytesSent(), families.get("sluice_bytes_sent_total").value("sluice_bytes_sent_total", Map.of()));
        assertEquals(m.completed(), families.get("sluice_transfers_total").value("sluice_transfers_total",
                Map.of("outcome", "completed")));
        assertEquals(m.durations().count(), families.get("sluice_transfer_duration_seconds")
                .value("sluice_transfer_duration_seconds_count", Map.of()));
        assertEquals(MetricFamilies.FAMILIES.size() + MetricFamilies.HISTOGRAMS.size(), families.size());
    }

    /** {@code promtool check metrics}: the format and Prometheus' naming rules (skipped where there is none). */
    private static void promtoolAccepts(Path promtool, String text) throws Exception {
        Process process = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        process.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, process.exitValue(), "promtool check metrics:\n" + output + "\nfor:\n" + text);
        assertEquals("", output.trim(), "promtool found problems:\n" + output);
    }
}
