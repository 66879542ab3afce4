package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.launcher.Launcher;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher jar, as a process, under the churn that used to grow it to Jetty's pool maximum: 2,000 slowloris
 * connections (one header byte a second each, all open at once) and, while they are, 10,000 downloads killed after
 * their first 64 KiB, with complete downloads going on throughout. The slowloris connections are closed at the
 * request-header deadline (10 s here), not before; every download works; the process's thread count (from /proc)
 * stays within a bound computed from its idle count (see {@code bound}), and its file descriptors come back to
 * the idle count. With Jetty's default pool and no deadline the same run went from 40 threads to 232, and all 2,000
 * connections were still open at the end; with the launcher's pool it goes from 40 to 43, bound 60 (2 cores).
 */
class LauncherThreadsIT {

    private static final int SLOWLORIS = 2_000;
    private static final int ABORTS = 10_000;
    private static final Duration HEADER_DEADLINE = Duration.ofSeconds(10);
    /**
     * Threads a JVM may start by itself under load, beyond those it runs idle: JIT compiler threads (dynamic in
     * JDK 17, up to 3 on 2 cores), G1's parallel and concurrent workers (started on demand, 2 + 1 on 2 cores),
     * and a spare.
     */
    private static final int JVM_ON_DEMAND = 8;
    /** Sluice's read threads (readThreads=8, plus the first-read lane), started as reads need them. */
    private static final int SLUICE_READ_THREADS = 9;
    private static final Pattern THREADS = Pattern.compile("(?m)^Threads:\\s+(\\d+)");

    @TempDir
    Path root;

    @TempDir
    Path work;

    @Test
    @Timeout(120)
    void slowlorisAndAbortsLeaveThreadsFlatAndDownloadsWork() throws Exception {
        ContainerKind.JETTY_EE11.assumeInThisRun();
        try (RandomAccessFile big = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            big.setLength(64L * 1024 * 1024);
        }
        byte[] mid = new byte[4 * 1024 * 1024];
        new Random(5).nextBytes(mid);
        Files.write(root.resolve("mid.bin"), mid);
        String midSha = TestClient.sha256(mid);
        Files.writeString(root.resolve("hello.txt"), "hello");

        Path jar = Path.of("target", "sluice-launcher.jar").toAbsolutePath();
        try (ExternalServer process = ExternalServer.start("launcher", List.of(ExternalServer.java(), "-Xmx256m",
                "-jar", jar.toString(), "--root", root.toString(), "--port", "0",
                "--requestHeaderTimeout=" + HEADER_DEADLINE.toSeconds() + "s"), Map.of(), work,
                work.resolve("launcher.log"))) {
            URI base = process.awaitLauncherUrl(Duration.ofSeconds(60));
            long pid = process.processes().get(0).pid();

            // Warm up: the read threads, the pool's started threads and the JIT's first compilations.
            for (int i = 0; i < 20; i++) {
                assertEquals(midSha, download(base, mid.length));
            }
            LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
            int idleThreads = threads(pid);
            long idleFds = OpenFiles.countOf(pid);
            int cores = Runtime.getRuntime().availableProcessors(); // the launcher's JVM sees the same machine
            // The bound: the idle count, plus the pool threads not yet started (max - min), plus read threads the
            // warm-up may not have started, plus what the JVM starts by itself under load.
            var pool = Launcher.threadPool(cores);
            int bound = idleThreads + pool.getMaxThreads() - pool.getMinThreads() + SLUICE_READ_THREADS
                    + JVM_ON_DEMAND;

            Sampler sampler = Sampler.start(pid);
            AtomicBoolean churning = new AtomicBoolean(true);
            ExecutorService clients = Executors.newFixedThreadPool(10);
            Slowloris slowloris = Slowloris.open(base, SLOWLORIS);
            try {
                Future<?> trickling = clients.submit(
                        () -> slowloris.trickleUntilClosed(HEADER_DEADLINE.plusSeconds(30)));
                Future<Integer> downloads = clients.submit(() -> {
                    int done = 0;
                    while (churning.get() && done < 10_000) {
                        assertEquals(midSha, download(base, mid.length), "a download during the churn");
                        done++;
                    }
                    return done;
                });
                // Every slowloris connection accepted and open at once, before the first deadline ends.
                Await.until("the server holds every slowloris connection", HEADER_DEADLINE,
                        () -> OpenFiles.countOf(pid) >= idleFds + SLOWLORIS,
                        () -> OpenFiles.countOf(pid) + " fds, idle " + idleFds);
                int threadsWithSlowloris = threads(pid);

                AtomicInteger next = new AtomicInteger();
                List<Future<Integer>> aborters = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    aborters.add(clients.submit(() -> {
                        int ok = 0;
                        while (next.getAndIncrement() < ABORTS) {
                            TestClient client = new TestClient(base);
                            TestClient.Head head = client.send("GET", "/big.bin", Map.of(), true);
                            if (head.status() == 200 && client.skip(64 * 1024)) {
                                ok++;
                            }
                            client.abort();
                        }
                        return ok;
                    }));
                }
                int aborted = 0;
                for (Future<Integer> aborter : aborters) {
                    aborted += aborter.get(90, TimeUnit.SECONDS);
                }
                trickling.get(60, TimeUnit.SECONDS);
                churning.set(false);
                int completed = downloads.get(60, TimeUnit.SECONDS);

                Await.until("file descriptors back at the idle count", Duration.ofSeconds(30),
                        () -> OpenFiles.countOf(pid) <= idleFds + 5,
                        () -> OpenFiles.countOf(pid) + " open, idle " + idleFds);
                sampler.stop();
                System.out.printf("LauncherThreadsIT: %d cores; threads idle %d, %d with every slowloris connection"
                        + " open, max %d during the churn, %d after (bound %d); fds idle %d, max %d, %d after;"
                        + " slowloris closed %d of %d, %.1f to %.1f s after their connect; aborted downloads %d of %d;"
                        + " complete downloads %d%n", cores, idleThreads, threadsWithSlowloris, sampler.maxThreads(),
                        threads(pid), bound, idleFds, sampler.maxFds(), OpenFiles.countOf(pid),
                        slowloris.closed(), SLOWLORIS, slowloris.earliestClose(), slowloris.latestClose(), aborted,
                        ABORTS, completed);

                assertEquals(SLOWLORIS, slowloris.closed(), "slowloris connections closed by the server");
                assertTrue(slowloris.earliestClose() >= HEADER_DEADLINE.toMillis() * 0.9 / 1000,
                        "a slowloris connection was closed before the deadline: " + slowloris.earliestClose());
                assertEquals(ABORTS, aborted, "aborted downloads that got their first 64 KiB");
                assertTrue(completed >= 1, "no download completed during the churn");
                assertTrue(sampler.maxThreads() <= bound, "threads grew from " + idleThreads + " to "
                        + sampler.maxThreads() + ", above the bound " + bound);
            } finally {
                churning.set(false);
                clients.shutdownNow();
                clients.awaitTermination(10, TimeUnit.SECONDS);
                slowloris.close();
                sampler.stop();
            }
        }
    }

    private static String download(URI base, long length) throws IOException {
        try (TestClient client = new TestClient(base)) {
            TestClient.Head head = client.send("GET", "/mid.bin", Map.of(), true);
            assertEquals(200, head.status());
            return client.sha256(length);
        }
    }

    static int threads(long pid) {
        try {
            Matcher m = THREADS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
            if (!m.find()) {
                throw new IllegalStateException("no Threads: line for " + pid);
            }
            return Integer.parseInt(m.group(1));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the status of process " + pid, e);
        }
    }

    /** Samples a process's thread and fd counts every 100 ms on its own thread and keeps the highest. */
    static final class Sampler {
        private final long pid;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private volatile int maxThreads;
        private volatile long maxFds;
        private Thread thread;

        private Sampler(long pid) {
            this.pid = pid;
        }

        static Sampler start(long pid) {
            Sampler sampler = new Sampler(pid);
            sampler.thread = new Thread(sampler::run, "thread-sampler");
            sampler.thread.setDaemon(true);
            sampler.thread.start();
            return sampler;
        }

        private void run() {
            while (running.get()) {
                try {
                    maxThreads = Math.max(maxThreads, threads(pid));
                    maxFds = Math.max(maxFds, OpenFiles.countOf(pid));
                } catch (IllegalStateException gone) {
                    return; // the process ended
                }
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(5_000);
        }

        int maxThreads() {
            return maxThreads;
        }

        long maxFds() {
            return maxFds;
        }
    }

    /**
     * Connections that each send one byte of a request head a second and never finish it, driven by one thread
     * with non-blocking sockets; a connection counts as closed when the server ends it (end of stream or reset).
     */
    static final class Slowloris implements AutoCloseable {
        private static final byte[] HEAD = ("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                + "a".repeat(8000)).getBytes(StandardCharsets.ISO_8859_1);

        private final List<SocketChannel> channels = new ArrayList<>();
        private final long[] connectedNanos;
        private final long[] closedNanos;
        private final int[] sent;

        private Slowloris(int count) {
            connectedNanos = new long[count];
            closedNanos = new long[count];
            sent = new int[count];
        }

        static Slowloris open(URI base, int count) throws IOException {
            Slowloris slowloris = new Slowloris(count);
            InetSocketAddress address = new InetSocketAddress(base.getHost(), base.getPort());
            for (int i = 0; i < count; i++) {
                SocketChannel channel = SocketChannel.open(address);
                slowloris.connectedNanos[i] = System.nanoTime();
                channel.configureBlocking(false);
                slowloris.channels.add(channel);
            }
            return slowloris;
        }

        /** One byte per connection per second, in ten slices a second, until every one is closed or the time is up. */
        void trickleUntilClosed(Duration limit) {
            long end = System.nanoTime() + limit.toNanos();
            ByteBuffer in = ByteBuffer.allocate(1024);
            int slices = 10;
            for (long tick = 0; closed() < channels.size() && System.nanoTime() < end; tick++) {
                for (int i = (int) (tick % slices); i < channels.size(); i += slices) {
                    if (closedNanos[i] != 0) {
                        continue;
                    }
                    SocketChannel channel = channels.get(i);
                    try {
                        in.clear();
                        if (channel.read(in) < 0) {
                            closedNanos[i] = System.nanoTime();
                            continue;
                        }
                        channel.write(ByteBuffer.wrap(HEAD, sent[i] % HEAD.length, 1));
                        sent[i]++;
                    } catch (IOException reset) {
                        closedNanos[i] = System.nanoTime();
                    }
                }
                LockSupport.parkNanos(Duration.ofMillis(1000 / slices).toNanos());
            }
        }

        int closed() {
            int closed = 0;
            for (long at : closedNanos) {
                closed += at != 0 ? 1 : 0;
            }
            return closed;
        }

        /** Seconds from connect to close, the smallest among the closed ones. */
        double earliestClose() {
            double earliest = Double.MAX_VALUE;
            for (int i = 0; i < closedNanos.length; i++) {
                if (closedNanos[i] != 0) {
                    earliest = Math.min(earliest, (closedNanos[i] - connectedNanos[i]) / 1e9);
                }
            }
            return earliest == Double.MAX_VALUE ? -1 : earliest;
        }

        double latestClose() {
            double latest = -1;
            for (int i = 0; i < closedNanos.length; i++) {
                if (closedNanos[i] != 0) {
                    latest = Math.max(latest, (closedNanos[i] - connectedNanos[i]) / 1e9);
                }
            }
            return latest;
        }

        @Override
        public void close() {
            for (SocketChannel channel : channels) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
