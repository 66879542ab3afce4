package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.HTTP2Session;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Diagnostics only, run with {@code -Dh2close.diagnostics=true} (docs/http2-close.md): Http2CloseIT's Tomcat cases
 * repeated {@code -Drepeat=N} times on one Tomcat; whenever transfers are still active after the close, Tomcat's
 * HTTP/2 state ({@link TomcatH2Probe}) and a thread dump go to {@code target/h2close-*.txt}. Their delays are
 * timings, which regression tests do not assert.
 */
@EnabledIfSystemProperty(named = "h2close.diagnostics", matches = "true")
class Http2CloseRepeatIT {

    @TempDir
    Path root;

    /**
     * The windows-closed RST case. {@code -DrawClose=true} closes the client's SocketChannel directly, as
     * Http2CloseIT once did: the JDK then defers the close, and so the RST, to the client selector's next select.
     */
    @Test
    void tomcatRstWindowsClosed() throws Exception {
        boolean rawClose = Boolean.getBoolean("rawClose");
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L * 1024 * 1024);
        }
        int repeat = Integer.getInteger("repeat", 10);
        int streams = Integer.getInteger("streams", 100);
        HTTP2Client client = new HTTP2Client();
        client.setInitialStreamRecvWindow(64 * 1024);
        client.setInitialSessionRecvWindow(streams * 64 * 1024 * 2);
        client.start();
        SluiceServlet servlet = new SluiceServlet();
        int late = 0;
        try (ContainerKind.Running container = ContainerKind.TOMCAT.start(servlet,
                Map.of("root", root.toString(), "chunkSize", "64KiB", "stallTimeout", "10s"), 0, true)) {
            URI uri = container.uri();
            for (int round = 0; round < repeat; round++) {
                Session session = client.connect(new InetSocketAddress(uri.getHost(), uri.getPort()),
                        new Session.Listener() {
                        }).get(10, TimeUnit.SECONDS);
                try {
                    List<CompletableFuture<MetaData.Response>> heads = new ArrayList<>();
                    for (int i = 0; i < streams; i++) {
                        heads.add(Http2CloseIT.get(session, uri, "/big.bin"));
                    }
                    for (CompletableFuture<MetaData.Response> head : heads) {
                        assertEquals(200, head.get(30, TimeUnit.SECONDS).getStatus());
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    System.out.println("Http2CloseRepeatIT round " + round + ": setup failed, " + e);
                    Await.until("every transfer released", Duration.ofSeconds(40),
                            () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
                    continue;
                }
                Await.until(streams + " transfers in progress", Duration.ofSeconds(60),
                        () -> servlet.metrics().activeTransfers() == streams, () -> servlet.metrics().toString());
                SocketChannelEndPoint endPoint = (SocketChannelEndPoint) ((HTTP2Session) session).getEndPoint();
                SocketChannel channel = endPoint.getChannel();
                long closedAt = System.nanoTime();
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                if (rawClose) {
                    channel.close();
                } else {
                    endPoint.close();
                }
                boolean prompt = awaitNone(servlet, closedAt + TimeUnit.SECONDS.toNanos(3));
                if (!prompt) {
                    late++;
                    Path report = Path.of("target", "h2close-" + round + ".txt");
                    String ss = new String(new ProcessBuilder("ss", "-tnoi", "sport = :" + uri.getPort()
                            + " or dport = :" + uri.getPort()).redirectErrorStream(true).start().getInputStream()
                            .readAllBytes());
                    System.out.println(ss);
                    Files.writeString(report, servlet.metrics() + "\n" + ss + "\n"
                            + TomcatH2Probe.describe(container.internals())
                            + "\n" + TomcatH2Probe.threads());
                    System.out.println("Http2CloseRepeatIT round " + round + ": " + servlet.metrics().activeTransfers()
                            + " active 3 s after the RST; " + report.toAbsolutePath());
                    System.out.println(TomcatH2Probe.describe(container.internals()));
                }
                Await.until("every transfer released", Duration.ofSeconds(40),
                        () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
                System.out.printf("Http2CloseRepeatIT round %d: released %d ms after the RST%n", round,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closedAt));
            }
        } finally {
            client.stop();
        }
        System.out.println("Http2CloseRepeatIT: " + late + " of " + repeat + " rounds late");
        assertEquals(0, late, "rounds with transfers active 3 s after the RST");
    }

    /**
     * Http2CloseIT's congested Tomcat cases ({@code -Dclose=RST} or {@code GOAWAY_FIN}), repeated, with Tomcat's
     * HTTP/2 {@code writeTimeout} set from {@code -DwriteTimeout} (ms; Tomcat's default is 5000).
     */
    @Test
    void tomcatCongested() throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L * 1024 * 1024);
        }
        int repeat = Integer.getInteger("repeat", 10);
        Http2CloseIT.Close close = Http2CloseIT.Close.valueOf(System.getProperty("close", "RST"));
        long writeTimeout = Long.getLong("writeTimeout", 5000);
        int streams = Integer.getInteger("streams", 100);
        SluiceServlet servlet = new SluiceServlet();
        int late = 0;
        try (ContainerKind.Running container = ContainerKind.TOMCAT.start(servlet,
                Map.of("root", root.toString(), "chunkSize", "64KiB", "stallTimeout", "60s"), 0, true)) {
            org.apache.catalina.connector.Connector connector =
                    (org.apache.catalina.connector.Connector) container.internals();
            for (org.apache.coyote.UpgradeProtocol upgrade : connector.findUpgradeProtocols()) {
                ((org.apache.coyote.http2.Http2Protocol) upgrade).setWriteTimeout(writeTimeout);
            }
            URI uri = container.uri();
            for (int round = 0; round < repeat; round++) {
                try (Http2CloseIT.RawH2c raw = new Http2CloseIT.RawH2c(uri, streams, "/big.bin")) {
                    Await.until(streams + " transfers in progress", Duration.ofSeconds(60),
                            () -> servlet.metrics().activeTransfers() == streams, () -> servlet.metrics().toString());
                    Http2CloseIT.awaitNoProgress(servlet);
                    long stalledAt = System.nanoTime();
                    long closedAt;
                    if (close == Http2CloseIT.Close.GOAWAY_FIN) {
                        raw.sendGoAway();
                        Thread.sleep(100);
                        closedAt = System.nanoTime();
                        raw.socket.close();
                    } else {
                        closedAt = System.nanoTime();
                        raw.sendRst();
                    }
                    boolean prompt = awaitNone(servlet, closedAt + TimeUnit.SECONDS.toNanos(1));
                    if (!prompt) {
                        late++;
                        Path report = Path.of("target", "h2congested-" + round + ".txt");
                        Files.writeString(report, servlet.metrics() + "\n"
                                + TomcatH2Probe.describe(container.internals()) + "\n" + TomcatH2Probe.threads());
                        System.out.println("Http2CloseRepeatIT congested round " + round + ": "
                                + servlet.metrics().activeTransfers() + " active 1 s after the close; " + report);
                    }
                    Await.until("every transfer released", Duration.ofSeconds(70),
                            () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
                    long now = System.nanoTime();
                    System.out.printf("Http2CloseRepeatIT congested %s writeTimeout=%d round %d: released %d ms after"
                            + " the close, %d ms after the writes stalled (+500 ms)%n", close, writeTimeout, round,
                            TimeUnit.NANOSECONDS.toMillis(now - closedAt),
                            TimeUnit.NANOSECONDS.toMillis(now - stalledAt));
                }
            }
        }
        System.out.println("Http2CloseRepeatIT congested: " + late + " of " + repeat + " rounds late");
    }

    private static boolean awaitNone(SluiceServlet servlet, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            if (servlet.metrics().activeTransfers() == 0) {
                return true;
            }
            Thread.sleep(10);
        }
        return servlet.metrics().activeTransfers() == 0;
    }
}
