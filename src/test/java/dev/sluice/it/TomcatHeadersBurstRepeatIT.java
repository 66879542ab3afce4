package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Diagnostics only, run with {@code -Dh2close.diagnostics=true} (docs/http2-close.md): a reproduction, without
 * Sluice, of Tomcat misreading a burst of HEADERS frames. Each round starts an embedded Tomcat with h2c and a plain
 * async servlet that writes while {@code isReady()}, and opens 100 streams at once with Jetty's HTTP2Client through
 * a proxy that records the client's bytes. About once in 200 to 600 rounds on a loaded 2-core machine, Tomcat
 * answers with a GOAWAY (PROTOCOL_ERROR "a new remote stream ID of [19] was requested but the most recent stream
 * was [21]", FRAME_SIZE_ERROR or COMPRESSION_ERROR) and the remaining streams get no answer. The assertion is what
 * makes it Tomcat's: in every such round the recorded client bytes are well-formed frames with HEADERS in
 * increasing stream order. Rounds: {@code -Drepeat=N} (600).
 */
@EnabledIfSystemProperty(named = "h2close.diagnostics", matches = "true")
class TomcatHeadersBurstRepeatIT {

    private static final int STREAMS = 100;

    /** Writes 16 KiB at a time while the container takes them, and never ends: the client reads nothing. */
    static final class Writing extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentLengthLong(256L * 1024 * 1024);
            AsyncContext async = request.startAsync();
            async.setTimeout(0);
            ServletOutputStream out = response.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            out.setWriteListener(new WriteListener() {
                @Override
                public void onWritePossible() {
                    try {
                        while (out.isReady()) {
                            out.write(chunk);
                        }
                    } catch (IOException e) {
                        async.complete(); // the stream or its connection failed
                    }
                }

                @Override
                public void onError(Throwable failure) {
                    async.complete();
                }
            });
        }
    }

    @Test
    void tomcatRefusesSomeBurstsOfWellFormedHeaders() throws Exception {
        int repeat = Integer.getInteger("repeat", 600);
        int refused = 0;
        for (int round = 0; round < repeat; round++) {
            HTTP2Client client = new HTTP2Client();
            client.setInitialStreamRecvWindow(64 * 1024);
            client.setInitialSessionRecvWindow(STREAMS * 64 * 1024 * 2);
            client.start();
            try (ContainerKind.Running container = ContainerKind.TOMCAT.start(new Writing(), Map.of(), 0, true);
                    ServerSocket proxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                ByteArrayOutputStream sent = new ByteArrayOutputStream();
                relay(proxy, container.uri(), sent);
                CompletableFuture<GoAwayFrame> goAway = new CompletableFuture<>();
                Session session = client.connect(new InetSocketAddress("127.0.0.1", proxy.getLocalPort()),
                        Http2CloseIT.refusals(goAway)).get(10, TimeUnit.SECONDS);
                List<CompletableFuture<MetaData.Response>> heads = new ArrayList<>();
                for (int i = 0; i < STREAMS; i++) {
                    heads.add(Http2CloseIT.get(session, container.uri(), "/big.bin"));
                }
                int missing = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                for (CompletableFuture<MetaData.Response> head : heads) {
                    try {
                        head.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        missing++;
                    }
                }
                if (goAway.isDone()) {
                    refused++;
                    byte[] bytes;
                    synchronized (sent) {
                        bytes = sent.toByteArray();
                    }
                    System.out.printf("TomcatHeadersBurstRepeatIT round %d: %s; %d heads missing; the client's %d"
                            + " bytes: %s%n", round, goAway.get(), missing, bytes.length, frames(bytes));
                    assertEquals("", problems(bytes), "the client's frames were not well-formed");
                }
                client.stop(); // before Tomcat's stop, which waits for the async requests to end
            } finally {
                client.stop();
            }
        }
        System.out.printf("TomcatHeadersBurstRepeatIT: Tomcat refused %d of %d connections%n", refused, repeat);
    }

    /** Accepts one connection and relays it to {@code target}, recording what the client sends. */
    private static void relay(ServerSocket proxy, URI target, ByteArrayOutputStream record) {
        start(() -> {
            try {
                Socket client = proxy.accept();
                Socket server = new Socket(target.getHost(), target.getPort());
                start(() -> pump(client, server, record));
                start(() -> pump(server, client, null));
            } catch (IOException e) {
                // the round ended before the client connected
            }
        });
    }

    /** Runs {@code task} on a daemon thread of its own. */
    private static void start(Runnable task) {
        Thread thread = new Thread(task);
        thread.setDaemon(true);
        thread.start();
    }

    private static void pump(Socket from, Socket to, ByteArrayOutputStream record) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (record != null) {
                    synchronized (record) {
                        record.write(buffer, 0, n);
                    }
                }
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
            if (from.isOutputShutdown()) { // the other direction ended first: the relay is over
                from.close();
                to.close();
            }
        } catch (IOException e) {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // both closed
            }
        }
    }

    /** The client's frames after the preface, as type/stream/length. */
    private static String frames(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (int at = 24; at + 9 <= bytes.length; at += 9 + length(bytes, at)) {
            out.append(bytes[at + 3] & 0xff).append('/').append(streamId(bytes, at)).append('/')
                    .append(length(bytes, at)).append(' ');
        }
        return out.toString();
    }

    /** What is wrong with the client's frames: a length beyond 16 KiB, or a new stream not above the last. */
    private static String problems(byte[] bytes) {
        int lastHeaders = 0;
        for (int at = 24; at + 9 <= bytes.length; at += 9 + length(bytes, at)) {
            if (length(bytes, at) > 16 * 1024) {
                return "a frame of " + length(bytes, at) + " bytes at " + at;
            }
            if ((bytes[at + 3] & 0xff) == 1) {
                if (streamId(bytes, at) <= lastHeaders) {
                    return "HEADERS of stream " + streamId(bytes, at) + " after " + lastHeaders;
                }
                lastHeaders = streamId(bytes, at);
            }
        }
        return "";
    }

    private static int length(byte[] bytes, int at) {
        return ((bytes[at] & 0xff) << 16) | ((bytes[at + 1] & 0xff) << 8) | (bytes[at + 2] & 0xff);
    }

    private static int streamId(byte[] bytes, int at) {
        return ((bytes[at + 5] & 0x7f) << 24) | ((bytes[at + 6] & 0xff) << 16) | ((bytes[at + 7] & 0xff) << 8)
                | (bytes[at + 8] & 0xff);
    }
}
