package dev.sluice.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A plain-socket HTTP/1.1 client with the control the tests need and a library client hides: a tiny receive
 * window for slow readers, reading exactly as much as the test wants, aborting mid-body, and telling a closed
 * connection from a complete body.
 */
public final class TestClient implements AutoCloseable {

    /** The status line and headers (names lower-cased) of a response. */
    public record Head(int status, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public long contentLength() {
            String value = header("content-length");
            return value == null ? -1 : Long.parseLong(value);
        }
    }

    /** A response read to the end of its body. */
    public record Response(Head head, byte[] body) {
        public int status() {
            return head.status();
        }

        public String header(String name) {
            return head.header(name);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final URI base;

    public TestClient(URI base) throws IOException {
        this(base, 0);
    }

    /** {@code receiveBuffer} > 0 makes the socket's receive window that small: a slow client from the start. */
    public TestClient(URI base, int receiveBuffer) throws IOException {
        this(base, receiveBuffer, null);
    }

    /**
     * A client whose connection comes from {@code localAddress} when it is not {@code null}: on Linux any address
     * of 127.0.0.0/8 is a loopback address, so a test can be a second client machine.
     */
    public TestClient(URI base, int receiveBuffer, java.net.InetAddress localAddress) throws IOException {
        this.base = base;
        socket = new Socket();
        if (localAddress != null) {
            socket.bind(new InetSocketAddress(localAddress, 0));
        }
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.setSoTimeout(60_000);
        socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    public static Response get(URI base, String path) throws IOException {
        return exchange(base, "GET", path, Map.of());
    }

    public static Response exchange(URI base, String method, String path, Map<String, String> headers)
            throws IOException {
        try (TestClient client = new TestClient(base)) {
            Head head = client.send(method, path, headers, true);
            byte[] body = method.equals("HEAD") ? new byte[0] : client.readBody(head);
            return new Response(head, body);
        }
    }

    public void setReadTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Sends a request without waiting for the answer. */
    public void sendOnly(String method, String path) throws IOException {
        writeRequest(method, path, Map.of(), true);
    }

    /** Sends a request and reads the response head. */
    public Head send(String method, String path, Map<String, String> headers, boolean close) throws IOException {
        writeRequest(method, path, headers, close);
        return readHead();
    }

    /** Sends a request with {@code lines} as its header lines, in order (a name may come on several lines). */
    public Head sendLines(String method, String path, List<Map.Entry<String, String>> lines, boolean close)
            throws IOException {
        writeRequest(method, path, lines, close);
        return readHead();
    }

    private void writeRequest(String method, String path, Map<String, String> headers, boolean close)
            throws IOException {
        writeRequest(method, path, List.copyOf(headers.entrySet()), close);
    }

    private void writeRequest(String method, String path, List<Map.Entry<String, String>> headers, boolean close)
            throws IOException {
        StringBuilder request = new StringBuilder();
        request.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        request.append("Host: ").append(base.getHost()).append(':').append(base.getPort()).append("\r\n");
        headers.forEach(line -> request.append(line.getKey()).append(": ").append(line.getValue()).append("\r\n"));
        if (close) {
            request.append("Connection: close\r\n");
        }
        request.append("\r\n");
        out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private Head readHead() throws IOException {
        String statusLine = readLine();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("bad status line: " + statusLine);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        return new Head(Integer.parseInt(parts[1]), headers);
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed in the response head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads a body of Content-Length bytes, or to the end of the connection when there is none. */
    public byte[] readBody(Head head) throws IOException {
        long length = head.contentLength();
        if (length < 0) {
            return in.readAllBytes();
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            throw new EOFException("body cut off at " + body.length + " of " + length + " bytes");
        }
        return body;
    }

    /** Up to {@code max} body bytes, fewer only at the end of the connection. */
    public int read(byte[] buffer, int offset, int max) throws IOException {
        return in.read(buffer, offset, max);
    }

    /** Fills {@code buffer} from the body; an {@link java.io.EOFException} if the connection ends first. */
    public void readFully(byte[] buffer) throws IOException {
        new java.io.DataInputStream(in).readFully(buffer);
    }

    /** Reads and discards {@code count} bytes; false if the connection ended first. */
    public boolean skip(long count) throws IOException {
        byte[] sink = new byte[64 * 1024];
        while (count > 0) {
            int n = in.read(sink, 0, (int) Math.min(sink.length, count));
            if (n < 0) {
                return false;
            }
            count -= n;
        }
        return true;
    }

    /** The SHA-256 of the next {@code length} body bytes; fails if the connection ends first. */
    public String sha256(long length) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[64 * 1024];
        long left = length;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new EOFException("body cut off with " + left + " of " + length + " bytes to go");
            }
            digest.update(buffer, 0, n);
            left -= n;
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Counts body bytes until the server closes the connection. */
    public long drainToEnd() throws IOException {
        byte[] sink = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(sink)) >= 0; ) {
            total += n;
        }
        return total;
    }

    /** Counts body bytes until the server ends the connection, by a close or a reset (which counts as the end). */
    public long drainOrCut() {
        byte[] sink = new byte[64 * 1024];
        long total = 0;
        try {
            for (int n; (n = in.read(sink)) >= 0; ) {
                total += n;
            }
        } catch (IOException reset) {
            // a reset is a cut too
        }
        return total;
    }

    /**
     * Counts body bytes until the server ends the connection, by a close or a reset; -1 if the read timeout
     * ({@link #setReadTimeout}) passed first, the connection still open.
     */
    public long drainUntilEnded() throws IOException {
        byte[] sink = new byte[64 * 1024];
        long total = 0;
        try {
            for (int n; (n = in.read(sink)) >= 0; ) {
                total += n;
            }
        } catch (java.net.SocketTimeoutException open) {
            return -1;
        } catch (IOException reset) {
            // a reset is an end too
        }
        return total;
    }

    /** Resets the connection (RST), as a client that is killed mid-download. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(newDigest().digest(data));
    }
}
