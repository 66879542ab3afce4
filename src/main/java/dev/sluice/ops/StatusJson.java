package dev.sluice.ops;

import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.Transfer;
import dev.sluice.stream.TransferMetrics;
import dev.sluice.stream.TransferView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the status path sends as JSON: the counters of one snapshot (the same keys as ever, then the newer ones),
 * the transfers in flight and the shared rate groups they are in. Written by hand (no JSON library in the WAR);
 * every string is escaped, and everything outside printable ASCII is a {@code \\uXXXX} escape, so the text is
 * ASCII and a file name cannot break out of its string.
 */
public final class StatusJson {

    /** At most this many transfers are listed, the longest-running first; {@code transfersOmitted} counts the rest. */
    public static final int MAX_TRANSFERS_LISTED = 1000;

    private StatusJson() {
    }

    /** What a transfer waits for, in an operator's words, or {@code null} when it is not parked. */
    public static String waitingFor(Transfer.State state) {
        return switch (state) {
            case WAITING_FOR_SOCKET -> "client";
            case WAITING_FOR_READ -> "disk";
            case WAITING_FOR_BUFFER -> "buffer";
            case WAITING_FOR_THROTTLE -> "speed limit";
            default -> null;
        };
    }

    /**
     * @param m the counters
     * @param transfers the transfers in flight at about the same moment
     * @param settings the engine's settings, for the limits of the rate groups
     * @param nowMillis the wall-clock time of the snapshot, to date each transfer's start
     */
    public static String of(TransferMetrics m, List<TransferView> transfers, EngineSettings settings,
            long nowMillis) {
        StringBuilder out = new StringBuilder(1024 + 256 * Math.min(transfers.size(), MAX_TRANSFERS_LISTED));
        out.append("{\"activeTransfers\":").append(m.activeTransfers())
                .append(",\"bytesSent\":").append(m.bytesSent())
                .append(",\"completed\":").append(m.completed())
                .append(",\"aborted\":").append(m.aborted())
                .append(",\"failed\":").append(m.failed())
                .append(",\"bufferBytesInUse\":").append(m.bufferBytesInUse())
                .append(",\"bufferBytesHighWater\":").append(m.bufferBytesHighWater())
                .append(",\"bufferWaits\":").append(m.bufferWaits())
                .append(",\"readQueueLength\":").append(m.readQueueLength())
                .append(",\"reads\":").append(m.reads())
                .append(",\"handedOff\":").append(m.handedOff())
                .append(",\"bytesHandedOff\":").append(m.bytesHandedOff())
                .append(",\"bufferBytesBudget\":").append(m.bufferBytesBudget())
                .append(",\"clientRateGroups\":").append(m.clientRateGroups())
                .append(",\"userRateGroups\":").append(m.userRateGroups())
                .append(",\"mappedWindows\":").append(m.mappedWindows())
                .append(",\"readThreads\":").append(m.readThreads())
                .append(",\"spanLoads\":").append(m.spanLoads())
                .append(",\"parkedMs\":{\"socket\":").append(m.parked().socketNanos() / 1_000_000)
                .append(",\"read\":").append(m.parked().readNanos() / 1_000_000)
                .append(",\"buffer\":").append(m.parked().bufferNanos() / 1_000_000)
                .append(",\"throttle\":").append(m.parked().throttleNanos() / 1_000_000)
                .append("},\"now\":").append(nowMillis);

        List<TransferView> listed = transfers.stream()
                .sorted(Comparator.comparingLong(TransferView::elapsedNanos).reversed())
                .limit(MAX_TRANSFERS_LISTED).toList();
        out.append(",\"transfersOmitted\":").append(transfers.size() - listed.size());
        out.append(",\"transfers\":[");
        for (int i = 0; i < listed.size(); i++) {
            TransferView t = listed.get(i);
            long elapsedMs = t.elapsedNanos() / 1_000_000;
            out.append(i == 0 ? "{" : ",{");
            out.append("\"file\":").append(string(t.label().file()));
            out.append(",\"range\":").append(string(t.label().range()));
            out.append(",\"client\":").append(string(key(t.clientKey())));
            out.append(",\"user\":").append(string(key(t.userKey())));
            out.append(",\"bytesSent\":").append(t.bytesSent());
            out.append(",\"length\":").append(t.length());
            out.append(",\"state\":").append(string(t.state().name()));
            out.append(",\"waitingFor\":").append(string(waitingFor(t.state())));
            out.append(",\"elapsedMs\":").append(elapsedMs);
            out.append(",\"startedAt\":").append(nowMillis - elapsedMs);
            out.append('}');
        }
        out.append("],\"rateGroups\":[");
        List<Group> groups = groups(transfers, settings);
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            out.append(i == 0 ? "{" : ",{");
            out.append("\"kind\":").append(string(g.kind)).append(",\"key\":").append(string(g.key))
                    .append(",\"limit\":").append(g.limit).append(",\"transfers\":").append(g.transfers)
                    .append(",\"bytesSent\":").append(g.bytesSent).append('}');
        }
        return out.append("]}\n").toString();
    }

    /** A shared rate group with transfers in flight: what it is, its limit, and its transfers' sum. */
    private static final class Group {
        final String kind;
        final String key;
        final long limit;
        long transfers;
        long bytesSent;

        Group(String kind, String key, long limit) {
            this.kind = kind;
            this.key = key;
            this.limit = limit;
        }

        void add(TransferView t) {
            transfers++;
            bytesSent += t.bytesSent();
        }
    }

    /** The global group, then one per client, then one per user, each only where its limit is on. */
    private static List<Group> groups(List<TransferView> transfers, EngineSettings settings) {
        List<Group> groups = new ArrayList<>();
        if (settings.globalRate() > 0) {
            Group global = new Group("global", "", settings.globalRate());
            transfers.forEach(global::add);
            groups.add(global);
        }
        groups.addAll(keyed("client", settings.limitRatePerClient(), transfers, TransferView::clientKey));
        groups.addAll(keyed("user", settings.limitRatePerUser(), transfers, TransferView::userKey));
        return groups;
    }

    private static List<Group> keyed(String kind, long limit, List<TransferView> transfers,
            java.util.function.Function<TransferView, Object> key) {
        if (limit <= 0) {
            return List.of();
        }
        Map<String, Group> byKey = new LinkedHashMap<>();
        transfers.stream().filter(t -> key.apply(t) != null)
                .sorted(Comparator.comparing(t -> key.apply(t).toString()))
                .forEach(t -> byKey.computeIfAbsent(key.apply(t).toString(), k -> new Group(kind, k, limit)).add(t));
        return List.copyOf(byKey.values());
    }

    private static String key(Object key) {
        return key == null ? null : Objects.toString(key);
    }

    /** A JSON string (or {@code null}), ASCII only: quotes, backslashes, controls and non-ASCII escaped. */
    public static String string(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
