package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.resource.SharedFiles;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 2,000 clients download a big file at once and read it slowly, or not at all for a while, from embedded Jetty
 * with 16 threads and the default settings, but buffers instead of mapped chunks (256 KiB chunks, read-ahead 2).
 * One test thread drives every socket without blocking, so the only threads that could grow with the clients are
 * the server's.
 *
 * <p>Each client's receive buffer is set to 4 KiB before it connects, so its window stays small; the server's
 * kernel still takes megabytes per connection before the socket pushes back (Linux autotunes the send buffer),
 * which is why a transfer cannot know its client is slow until it has parked once.
 */
class SlowClientsIT {

    private static final int CLIENTS = 2_000;
    private static final int THREADS = 16;
    private static final int BIG = 16 * 1024 * 1024;
    private static final long BUDGET = 256L * 1024 * 1024;

    @TempDir
    Path root;

    /** One client: its socket and what it has read so far. */
    private static final class Client {
        final SocketChannel channel;
        final StringBuilder head = new StringBuilder();
        boolean headDone;
        long bodyRead;

        Client(SocketChannel channel) {
            this.channel = channel;
        }
    }

    @Test
    void twoThousandSlowClientsCostLittleMemoryAndNoThreads() throws Exception {
        ContainerKind kind = ContainerKind.JETTY_EE11;
        kind.assumeInThisRun();
        long fdLimit = ((com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getMaxFileDescriptorCount();
        Assumptions.assumeTrue(fdLimit >= 2L * CLIENTS + 1_000,
                () -> "needs " + (2 * CLIENTS + 1_000) + " file descriptors (client and server end of each "
                        + "connection, plus the server's own); the limit is " + fdLimit + " (raise ulimit -n)");
        byte[] big = new byte[BIG];
        new Random(2000).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        byte[] small = Arrays.copyOf(big, 4096);
        Files.write(root.resolve("small.bin"), small);

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        SluiceServlet servlet = new SluiceServlet();
        // Buffers (not the default mapped chunks, which are pages of the file): their bytes are what is counted.
        // No timeout may close a client while it waits for the others: the clients connect one after another and
        // read nothing until all 2,000 downloads run, and on a loaded machine that took more than 30 s, Jetty's
        // default idle timeout (1,878 of 2,000 downloads were left). Memory and threads are measured here.
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "bufferKind", "direct", "stallTimeout", "10m"), THREADS, Duration.ofMinutes(10))) {
            TestClient.get(container.uri(), "/small.bin"); // warm up: the servlet and its engine threads exist
            Leaks.assertNothingHeld(servlet, root);
            int baselineThreads = threads.getThreadCount();
            long baselineFds = OpenFiles.count();
            int peakThreads = baselineThreads;
            long peakInUse = 0;
            InetSocketAddress address = new InetSocketAddress(container.uri().getHost(), container.uri().getPort());
            List<Client> clients = new ArrayList<>(CLIENTS);
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    SocketChannel channel = SocketChannel.open();
                    clients.add(new Client(channel));
                    channel.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
                    channel.connect(address);
                    channel.write(ByteBuffer.wrap("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII)));
                    channel.configureBlocking(false);
                    if (i % 100 == 0) {
                        peakThreads = Math.max(peakThreads, threads.getThreadCount());
                        peakInUse = Math.max(peakInUse, servlet.metrics().bufferBytesInUse());
                    }
                }
                Await.until("every slow download running at once", Duration.ofMinutes(3),
                        () -> servlet.metrics().activeTransfers() == CLIENTS, () -> servlet.metrics().toString());
                assertEquals(SharedFiles.MOST_STRIPES, OpenFiles.countUnder(root.toRealPath()),
                        "the downloads of the one file share its few descriptors (SharedFiles' stripes)");

                // Read slowly: one 4 KiB read per client per round, checked against the file.
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                for (int round = 0; round < 10; round++) {
                    for (Client client : clients) {
                        readSome(client, buffer, big);
                    }
                    peakThreads = Math.max(peakThreads, threads.getThreadCount());
                    peakInUse = Math.max(peakInUse, servlet.metrics().bufferBytesInUse());
                    LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // the pace of a slow reader
                }
                assertEquals(CLIENTS, servlet.metrics().activeTransfers(), "slow downloads were dropped");

                for (int i = 0; i < 10; i++) {
                    TestClient.Response quick = TestClient.get(container.uri(), "/small.bin");
                    assertEquals(200, quick.status());
                    assertArrayEquals(small, quick.body());
                }
                TransferMetrics loaded = servlet.metrics();
                peakThreads = Math.max(peakThreads, threads.getThreadCount());
                long perClient = loaded.bufferBytesInUse() / CLIENTS;
                long highWaterPerClient = loaded.bufferBytesHighWater() / CLIENTS;
                System.out.printf("SlowClientsIT: %d clients; buffer bytes in use %d (%d per client), high water %d"
                        + " (%d per client), largest sampled %d; threads baseline %d, peak %d%n", CLIENTS,
                        loaded.bufferBytesInUse(), perClient, loaded.bufferBytesHighWater(), highWaterPerClient,
                        peakInUse, baselineThreads, peakThreads);
                assertTrue(loaded.bufferBytesHighWater() <= BUDGET, "over maxBufferMemory: " + loaded);
                assertTrue(highWaterPerClient <= 64 * 1024,
                        "a slow client held " + highWaterPerClient + " bytes of buffers at the peak: " + loaded);
                assertTrue(perClient <= 64 * 1024, "a parked slow client holds " + perClient + " bytes: " + loaded);
                assertTrue(peakThreads <= baselineThreads + 32,
                        "threads grew with the clients: " + baselineThreads + " -> " + peakThreads);
            } finally {
                for (Client client : clients) {
                    client.channel.close();
                }
            }
            Leaks.assertNothingHeld(servlet, root);
            Await.until("the connections' descriptors closed", Duration.ofSeconds(30),
                    () -> OpenFiles.count() <= baselineFds + 5, () -> OpenFiles.count() + " open, " + baselineFds
                            + " before");
            int after = threads.getThreadCount(); // idle pool threads may stay; they must not have multiplied
            assertTrue(after <= baselineThreads + 32, "threads left behind: " + baselineThreads + " -> " + after);
            assertEquals(0, servlet.metrics().failed());
        }
    }

    /** One non-blocking read; the status line and headers are checked, then every body byte against the file. */
    private static void readSome(Client client, ByteBuffer buffer, byte[] big) throws IOException {
        buffer.clear();
        int n = client.channel.read(buffer);
        assertTrue(n >= 0, "the server closed a slow download");
        buffer.flip();
        while (!client.headDone && buffer.hasRemaining()) {
            client.head.append((char) buffer.get());
            if (client.head.toString().endsWith("\r\n\r\n")) {
                client.headDone = true;
                assertTrue(client.head.toString().startsWith("HTTP/1.1 200 "), client.head.toString());
            }
        }
        int length = buffer.remaining();
        if (length > 0) {
            byte[] got = new byte[length];
            buffer.get(got);
            int from = (int) client.bodyRead;
            assertArrayEquals(Arrays.copyOfRange(big, from, from + length), got, "body bytes at " + from);
            client.bodyRead += length;
        }
    }
}
