package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.http.MethodRegistry;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 2,000 seeded random requests per container, over raw sockets: odd methods, request targets assembled from
 * traversal and encoding tricks, conditional, range and encoding headers assembled from valid and garbage pieces,
 * duplicated and malformed header lines. Whatever the request, the answer is never a server error, never the
 * content of a file outside the root or of a hidden file, never a stack trace from Sluice, and a 200 or 206 of a
 * known file has exactly its bytes. Afterwards the server still serves files exactly and holds nothing.
 */
class RequestFuzzIT {

    private static final int REQUESTS = 2_000;
    private static final long SEED = 0x511CE_2026L;
    private static final int TIMEOUT_MILLIS = 5_000;
    /** How long to wait for the close that {@code Connection: close} promises once an answer is complete. */
    private static final int CLOSE_MILLIS = 1_000;
    private static final long MTIME = 1_700_000_000_000L;

    private static final String OUTSIDE_MARKER = "FUZZ-OUTSIDE-MARKER-91b2";
    private static final String HIDDEN_MARKER = "FUZZ-HIDDEN-MARKER-5e7a";
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
    /** Characters RFC 3986 allows in an origin-form request target (pchar, "/" and "?"); "%" is checked apart. */
    private static final Pattern TARGET_CHARS = Pattern.compile("[A-Za-z0-9\\-._~!$&'()*+,;=:@/?%]*");
    private static final Pattern BAD_PERCENT = Pattern.compile("%(?![0-9A-Fa-f]{2})");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    @TempDir
    Path work;

    private Path root;
    private String etag;
    /** Files by the request path (before any query) that names them; {@code /dir/} is its index.html. */
    private final Map<String, byte[]> files = new HashMap<>();

    /**
     * One generated request. {@code malformed}: it breaks HTTP/1.1 syntax, so the container may refuse it before
     * any servlet runs, even by hanging up; {@code oversized}: it passes the containers' size limits.
     */
    private record Request(String text, byte[] bytes, String method, String target, boolean malformed,
            boolean oversized) {
    }

    /**
     * What came back. {@code raw} is empty when the server closed without a byte; {@code stayedOpen}: the answer
     * was complete but the connection was not closed; {@code timedOut}: the answer never completed; {@code threads},
     * for a request that got no answer at all, what the server's threads were doing then (such a hang was seen
     * once in about twenty CI runs and never reproduced by hand: the next one names its cause).
     */
    private record Answer(byte[] raw, boolean stayedOpen, boolean timedOut, String error, String threads) {
    }

    /** What the run saw, for the report. */
    private static final class Tally {
        final Map<Integer, Integer> statuses = new TreeMap<>();
        int malformed;
        int oversized;
        int exactBodies;
        int hungUpOnMalformed;
        int hungUpOnOversized;
        int containerExceptionPages;
        int containerExceptionPagesForWellFormed;
        int containerBodiesOnHead;
        int leftOpenAfterRefusal;
        int headlessAnswers;

        @Override
        public String toString() {
            return "statuses " + statuses + "; malformed " + malformed + ", oversized " + oversized
                    + "; bodies compared byte for byte " + exactBodies + "; closed without an answer: "
                    + hungUpOnMalformed + " malformed, " + hungUpOnOversized + " oversized; container HTML error "
                    + "pages naming a Java exception " + containerExceptionPages + " (for well-formed requests "
                    + containerExceptionPagesForWellFormed + "); container error bodies on a HEAD "
                    + containerBodiesOnHead + "; connections left open after refusing a request "
                    + leftOpenAfterRefusal + "; answers without a status line (HTTP/0.9) to malformed requests "
                    + headlessAnswers;
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    @Timeout(180)
    void twoThousandRandomRequestsGetNoServerErrorNoLeakAndLeaveTheServerHealthy(ContainerKind kind)
            throws Exception {
        kind.assumeInThisRun();
        root = Files.createDirectory(work.resolve("root"));
        Files.writeString(work.resolve("outside-secret.txt"), OUTSIDE_MARKER + "\n");
        Files.writeString(root.resolve(".hidden.txt"), HIDDEN_MARKER + "\n");
        Files.createDirectory(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), HIDDEN_MARKER + "\n");
        Files.createSymbolicLink(root.resolve("escape"), work.resolve("outside-secret.txt"));
        Files.createSymbolicLink(root.resolve("escape-dir"), work);
        byte[] data = write("data.bin", "/data.bin", 256 * 1024 + 5);
        write("a.txt", "/a.txt", 3000);
        write("a.txt.gz", "/a.txt.gz", 700);
        write("a.txt.br", "/a.txt.br", 600);
        files.put("/dir/", write("dir/index.html", "/dir/index.html", 400));
        write("dir/b.txt", "/dir/b.txt", 900);
        write("list/c.txt", "/list/c.txt", 100);
        write("ü.txt", "/%C3%BC.txt", 50);
        write("big.bin", "/big.bin", 2 * 1024 * 1024);
        for (String variant : List.of("a.txt.gz", "a.txt.br")) {
            Files.setLastModifiedTime(root.resolve(variant), FileTime.fromMillis(MTIME + 1000));
        }
        etag = "\"" + Long.toHexString(data.length) + "-" + Long.toHexString(MTIME) + "\"";

        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "precompressed", "br,gzip", "dirListing", "true", "chunkSize", "16KiB"), 0)) {
            Random random = new Random(SEED);
            List<String> failures = new ArrayList<>();
            Tally tally = new Tally();
            long started = System.nanoTime();
            for (int i = 0; i < REQUESTS; i++) {
                Request request = generate(random, container.uri());
                tally.malformed += request.malformed() ? 1 : 0;
                tally.oversized += request.oversized() ? 1 : 0;
                Answer answer = send(container.uri(), request);
                String problem = check(request, answer, tally);
                if (problem != null) {
                    failures.add("#" + i + " " + problem + "\n  request: " + printable(request.text())
                            + "\n  answer: " + printable(new String(answer.raw(), 0,
                            Math.min(600, answer.raw().length), StandardCharsets.ISO_8859_1))
                            + "\n  ended by: " + (answer.error() != null ? answer.error()
                                    : answer.timedOut() ? "no more bytes for " + TIMEOUT_MILLIS + " ms"
                                    : answer.stayedOpen() ? "still open " + CLOSE_MILLIS + " ms after the answer"
                                    : "the server's close")
                            + (answer.threads() == null ? "" : "\n  server threads then:\n" + answer.threads()));
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            System.out.printf("RequestFuzzIT %s: %d requests in %d ms; %s; failures %d%n", kind, REQUESTS,
                    took.toMillis(), tally, failures.size());
            if (!failures.isEmpty()) {
                fail(failures.size() + " of " + REQUESTS + " answers were wrong; server: " + servlet.metrics()
                        + "; the first ones:\n"
                        + String.join("\n", failures.subList(0, Math.min(15, failures.size()))));
            }
            assertTrue(tally.exactBodies > 100, "too few file bodies were checked: " + tally);

            // Still healthy: exact bytes, and nothing held.
            TestClient.Response after = TestClient.get(container.uri(), "/data.bin");
            assertEquals(200, after.status());
            assertArrayEquals(data, after.body(), "the file after the fuzzing");
            Await.until("no transfer active and no buffer in use", Duration.ofSeconds(30), () -> {
                TransferMetrics m = servlet.metrics();
                return m.activeTransfers() == 0 && m.bufferBytesInUse() == 0;
            }, () -> servlet.metrics().toString());
            Await.until("no file under the root left open", Duration.ofSeconds(30),
                    () -> OpenFiles.countUnder(root) == 0, () -> OpenFiles.countUnder(root) + " open");
            assertEquals(0, servlet.metrics().failed(), () -> "failed transfers: " + servlet.metrics());
            assertTrue(took.compareTo(Duration.ofSeconds(90)) < 0, "the run took " + took);
        }
    }

    /**
     * Seeded bytes drawn from lower-case letters, digits and newlines only, so a file body can never contain the
     * markers, {@code Exception} or a tab: finding them in an answer means a leak, never a coincidence.
     */
    private byte[] write(String name, String requestPath, int size) throws IOException {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789\n";
        Random random = new Random(name.hashCode());
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) alphabet.charAt(random.nextInt(alphabet.length()));
        }
        Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.fromMillis(MTIME));
        files.put(requestPath, bytes);
        return bytes;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Sending and checking

    /**
     * Sends the request and reads until the server closes. Once the answer is complete (its head, and as many
     * body bytes as it announced) the server has {@link #CLOSE_MILLIS} more to close, as Connection: close asks.
     */
    private static Answer send(URI base, Request request) {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        boolean complete = false;
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), TIMEOUT_MILLIS);
            socket.getOutputStream().write(request.bytes());
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
                if (!complete && isComplete(received.toByteArray(), request.method().equals("HEAD"))) {
                    complete = true;
                    socket.setSoTimeout(CLOSE_MILLIS);
                }
            }
            return new Answer(received.toByteArray(), false, false, null, null);
        } catch (SocketTimeoutException e) {
            return new Answer(received.toByteArray(), complete, !complete, null,
                    received.size() == 0 ? ThreadDump.server() : null);
        } catch (IOException e) {
            // A reset, typically after the server refused a malformed request and closed with input unread.
            return new Answer(received.toByteArray(), false, false, e.toString(), null);
        }
    }

    private static boolean isComplete(byte[] bytes, boolean head) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        if (headEnd < 0 || !text.startsWith("HTTP/1.")) {
            return false;
        }
        int status = status(text);
        if (head || status == 304 || status == 204 || (status >= 100 && status < 200)) {
            return true;
        }
        String length = header(text.substring(0, headEnd), "content-length");
        if (length != null) {
            try {
                return bytes.length - headEnd - 4 >= Long.parseLong(length);
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return "chunked".equalsIgnoreCase(header(text.substring(0, headEnd), "transfer-encoding"))
                && text.endsWith("\r\n0\r\n\r\n");
    }

    /**
     * Returns what is wrong with the answer, or null. The rules are strict for every answer Sluice could have
     * written. The container's own refusals of requests it will not pass to a servlet are judged by what matters
     * (no leak, no server error other than 501/505 for a malformed request); their other quirks are counted for
     * the report, not failed: a hang-up for a malformed or oversized request, and in a container's HTML error page
     * (Sluice writes none) a Java exception name, a body on a HEAD, or a connection kept open.
     */
    private String check(Request request, Answer answer, Tally tally) {
        byte[] raw = answer.raw();
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        if (text.contains(OUTSIDE_MARKER)) {
            return "served the file outside the root";
        }
        if (text.contains(HIDDEN_MARKER)) {
            return "served a hidden file";
        }
        if (raw.length == 0) {
            if (answer.timedOut()) {
                return "no answer within " + TIMEOUT_MILLIS + " ms";
            }
            if (request.malformed()) {
                tally.hungUpOnMalformed++;
                return null;
            }
            if (request.oversized()) {
                tally.hungUpOnOversized++;
                return null;
            }
            return "connection closed without an answer" + (answer.error() == null ? "" : " (" + answer.error() + ")");
        }
        int headEnd = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || headEnd < 0) {
            if (answer.timedOut()) {
                return "incomplete head, then nothing for " + TIMEOUT_MILLIS + " ms";
            }
            if (request.malformed() && !text.startsWith("HTTP/")) {
                tally.headlessAnswers++; // Tomcat reads some broken request lines as HTTP/0.9: a bare body
                return null;
            }
            return "not an HTTP/1.x answer";
        }
        int status = status(text);
        if (status < 0) {
            return "bad status line";
        }
        tally.statuses.merge(status, 1, Integer::sum);
        String head = text.substring(0, headEnd);
        byte[] body = Arrays.copyOfRange(raw, headEnd + 4, raw.length);
        String bodyText = text.substring(headEnd + 4);
        boolean refusable = request.malformed() || request.oversized();
        boolean unimplemented = status == 501 && (refusable || request.method().equals("CONNECT")
                || !MethodRegistry.isRegistered(request.method()));
        if (status >= 500 && !unimplemented && !(status == 505 && request.malformed())) {
            return "server error " + status;
        }
        if (answer.timedOut()) {
            return "the answer stopped short and nothing came for " + TIMEOUT_MILLIS + " ms";
        }
        String type = header(head, "content-type");
        boolean containerPage = status >= 400 && type != null && type.startsWith("text/html");
        if (bodyText.contains("Exception") || bodyText.contains("\tat ")) {
            if (!containerPage) {
                return "a stack trace or exception name in the body";
            }
            tally.containerExceptionPages++;
            tally.containerExceptionPagesForWellFormed += refusable ? 0 : 1;
        }
        if (answer.stayedOpen()) {
            if (!refusable && !containerPage) {
                return "connection left open " + CLOSE_MILLIS + " ms after the answer despite Connection: close";
            }
            tally.leftOpenAfterRefusal++;
        }
        boolean bodiless = request.method().equals("HEAD") || status == 304 || status == 204 || status < 200;
        String length = header(head, "content-length");
        if (bodiless) {
            if (body.length > 0) {
                if (!containerPage) {
                    return body.length + " body bytes on a body-less answer";
                }
                tally.containerBodiesOnHead++;
            }
            return null;
        }
        if (length != null && !length.equals(Integer.toString(body.length))) {
            return "Content-Length " + length + " but " + body.length + " body bytes";
        }
        return checkFileBody(request, status, head, body, tally);
    }

    /** A 200 or single-part 206 to a GET of a known file carries exactly its bytes (or its variant's). */
    private String checkFileBody(Request request, int status, String head, byte[] body, Tally tally) {
        if (!request.method().equals("GET") || (status != 200 && status != 206)) {
            return null;
        }
        String path = request.target().contains("?")
                ? request.target().substring(0, request.target().indexOf('?')) : request.target();
        byte[] file = files.get(path);
        if (file == null) {
            return null;
        }
        String coding = header(head, "content-encoding");
        if (coding != null) {
            file = files.get(path + (coding.equals("br") ? ".br" : coding.equals("gzip") ? ".gz" : ".unknown"));
            if (file == null) {
                return "Content-Encoding " + coding + " for " + path;
            }
        }
        if (status == 200) {
            tally.exactBodies++;
            return Arrays.equals(file, body) ? null : "the 200 body is not the file " + path;
        }
        String range = header(head, "content-range");
        if (range == null) {
            String type = header(head, "content-type");
            return type != null && type.startsWith("multipart/byteranges; boundary=") ? null
                    : "a 206 with neither Content-Range nor a multipart type";
        }
        Matcher m = CONTENT_RANGE.matcher(range);
        if (!m.matches()) {
            return "malformed Content-Range " + range;
        }
        long first = Long.parseLong(m.group(1));
        long last = Long.parseLong(m.group(2));
        if (Long.parseLong(m.group(3)) != file.length || first > last || last >= file.length) {
            return "Content-Range " + range + " for a file of " + file.length + " bytes";
        }
        tally.exactBodies++;
        return Arrays.equals(Arrays.copyOfRange(file, (int) first, (int) last + 1), body) ? null
                : "the 206 body is not bytes " + first + "-" + last + " of " + path;
    }

    private static int status(String text) {
        int lineEnd = text.indexOf("\r\n");
        String[] statusLine = text.substring(0, lineEnd < 0 ? text.length() : lineEnd).split(" ", 3);
        try {
            return Integer.parseInt(statusLine[1]);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static String header(String head, String name) {
        String found = null;
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                String value = line.substring(colon + 1).trim();
                found = found == null ? value : found + ", " + value;
            }
        }
        return found;
    }

    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : (s.length() > 600 ? s.substring(0, 600) + "..." : s).toCharArray()) {
            if (c == '\r') {
                out.append("\\r");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c < 0x20 || c >= 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Generating a request

    private static final String[] METHODS = {"GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET",
        "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "HEAD", "HEAD", "HEAD", "HEAD",
        "OPTIONS", "POST", "PUT", "DELETE", "TRACE", "PATCH", "CONNECT", "PROPFIND", "get", "Get", "head", "FOO"};
    private static final String[] GARBAGE_METHODS = {"", "GE T", "G\u0000T", "GET\t", "\u00e9GET", "GET/",
        "(GET)", "GET\"", "[]", "G\u007fT"};

    /** Targets that name real files, directories and refused names plainly: most requests reach Sluice. */
    private static final String[] PLAIN_TARGETS = {"/a.txt", "/a.txt", "/data.bin", "/data.bin", "/data.bin",
        "/big.bin", "/dir/", "/dir", "/dir/index.html", "/dir/b.txt", "/list/", "/list", "/list/c.txt",
        "/%C3%BC.txt", "/a.txt.gz", "/", "/nope.txt", "/escape", "/escape-dir/outside-secret.txt", "/.hidden.txt",
        "/.git/config", "/A.TXT", "/a.txt/", "/a.txt.", "/CON"};

    /** Pieces of a path that HTTP allows in a request target: traversal, encodings, parameters, real names. */
    private static final String[] PIECES = {"", ".", "..", "...", "%2e", "%2E", "%2e%2e", "%2E%2e", ".%2e",
        "%00", "%c0%ae", "%C0%AE%C0%AE", "%e0%80%ae", "%252e", "%252e%252e", "%25", ";", ";x=1", ";jsessionid=1",
        "..;", "//", "%5c", "%5C", "%2f", "%2F", "?", "%c3", "%ff", "%C3%BC", "+", "%20", "%09", "%0d%0a", "%7f",
        "~", "*", "a.txt", "a.txt", "data.bin", "data.bin", "dir", "dir", "index.html", "list", "b.txt",
        "%C3%BC.txt", "outside-secret.txt", "escape", "escape-dir", ".hidden.txt", ".git", "config", "CON", "nul",
        "aux.txt", "COM1", "a.txt.", "a.txt%20", "A.TXT", "a.txt.gz", "big.bin", "root", "..%2f", "%2e%2e%2f",
        "..%5c", "%c0%af", "%ef%bc%8f", "%e2%80%ae", "%ef%bf%bf"};

    /** Pieces HTTP does not allow raw in a request target: a request with one is malformed. */
    private static final String[] BAD_PIECES = {"\\", "#", "%", "%zz", "%u002e", "\u00fc", "\u00c3\u00bc", " ",
        "\t", "\"", "<", "{", "|", "^", "`", "\u0000", "\r"};

    private static final String[] QUERIES = {"?download", "?q=1", "?", "?%00", "?a=b&download=1", "?#",
        "?../../outside-secret.txt", "?download=%ff", "?" + "q".repeat(3000)};

    private static final String[] DATES = {"Tue, 14 Nov 2023 22:13:20 GMT", "Tuesday, 14-Nov-23 22:13:20 GMT",
        "Tue Nov 14 22:13:20 2023", "Tue, 14 Nov 2023 22:13:19 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT", "Sat, 01 Jan 0000 00:00:00 GMT", "Mon, 14 Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 24:00:00 GMT", "Tue, 14 Nov 2023 22:13:60 GMT", "tomorrow", "", "0", "-1",
        "99999999999999999999", "Tue, 14 Nov 2023 22:13:20 PST", "Tue,14 Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 22:13:20 GMT, Wed, 15 Nov 2023 22:13:20 GMT"};

    private static final String[] MALFORMED_LINES = {"NoColonHere", " folded: continuation", "\tfolded",
        "Bad Name: x", "Range : bytes=0-1", ": empty-name", "X-Nul: a\u0000b", "X-Cr: a\rb", "X-Ctl: a\u0001b",
        "Host: second.example", "Content-Length: -1", "Content-Length: abc", "Transfer-Encoding: chunked, identity"};

    private Request generate(Random random, URI base) {
        boolean malformed = false;
        boolean oversized = false;

        String method;
        if (random.nextInt(25) == 0) {
            method = pick(random, GARBAGE_METHODS);
        } else {
            method = pick(random, METHODS);
        }
        malformed |= !TOKEN.matcher(method).matches();

        String target;
        int shape = random.nextInt(40);
        if (shape == 0) {
            target = "*";
        } else if (shape == 1) {
            target = "http://" + base.getHost() + ":" + base.getPort() + "/" + pick(random, PIECES);
        } else if (shape == 2) {
            target = pick(random, PIECES); // no leading slash
        } else if (shape < 27) {
            target = pick(random, PLAIN_TARGETS);
        } else {
            StringBuilder path = new StringBuilder();
            int segments = 1 + random.nextInt(6);
            for (int s = 0; s < segments; s++) {
                path.append('/');
                int pieces = 1 + random.nextInt(3);
                for (int p = 0; p < pieces; p++) {
                    int kind = random.nextInt(60);
                    if (kind == 0) {
                        path.append("x".repeat(200 + random.nextInt(12_000))); // a very long segment
                    } else if (kind == 1) {
                        path.append("%C3%BC".repeat(1 + random.nextInt(50)));
                    } else if (kind == 2) {
                        path.append(pick(random, BAD_PIECES));
                    } else {
                        path.append(pick(random, PIECES));
                    }
                }
            }
            target = path.toString();
        }
        if (shape > 2 && random.nextInt(5) == 0) {
            target += pick(random, QUERIES);
        }
        if (target.startsWith("http://")) {
            malformed |= !TARGET_CHARS.matcher(target.substring(7)).matches();
        } else if (target.equals("*")) {
            malformed |= !method.equals("OPTIONS");
        } else {
            malformed |= !target.startsWith("/") || !TARGET_CHARS.matcher(target).matches()
                    || BAD_PERCENT.matcher(target).find();
        }
        malformed |= method.equals("CONNECT"); // CONNECT takes an authority, never a path (RFC 9110 9.3.6)

        String version = "HTTP/1.1";
        int versionPick = random.nextInt(60);
        if (versionPick == 0) {
            version = "HTTP/1.0";
        } else if (versionPick == 1) {
            version = pick(random, new String[] {"HTTP/2.0", "HTTP/1.2", "HTTP/9.9", "http/1.1", "HTTP/1.1x", "HTTP/"});
            malformed = true;
        }

        List<String> lines = new ArrayList<>();
        if (random.nextInt(50) != 0) {
            lines.add("Host: " + base.getHost() + ":" + base.getPort());
        } else if (version.equals("HTTP/1.1")) {
            malformed = true; // an HTTP/1.1 request without Host must be refused (RFC 9112 3.2)
        }
        int headers = random.nextInt(7);
        for (int h = 0; h < headers; h++) {
            String line = header(random);
            lines.add(line);
            if (random.nextInt(12) == 0) {
                lines.add(line); // duplicated
            }
        }
        if (random.nextInt(20) == 0) {
            lines.add(random.nextInt(lines.size() + 1), pick(random, MALFORMED_LINES));
            malformed = true;
        }
        if (random.nextInt(80) == 0) {
            lines.add("X-Huge: " + "h".repeat(9_000 + random.nextInt(40_000)));
        }
        lines.add("Connection: close");

        StringBuilder text = new StringBuilder();
        text.append(method).append(' ').append(target).append(' ').append(version).append("\r\n");
        for (String line : lines) {
            text.append(line).append("\r\n");
        }
        text.append("\r\n");
        // Raw characters above 0x7f go out as their UTF-8 bytes, as from a client that does not encode them.
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        oversized = bytes.length > 8000 || target.length() > 4000;
        return new Request(text.toString(), bytes, method, target, malformed, oversized);
    }

    private String header(Random random) {
        return switch (random.nextInt(8)) {
            case 0, 1 -> "Range: " + range(random);
            case 2 -> "If-Range: " + pick(random, new String[] {etag, etag, "W/" + etag, "\"other\"", DATES[0],
                DATES[3], pick(random, DATES), "*", "", "\"unterminated", etag + ", " + etag});
            case 3 -> "If-None-Match: " + pick(random, new String[] {etag, "*", "W/" + etag, "\"a\", " + etag,
                "\"other\"", "", ",,,", "\"unterminated", "W/", "*, " + etag, etag.replace('"', '\'')});
            case 4 -> "If-Match: " + pick(random, new String[] {etag, "*", "W/" + etag, "\"other\"", "", "garbage",
                "\"a\",\"b\"," + etag});
            case 5 -> pick(random, new String[] {"If-Modified-Since: ", "If-Unmodified-Since: "}) + pick(random, DATES);
            case 6 -> "Accept-Encoding: " + pick(random, new String[] {"gzip", "br", "gzip, br", "br, gzip",
                "br;q=0.5, gzip;q=0.9", "*", "*;q=0", "identity;q=0", "identity;q=0, *;q=0", "gzip;q=2",
                "x-gzip", ";;;,,,", "gzip;q=0.0001", "gzip;q=1.000", "gzip;level=9", "zstd", "GZIP", ""});
            default -> pick(random, new String[] {"User-Agent: fuzz/1.0 \u00fc", "Accept: */*",
                "X-Forwarded-For: 127.0.0.1", "Cookie: a=b", "Expect: something-odd", "Upgrade: h2c",
                "TE: trailers", "Accept-Ranges: bytes", "Max-Forwards: 0"});
        };
    }

    private static String range(Random random) {
        String unit = random.nextInt(15) == 0 ? pick(random, new String[] {"items=", "bytes ", "bytes==", "BYTES=",
            "", "bytes=bytes="}) : "bytes=";
        int specs = random.nextInt(25) == 0 ? 20 + random.nextInt(40) : 1 + random.nextInt(3);
        StringBuilder value = new StringBuilder(unit);
        for (int s = 0; s < specs; s++) {
            if (s > 0) {
                value.append(pick(random, new String[] {",", ", ", " ,", ",,", ","}));
            }
            // Mostly valid specs: a single invalid one makes the whole field invalid (and ignored).
            value.append(switch (random.nextInt(4) != 0 ? pick(random, new int[] {0, 1, 2, 3, 10, 13, 15})
                    : random.nextInt(16)) {
                case 0 -> random.nextInt(1000) + "-" + random.nextInt(300_000);
                case 1 -> random.nextInt(300_000) + "-";
                case 2 -> "-" + random.nextInt(300_000);
                case 3 -> "0-0";
                case 4 -> "99999999999999999999-";
                case 5 -> "9223372036854775807-9223372036854775807";
                case 6 -> "-0";
                case 7 -> "5-1";
                case 8 -> "abc";
                case 9 -> "-";
                case 10 -> "262149-";
                case 11 -> "0-" + Long.MAX_VALUE;
                case 12 -> "1-2-3";
                case 13 -> random.nextInt(3000) + "-" + random.nextInt(3000);
                default -> random.nextInt(262_150) + "-" + random.nextInt(262_150);
            });
        }
        return value.toString();
    }

    private static int pick(Random random, int[] choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static String pick(Random random, String[] choices) {
        return choices[random.nextInt(choices.length)];
    }
}
