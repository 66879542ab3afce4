package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.launcher.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's {@code --sendfile} connector: HTTP/1.1 bodies go from the file with {@code transferTo}
 * (counted by {@link Launcher#sentFromFiles()}), byte for byte, whole and ranged; the connection stays usable
 * (keep-alive, pipelined requests) after such a body; a client that goes away mid-body ends the transfer and
 * leaves no file open; an h2c stream keeps the portable path (nothing sent from files).
 */
class JettySendfileIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    /** Large enough that the engine's chunks grow to chunkSize and are mapped: only those go by sendfile. */
    private static final int SIZE = 24 * 1024 * 1024 + 7;

    @TempDir
    Path root;

    private byte[] data;
    private Launcher launcher;
    private URI base;

    @BeforeEach
    void start() throws Exception {
        ContainerKind.JETTY_EE11.assumeInThisRun(); // the launcher is Jetty ee11
        data = new byte[SIZE];
        new Random(11).nextBytes(data);
        Files.write(root.resolve("f.bin"), data);
        Files.writeString(root.resolve("small.txt"), "hello");
        try (RandomAccessFile sparse = new RandomAccessFile(root.resolve("huge.bin").toFile(), "rw")) {
            sparse.setLength(1L << 30); // no socket buffer holds it: an abort is seen mid-body
        }
        startLauncher(Launcher.Sendfile.ALWAYS);
    }

    private void startLauncher(Launcher.Sendfile sendfile) throws Exception {
        startLauncher("127.0.0.1", sendfile);
    }

    private void startLauncher(String host, Launcher.Sendfile sendfile) throws Exception {
        launcher = Launcher.start(host, 0, true, Duration.ofSeconds(1), Duration.ofSeconds(20), sendfile,
                Map.of("root", root.toString()));
        base = URI.create(launcher.url().replace("localhost", "127.0.0.1"));
    }

    @AfterEach
    void stop() throws Exception {
        if (launcher != null) {
            launcher.stop();
        }
    }

    @Test
    void wholeFilesAndSingleRangesGoFromTheFileByteForByte() throws Exception {
        try (Connection connection = new Connection(base)) {
            Response whole = connection.get("/f.bin", Map.of());
            assertEquals(200, whole.status());
            assertEquals(sha256(data), whole.sha256());
            long afterWhole = launcher.sentFromFiles();
            assertTrue(afterWhole > SIZE / 2, "most of the body went by sendfile: " + afterWhole);

            Response range = connection.get("/f.bin", Map.of("Range", "bytes=1000-20000000"));
            assertEquals(206, range.status());
            assertEquals("bytes 1000-20000000/" + SIZE, range.headers().get("content-range"));
            assertEquals(sha256(Arrays.copyOfRange(data, 1000, 20_000_001)), range.sha256());

            Response suffix = connection.get("/f.bin", Map.of("Range", "bytes=-9000001"));
            assertEquals(206, suffix.status());
            assertEquals(sha256(Arrays.copyOfRange(data, SIZE - 9_000_001, SIZE)), suffix.sha256());
            assertTrue(launcher.sentFromFiles() > afterWhole, "the ranges went by sendfile too");

            Response small = connection.get("/small.txt", Map.of());
            assertEquals(sha256("hello".getBytes(StandardCharsets.US_ASCII)), small.sha256());
        }
        assertNothingHeld();
    }

    @Test
    void pipelinedAndKeepAliveRequestsFollowASendfileBodyOnTheSameConnection() throws Exception {
        try (Connection connection = new Connection(base)) {
            connection.send("/f.bin", Map.of());
            connection.send("/f.bin", Map.of("Range", "bytes=5-15"));
            connection.send("/small.txt", Map.of());
            assertEquals(sha256(data), connection.read().sha256());
            Response range = connection.read();
            assertEquals(206, range.status());
            assertEquals(sha256(Arrays.copyOfRange(data, 5, 16)), range.sha256());
            assertEquals(sha256("hello".getBytes(StandardCharsets.US_ASCII)), connection.read().sha256());
            long sent = launcher.sentFromFiles();
            assertTrue(sent > 0, "sent from files: " + sent);

            Response again = connection.get("/f.bin", Map.of()); // later, on the same connection
            assertEquals(sha256(data), again.sha256());
            assertTrue(launcher.sentFromFiles() > sent);
        }
        assertNothingHeld();
    }

    @Test
    void aClientThatGoesAwayMidBodyEndsTheTransferAndLeavesNoFileOpen() throws Exception {
        long abortedBefore = transfers("Aborted");
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(64 * 1024);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
            socket.getOutputStream().write(request("/huge.bin", Map.of()));
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            long read = 0;
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (launcher.sentFromFiles() == 0 && System.nanoTime() < deadline) {
                int n = in.read(buffer);
                assertTrue(n > 0, "the body goes on");
                read += n;
            }
            assertTrue(launcher.sentFromFiles() > 0, "sendfile was under way after " + read + " bytes");
            assertEquals(1, transfers("ActiveTransfers"));
            socket.setSoLinger(true, 0); // a reset, not a polite close
        }
        Await.until("the transfer ended as aborted", DEADLINE,
                () -> transfers("ActiveTransfers") == 0 && transfers("Aborted") == abortedBefore + 1,
                () -> "active " + transfers("ActiveTransfers") + ", aborted " + transfers("Aborted"));
        assertNothingHeld();
        try (Connection connection = new Connection(base)) {
            assertEquals(sha256(data), connection.get("/f.bin", Map.of()).sha256(), "the server serves on");
        }
    }

    /**
     * What {@code --sendfile=false} keeps and sendfile gives up (docs/sendfile-jetty.md, "What it gives up"): once
     * the transfer has completed, every byte was copied into the socket, so a change of the file in place then
     * cannot reach the client, whatever it has not read yet. With sendfile the bytes still queued are read from the
     * file as they leave, and the client gets the new ones inside a complete-looking body.
     */
    @Test
    void withSendfileOffAChangeInPlaceAfterTheTransferCompletedNeverReachesTheClient() throws Exception {
        launcher.stop();
        startLauncher(Launcher.Sendfile.OFF);
        byte[] original = Arrays.copyOf(data, 3 * 1024 * 1024);
        Path file = root.resolve("c.bin");
        Files.write(file, original);
        long completedBefore = transfers("Completed");
        long unreadWhenChanged;
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(64 * 1024);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
            socket.setSoTimeout((int) DEADLINE.toMillis());
            socket.getOutputStream().write(request("/c.bin", Map.of("Connection", "close")));
            InputStream in = socket.getInputStream();
            byte[] piece = new byte[4096];
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (transfers("Completed") == completedBefore) { // reads only as much as the server needs to end
                assertTrue(System.nanoTime() < deadline, "the transfer completed within " + DEADLINE);
                int n = in.read(piece);
                assertTrue(n > 0, "the body goes on");
                received.write(piece, 0, n);
            }
            byte[] other = new byte[original.length];
            new Random(12).nextBytes(other);
            try (RandomAccessFile inPlace = new RandomAccessFile(file.toFile(), "rw")) {
                inPlace.write(other); // the same inode, every byte changed
            }
            long readWhenChanged = received.size();
            in.transferTo(received);
            unreadWhenChanged = received.size() - readWhenChanged;
        }
        assertTrue(unreadWhenChanged >= 32 * 1024, "a part of the body was still on its way when the file changed: "
                + unreadWhenChanged + " bytes");
        byte[] all = received.toByteArray();
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int bodyStart = text.indexOf("\r\n\r\n") + 4;
        assertTrue(text.startsWith("HTTP/1.1 200"), text.substring(0, Math.min(200, text.length())));
        assertEquals(sha256(original), sha256(Arrays.copyOfRange(all, bodyStart, all.length)),
                "the body is the file as it was when the transfer completed (" + (all.length - bodyStart) + " bytes)");
        assertEquals(0, launcher.sentFromFiles(), "nothing went by sendfile");
        assertNothingHeld();
    }

    /**
     * The launcher's default, {@code --sendfile=remote}: a client on this machine gets copies (docs/sendfile-jetty.md,
     * "A client on the same machine"), over loopback and over one of the host's own addresses, and the same bytes.
     * {@code onThisMachine} is asked of every connection; a client on another machine is not at hand here, so that
     * side of the choice is {@code SendfileConnectorTest}'s.
     */
    @Test
    void byDefaultAClientOnThisMachineGetsTheSameBytesCopied() throws Exception {
        launcher.stop();
        startLauncher("0.0.0.0", Launcher.Sendfile.REMOTE);
        List<String> hosts = new ArrayList<>(List.of("127.0.0.1"));
        ownAddress().ifPresent(address -> hosts.add(address.getHostAddress()));
        for (String host : hosts) {
            try (Connection connection = new Connection(URI.create("http://" + host + ":" + base.getPort() + "/"))) {
                Response whole = connection.get("/f.bin", Map.of());
                assertEquals(200, whole.status(), host);
                assertEquals(sha256(data), whole.sha256(), host);
                Response range = connection.get("/f.bin", Map.of("Range", "bytes=1000-20000000"));
                assertEquals(206, range.status(), host);
                assertEquals(sha256(Arrays.copyOfRange(data, 1000, 20_000_001)), range.sha256(), host);
            }
        }
        assertEquals(0, launcher.sentFromFiles(), "nothing went by sendfile to " + hosts);
        assertNothingHeld();
    }

    /** An IPv4 address of this host that is not a loopback one, if it has one that is up. */
    private static Optional<InetAddress> ownAddress() throws SocketException {
        return NetworkInterface.networkInterfaces().filter(ownInterface -> {
            try {
                return ownInterface.isUp() && !ownInterface.isLoopback();
            } catch (SocketException e) {
                return false;
            }
        }).flatMap(NetworkInterface::inetAddresses).filter(address -> address instanceof Inet4Address).findFirst();
    }

    @Test
    void anH2cStreamKeepsThePortablePath() throws Exception {
        HTTP2Client client = new HTTP2Client();
        client.setInitialStreamRecvWindow(8 * 1024 * 1024);
        client.setInitialSessionRecvWindow(16 * 1024 * 1024);
        client.start();
        try {
            Session session = client.connect(new InetSocketAddress(base.getHost(), base.getPort()),
                    new Session.Listener() {
                    }).get(10, TimeUnit.SECONDS);
            Http2Body body = new Http2Body();
            CompletableFuture<MetaData.Response> head = new CompletableFuture<>();
            MetaData.Request request = new MetaData.Request("GET", HttpURI.from(base.resolve("/f.bin").toString()),
                    HttpVersion.HTTP_2, HttpFields.EMPTY);
            session.newStream(new HeadersFrame(request, null, true), new Stream.Listener() {
                @Override
                public void onHeaders(Stream stream, HeadersFrame frame) {
                    head.complete((MetaData.Response) frame.getMetaData());
                    if (body.bodyFollows(frame)) {
                        stream.demand();
                    }
                }

                @Override
                public void onDataAvailable(Stream stream) {
                    if (body.takeData(stream)) {
                        stream.demand();
                    }
                }
            }).get(10, TimeUnit.SECONDS);
            assertEquals(200, head.get(30, TimeUnit.SECONDS).getStatus());
            assertEquals(sha256(data), body.sha256.get(120, TimeUnit.SECONDS));
            assertEquals(0, launcher.sentFromFiles(), "HTTP/2 frames its data: nothing goes by sendfile");
        } finally {
            client.stop();
        }
        assertNothingHeld();
    }

    private void assertNothingHeld() {
        Await.until("every transfer ended", DEADLINE, () -> transfers("ActiveTransfers") == 0,
                () -> "active " + transfers("ActiveTransfers"));
        Await.until("no file under the root left open", DEADLINE, () -> OpenFiles.countUnder(root) == 0,
                () -> OpenFiles.countUnder(root) + " open");
    }

    /** An attribute of the launcher's servlet's transfers MBean (the only one registered while it runs). */
    private static long transfers(String attribute) {
        try {
            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            Set<ObjectName> names = jmx.queryNames(new ObjectName("dev.sluice:type=Transfers,*"), null);
            assertEquals(1, names.size(), names.toString());
            return ((Number) jmx.getAttribute(names.iterator().next(), attribute)).longValue();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] request(String path, Map<String, String> headers) {
        StringBuilder head = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: test\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        return head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String sha256(byte[] bytes) {
        return TestClient.sha256(bytes);
    }

    record Response(int status, Map<String, String> headers, String sha256) {
    }

    /** One HTTP/1.1 connection, read response by response (Content-Length bodies only, as Sluice sends them). */
    private static final class Connection implements AutoCloseable {
        private final Socket socket = new Socket();
        private final InputStream in;
        private final OutputStream out;

        Connection(URI base) throws IOException {
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
            socket.setSoTimeout((int) DEADLINE.toMillis());
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        Response get(String path, Map<String, String> headers) throws IOException {
            send(path, headers);
            return read();
        }

        void send(String path, Map<String, String> headers) throws IOException {
            out.write(request(path, headers));
            out.flush();
        }

        Response read() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed in a response head: " + head);
                }
                head.write(b);
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
            assertTrue(!"close".equalsIgnoreCase(headers.get("connection")), "the connection stays open: " + headers);
            long length = Long.parseLong(headers.get("content-length"));
            MessageDigest digest = TestClient.newDigest();
            byte[] buffer = new byte[64 * 1024];
            for (long left = length; left > 0; ) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("connection closed with " + left + " body bytes to come");
                }
                digest.update(buffer, 0, n);
                left -= n;
            }
            return new Response(status, headers, HexFormat.of().formatHex(digest.digest()));
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
