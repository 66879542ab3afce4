package dev.sluice.peers;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Many slow HTTP/1.1 downloads from one thread, for the benchmark's slow-client workload ({@code bench/run}):
 * a <strong>test tool, not production code</strong>.
 *
 * <pre>
 * java -cp ... dev.sluice.peers.SlowClients --url=http://127.0.0.1:PORT/big.bin [--clients=1000]
 *      [--rate=200000] [--seconds=20] [--rcvbuf=16384] [--recent=2] [--spread=0] [--timeline=FILE]
 * </pre>
 *
 * <p>Opens {@code --clients} connections (at most 64 connects in flight at a time, so the server's accept
 * backlog is not flooded; with {@code --spread=S}, the connects are also due evenly over S seconds), each with
 * {@code SO_RCVBUF} set before connecting so that the kernel cannot buffer much for it, and sends one
 * {@code GET}. Each connection then reads at most {@code --rate} bytes per second:
 * a token bucket per connection, refilled every ~10 ms by the one selector loop; a connection whose bucket
 * holds less than one read's worth is not interested in reading, so the server sees a slow reader whose socket
 * stays full. After {@code --seconds} it prints its summary (and a line on its own loop, below) and exits:
 *
 * <pre>
 * SLOW_CLIENTS clients=N connected=N status200=N served=N closed=N failed=N bytes=B seconds=S statuses=200:N,...
 *     ttfb_n=N ttfb_median_ms=T ttfb_p90_ms=T ttfb_max_ms=T due_n=N due_ttfb_median_ms=T due_ttfb_p90_ms=T
 *     due_ttfb_max_ms=T
 * </pre>
 *
 * <p>{@code served} counts connections that got status 200 and were still receiving bytes at the end (some
 * within the last {@code --recent} seconds), or that received the whole body; a connection that got no
 * response, another status, or that stalled or was closed early is not served. {@code bytes} is the total of
 * body bytes received. {@code ttfb_*} are the times from starting a connection's connect to its first byte of
 * response, over the {@code ttfb_n} connections that got one (a connection still waiting at the end counts as
 * waiting until the end, so a server that never answers cannot look fast). {@code due_ttfb_*} are the times from
 * each client's due time on the schedule ({@code --spread}) to its first byte, over the {@code due_n} clients due
 * before the end, each counting until the end if it got none: a full listen queue that holds connects back, and so
 * delays the connects of the clients after them, is paid for there and not in {@code ttfb_*}. With
 * {@code --timeline=FILE} it also writes, per client, when its connect started, how long the connect took until
 * the request went, how long the response's first byte took after that, the client's state at the end (answered,
 * waiting, connecting, failed, or not_started: held back by the connects in flight) and when it was due; -1 for
 * what did not happen. A connect whose SYN a full listen queue dropped (retried by the kernel after 1 s, then
 * 3 s) shows in the connect time; a dropped final ACK or a server slow to answer in the response time; the loop's
 * own lag in both. A last line {@code SLOW_CLIENTS_LOOP} gives the loop's longest gap between two ticks, how many
 * ticks came 100 ms or more late, and the CPU of the loop's thread and of the whole JVM: when the one thread falls
 * behind, every time it measures is late too. Nothing else is measured on the client's side: the script samples the server.
 */
public final class SlowClients {
    private static final int MAX_CONNECTS_IN_FLIGHT = 64;
    private static final long TICK_NANOS = 10_000_000L;
    /** A tick this much later than the last one: the loop fell behind (its clients' times are late by as much). */
    private static final long LATE_TICK_NANOS = 100_000_000L;
    /** The most one read takes, and so the least a bucket must hold before the connection reads again. */
    private static final int READ_SIZE = 16 * 1024;

    private SlowClients() {
    }

    /** One download: its socket, its token bucket and what it has received. */
    static final class Client {
        final SocketChannel channel;
        final StringBuilder head = new StringBuilder();
        int status = -1;
        long contentLength = -1;
        long bodyBytes;
        long lastBodyNanos;
        long startNanos;
        long sentNanos;
        long firstByteNanos;
        double tokens;
        boolean requestSent;
        boolean done;
        boolean failed;

        Client(SocketChannel channel) {
            this.channel = channel;
        }

        boolean complete() {
            return contentLength >= 0 && bodyBytes >= contentLength;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                usage("bad argument " + arg);
            }
            options.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        URI url = URI.create(required(options, "url"));
        int clients = Integer.parseInt(options.getOrDefault("clients", "1000"));
        double rate = Double.parseDouble(options.getOrDefault("rate", "200000"));
        long seconds = Long.parseLong(options.getOrDefault("seconds", "20"));
        int rcvbuf = Integer.parseInt(options.getOrDefault("rcvbuf", "16384"));
        long recentNanos = Long.parseLong(options.getOrDefault("recent", "2")) * 1_000_000_000L;
        double spreadNanos = Double.parseDouble(options.getOrDefault("spread", "0")) * 1e9;
        if (clients <= 0 || rate <= 0 || seconds <= 0 || rcvbuf <= 0 || spreadNanos < 0
                || !"http".equals(url.getScheme())) {
            usage("clients, rate, seconds and rcvbuf must be positive, spread not negative, the url http://");
        }
        InetSocketAddress address = new InetSocketAddress(url.getHost(), url.getPort() < 0 ? 80 : url.getPort());
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + address.getPort()
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        // Burst: at most two reads' worth, so a connection never drains faster than the rate for long.
        double burst = Math.max(2.0 * READ_SIZE, rate * TICK_NANOS / 1e9);

        List<Client> all = new ArrayList<>(clients);
        ByteBuffer buffer = ByteBuffer.allocateDirect(READ_SIZE);
        try (Selector selector = Selector.open()) {
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            long lastTick = start;
            int connecting = 0;
            long longestTickGap = 0;
            int lateTicks = 0;
            while (true) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                while (all.size() < clients && connecting < MAX_CONNECTS_IN_FLIGHT
                        && now >= dueNanos(start, spreadNanos, all.size(), clients)) {
                    SocketChannel channel = SocketChannel.open();
                    channel.configureBlocking(false);
                    channel.setOption(StandardSocketOptions.SO_RCVBUF, rcvbuf); // before connect: sets the window
                    Client client = new Client(channel);
                    client.startNanos = System.nanoTime();
                    all.add(client);
                    try {
                        if (channel.connect(address)) {
                            channel.register(selector, SelectionKey.OP_WRITE, client);
                        } else {
                            channel.register(selector, SelectionKey.OP_CONNECT, client);
                            connecting++;
                        }
                    } catch (IOException e) {
                        fail(client);
                    }
                }
                double elapsed = (now - lastTick) / 1e9;
                if (now - lastTick >= TICK_NANOS) {
                    long gap = now - lastTick;
                    longestTickGap = Math.max(longestTickGap, gap);
                    lateTicks += gap >= LATE_TICK_NANOS ? 1 : 0;
                    lastTick = now;
                    for (Client client : all) {
                        if (client.done || !client.requestSent) {
                            continue;
                        }
                        client.tokens = Math.min(burst, client.tokens + rate * elapsed);
                        SelectionKey key = client.channel.keyFor(selector);
                        if (key != null && key.isValid() && key.interestOps() == 0 && client.tokens >= READ_SIZE) {
                            key.interestOps(SelectionKey.OP_READ);
                        }
                    }
                }
                long waitMillis = Math.max(1, Math.min((TICK_NANOS - (System.nanoTime() - lastTick)) / 1_000_000,
                        (end - System.nanoTime()) / 1_000_000));
                selector.select(waitMillis);
                for (SelectionKey key : selector.selectedKeys()) {
                    Client client = (Client) key.attachment();
                    try {
                        if (key.isValid() && key.isConnectable()) {
                            connecting--;
                            client.channel.finishConnect();
                            key.interestOps(SelectionKey.OP_WRITE);
                        } else if (key.isValid() && key.isWritable()) {
                            client.channel.write(ByteBuffer.wrap(request)); // ~100 bytes: fits a fresh socket
                            client.requestSent = true;
                            client.sentNanos = System.nanoTime();
                            client.tokens = burst;
                            key.interestOps(SelectionKey.OP_READ);
                        } else if (key.isValid() && key.isReadable()) {
                            read(client, key, buffer);
                        }
                    } catch (IOException e) {
                        if (key.isValid() && key.isConnectable()) {
                            connecting--;
                        }
                        fail(client);
                    }
                }
                selector.selectedKeys().clear();
            }
            report(all, clients, seconds, recentNanos, start, spreadNanos, end);
            long loopCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            long processCpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            System.out.printf(Locale.ROOT, "SLOW_CLIENTS_LOOP longest_tick_gap_ms=%.0f ticks_late_100ms=%d"
                    + " loop_cpu_s=%s process_cpu_s=%s%n", longestTickGap / 1e6, lateTicks, seconds(loopCpu),
                    seconds(processCpu));
            String timeline = options.get("timeline");
            if (timeline != null) {
                writeTimeline(Path.of(timeline), all, clients, start, spreadNanos);
            }
            for (Client client : all) {
                client.channel.close();
            }
        }
    }

    private static void read(Client client, SelectionKey key, ByteBuffer buffer) throws IOException {
        buffer.clear().limit((int) Math.min(READ_SIZE, Math.floor(client.tokens)));
        int n = client.channel.read(buffer);
        if (n < 0) {
            client.done = true;
            key.cancel();
            client.channel.close();
            return;
        }
        client.tokens -= n;
        if (client.firstByteNanos == 0 && n > 0) {
            client.firstByteNanos = System.nanoTime();
        }
        buffer.flip();
        if (client.status < 0) {
            // Response head: a few hundred bytes, ASCII; the rest of this read is body.
            while (buffer.hasRemaining() && client.status < 0) {
                client.head.append((char) (buffer.get() & 0xff));
                int len = client.head.length();
                if (len >= 4 && client.head.substring(len - 4).equals("\r\n\r\n")) {
                    parseHead(client);
                } else if (len > 64 * 1024) {
                    throw new IOException("response head too long");
                }
            }
        }
        if (client.status >= 0 && buffer.hasRemaining()) {
            client.bodyBytes += buffer.remaining();
            client.lastBodyNanos = System.nanoTime();
        }
        if (client.complete()) {
            client.done = true;
            key.cancel();
            client.channel.close();
        } else if (client.tokens < READ_SIZE) {
            key.interestOps(0); // over budget: wait for the bucket, the socket fills and the server must wait
        }
    }

    private static void parseHead(Client client) throws IOException {
        String[] lines = client.head.toString().split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new IOException("bad status line " + lines[0]);
        }
        client.status = Integer.parseInt(statusLine[1]);
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                client.contentLength = Long.parseLong(line.substring(colon + 1).trim());
            }
        }
    }

    private static void fail(Client client) {
        client.failed = true;
        client.done = true;
        try {
            client.channel.close();
        } catch (IOException ignored) {
            // closing a broken socket: nothing left to do
        }
    }

    /**
     * When the {@code index}th client is due to connect: spread evenly over {@code spreadNanos} from the start. Its
     * connect may start later, held back by the connects in flight.
     */
    private static long dueNanos(long start, double spreadNanos, int index, int clients) {
        return start + (long) (spreadNanos * index / clients);
    }

    private static void report(List<Client> all, int clients, long seconds, long recentNanos, long start,
            double spreadNanos, long end) {
        int connected = 0;
        int status200 = 0;
        int served = 0;
        int closed = 0;
        int failed = 0;
        long bytes = 0;
        Map<String, Integer> statuses = new TreeMap<>();
        for (Client client : all) {
            if (client.requestSent) {
                connected++;
            }
            if (client.failed) {
                failed++;
            } else if (client.done && !client.complete()) {
                closed++;
            }
            statuses.merge(client.status < 0 ? "none" : Integer.toString(client.status), 1, Integer::sum);
            bytes += client.bodyBytes;
            if (client.status == 200) {
                status200++;
                boolean receiving = !client.done && client.lastBodyNanos >= end - recentNanos;
                if (receiving || client.complete()) {
                    served++;
                }
            }
        }
        StringBuilder shown = new StringBuilder();
        statuses.forEach((status, count) -> shown.append(shown.length() == 0 ? "" : ",").append(status)
                .append(':').append(count));
        long[] ttfb = all.stream().filter(c -> c.requestSent && !c.failed)
                .mapToLong(c -> (c.firstByteNanos == 0 ? end : c.firstByteNanos) - c.startNanos).sorted().toArray();
        long[] fromDue = fromDue(all, clients, start, spreadNanos, end);
        System.out.printf("SLOW_CLIENTS clients=%d connected=%d status200=%d served=%d closed=%d failed=%d"
                + " bytes=%d seconds=%d statuses=%s ttfb_n=%d ttfb_median_ms=%.0f ttfb_p90_ms=%.0f"
                + " ttfb_max_ms=%.0f due_n=%d due_ttfb_median_ms=%.0f due_ttfb_p90_ms=%.0f due_ttfb_max_ms=%.0f%n",
                clients, connected, status200, served, closed, failed, bytes, seconds, shown, ttfb.length,
                percentileMillis(ttfb, 0.5), percentileMillis(ttfb, 0.9), percentileMillis(ttfb, 1.0),
                fromDue.length, percentileMillis(fromDue, 0.5), percentileMillis(fromDue, 0.9),
                percentileMillis(fromDue, 1.0));
        System.out.flush();
    }

    /**
     * The time from each client's due time to its first byte, sorted, over every client due before the end,
     * whether or not its connect ever started: a client held back by the connects in flight, still connecting,
     * failed or still waiting for its answer counts until the end. Unlike {@code ttfb_*}, which starts at the
     * connect, this counts what a client that arrived on schedule waited (without the schedule, a server whose
     * full listen queue holds connects back would slow the arrivals of its own later clients and not pay for it:
     * "coordinated omission").
     */
    static long[] fromDue(List<Client> all, int clients, long start, double spreadNanos, long end) {
        List<Long> waits = new ArrayList<>(clients);
        for (int i = 0; i < clients; i++) {
            long due = dueNanos(start, spreadNanos, i, clients);
            if (due >= end) {
                break;
            }
            long firstByte = i < all.size() ? all.get(i).firstByteNanos : 0;
            waits.add((firstByte == 0 ? end : firstByte) - due);
        }
        return waits.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /**
     * One line per client, in the order they started: when its connect started, then how long the connect and
     * the request took and when its first byte came after the request went (ms; -1: never), to tell a slow
     * connect (a full listen queue) from a slow response; its state; and when it was due.
     */
    private static void writeTimeline(Path file, List<Client> all, int clients, long start, double spreadNanos)
            throws IOException {
        StringBuilder lines = new StringBuilder("start_ms\tconnect_ms\tresponse_ms\tstate\tdue_ms\n");
        for (int i = 0; i < all.size(); i++) {
            Client client = all.get(i);
            String state = client.failed ? "failed" : client.sentNanos == 0 ? "connecting"
                    : client.firstByteNanos == 0 ? "waiting" : "answered";
            lines.append(String.format(Locale.ROOT, "%.1f\t%.1f\t%.1f\t%s\t%.1f%n", (client.startNanos - start) / 1e6,
                    client.sentNanos == 0 ? -1 : (client.sentNanos - client.startNanos) / 1e6,
                    client.sentNanos == 0 || client.firstByteNanos == 0 ? -1
                            : (client.firstByteNanos - client.sentNanos) / 1e6, state,
                    (dueNanos(start, spreadNanos, i, clients) - start) / 1e6));
        }
        for (int i = all.size(); i < clients; i++) { // held back: the connects in flight never freed a place
            lines.append(String.format(Locale.ROOT, "-1\t-1\t-1\tnot_started\t%.1f%n",
                    (dueNanos(start, spreadNanos, i, clients) - start) / 1e6));
        }
        Files.writeString(file, lines);
    }

    /** Nanoseconds of CPU as seconds, or {@code n/a} where the JVM cannot tell (-1). */
    private static String seconds(long cpuNanos) {
        return cpuNanos < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", cpuNanos / 1e9);
    }

    /** The {@code q} quantile of the sorted {@code nanos}, in milliseconds; 0 for none. */
    private static double percentileMillis(long[] nanos, double q) {
        if (nanos.length == 0) {
            return 0;
        }
        int index = (int) Math.min(nanos.length - 1, Math.ceil(q * nanos.length) - 1);
        return nanos[Math.max(0, index)] / 1e6;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            usage("--" + name + " is required");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("SlowClients: " + problem);
        System.err.println("usage: SlowClients --url=http://HOST:PORT/PATH [--clients=1000] [--rate=200000]"
                + " [--seconds=20] [--rcvbuf=16384] [--recent=2] [--spread=0] [--timeline=FILE]");
        System.exit(2);
    }
}
