package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.Transfer;
import dev.sluice.stream.TransferLabel;
import dev.sluice.stream.TransferView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusJsonTest {

    private static final long NOW = 1_750_000_000_000L;

    @Test
    void theOldKeysStayAndTheTransfersAndRateGroupsFollow() {
        List<TransferView> transfers = List.of(
                new TransferView(new TransferLabel("/a.bin", "full"), "127.0.0.1", null, 100, 1000,
                        Transfer.State.WAITING_FOR_THROTTLE, 2_500_000_000L),
                new TransferView(new TransferLabel("/b.bin", "bytes 0-9/10"), "10.0.0.2", "bob", 5, 10,
                        Transfer.State.WAITING_FOR_SOCKET, 9_000_000_000L),
                new TransferView(new TransferLabel("/c.bin", "full"), "127.0.0.1", "bob", 7, 70,
                        Transfer.State.PROCESSING, 1_000_000L));
        EngineSettings settings = EngineSettings.defaults().toBuilder().globalRate(1 << 20)
                .limitRatePerClient(1 << 16).limitRatePerUser(1 << 15).build();
        Map<String, Object> json = JsonReader.object(StatusJson.of(PrometheusTextTest.distinct(), transfers,
                settings, NOW));
        assertEquals(List.of("activeTransfers", "bytesSent", "completed", "aborted", "failed", "bufferBytesInUse",
                "bufferBytesHighWater", "bufferWaits", "readQueueLength", "reads", "handedOff", "bytesHandedOff",
                "bufferBytesBudget", "clientRateGroups", "userRateGroups", "mappedWindows", "readThreads", "spanLoads",
                "parkedMs", "now",
                "transfersOmitted", "transfers", "rateGroups"), List.copyOf(json.keySet()));
        assertEquals(3L, json.get("activeTransfers"));
        assertEquals(1_000_003L, json.get("bytesSent"));
        assertEquals(Map.of("socket", 1500L, "read", 2250L, "buffer", 47L, "throttle", 53_000L), json.get("parkedMs"));
        assertEquals(0L, json.get("transfersOmitted"));

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) json.get("transfers");
        assertEquals(List.of("/b.bin", "/a.bin", "/c.bin"), listed.stream().map(t -> t.get("file")).toList(),
                "the longest-running first");
        Map<String, Object> a = listed.get(1);
        assertEquals(List.of("file", "range", "client", "user", "bytesSent", "length", "state", "waitingFor",
                "elapsedMs", "startedAt"), List.copyOf(a.keySet()));
        assertEquals("127.0.0.1", a.get("client"));
        assertEquals(null, a.get("user"));
        assertEquals(100L, a.get("bytesSent"));
        assertEquals(1000L, a.get("length"));
        assertEquals("WAITING_FOR_THROTTLE", a.get("state"));
        assertEquals("speed limit", a.get("waitingFor"));
        assertEquals(2500L, a.get("elapsedMs"));
        assertEquals(NOW - 2500, a.get("startedAt"));
        assertEquals("client", listed.get(0).get("waitingFor"));
        assertEquals(null, listed.get(2).get("waitingFor"));

        assertEquals(List.of(
                Map.of("kind", "global", "key", "", "limit", 1L << 20, "transfers", 3L, "bytesSent", 112L),
                Map.of("kind", "client", "key", "10.0.0.2", "limit", 1L << 16, "transfers", 1L, "bytesSent", 5L),
                Map.of("kind", "client", "key", "127.0.0.1", "limit", 1L << 16, "transfers", 2L, "bytesSent", 107L),
                Map.of("kind", "user", "key", "bob", "limit", 1L << 15, "transfers", 2L, "bytesSent", 12L)),
                json.get("rateGroups"));
    }

    @Test
    void noLimitNoGroups() {
        Map<String, Object> json = JsonReader.object(StatusJson.of(PrometheusTextTest.distinct(), List.of(
                new TransferView(new TransferLabel("/a", "full"), "127.0.0.1", null, 1, 2, Transfer.State.STARTING, 0)),
                EngineSettings.defaults(), NOW));
        assertEquals(List.of(), json.get("rateGroups"));
    }

    @Test
    void aFileNameCannotBreakOutOfItsString() {
        String name = "/\"},{\"file\":\"x</script><script>alert(1)</script>\\\n\u2028\u00e9\ud83d\ude00\u0000";
        String text = StatusJson.of(PrometheusTextTest.distinct(), List.of(new TransferView(new TransferLabel(name,
                "full"), "::1", "\u00fcser", 0, 1, Transfer.State.WAITING_FOR_READ, 0)), EngineSettings.defaults(), NOW);
        assertTrue(StandardCharsets.US_ASCII.newEncoder().canEncode(text), "not ASCII");
        assertTrue(!text.contains("<") && !text.contains(">"), text);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) JsonReader.object(text).get("transfers");
        assertEquals(1, listed.size());
        assertEquals(name, listed.get(0).get("file"));
        assertEquals("\u00fcser", listed.get(0).get("user"));
        assertEquals("disk", listed.get(0).get("waitingFor"));
    }

    @Test
    void atMostAThousandTransfersAreListedAndTheRestCounted() {
        List<TransferView> many = new ArrayList<>();
        for (int i = 0; i < StatusJson.MAX_TRANSFERS_LISTED + 5; i++) {
            many.add(new TransferView(new TransferLabel("/f" + i, "full"), "127.0.0.1", null, 0, 1,
                    Transfer.State.WAITING_FOR_SOCKET, i));
        }
        Map<String, Object> json = JsonReader.object(StatusJson.of(PrometheusTextTest.distinct(), many,
                EngineSettings.defaults(), NOW));
        assertEquals(5L, json.get("transfersOmitted"));
        assertEquals(StatusJson.MAX_TRANSFERS_LISTED, ((List<?>) json.get("transfers")).size());
    }
}
