package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.LinkSigner;
import dev.sluice.http.ReadmePython;
import dev.sluice.http.SignedLinks;
import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Signed, expiring links through real containers: a genuine link serves its file whole, in ranges, to HEAD, to
 * If-Range resumes and over HTTP/2 until it expires; a missing or bad signature is a 403 that does not tell whether
 * the file exists; an expired link is a 410; a download that started in time is not cut when the link expires; a
 * link minted by the README's Python downloads; and hundreds of mutated links are never served and never a 5xx.
 */
class SignedLinkIT {

    private static final String KEY = "signed-link-it-key-0123456789abcdef";
    private static final String OLD_KEY = "the-previous-key-of-signed-link-it";
    private static final LinkSigner SIGNER = LinkSigner.of(KEY.getBytes(StandardCharsets.UTF_8));
    private static final int SIZE = 8 * 1024 * 1024 + 13;
    private static final long MTIME = 1_700_000_000_000L;
    private static final String SECRET = "SECRET-OUTSIDE-THE-PREFIX-7f3a\n";
    private static final String UNICODE_NAME = "my file \u00e9+1.txt";
    private static final int FUZZ_REQUESTS = 300;

    @TempDir
    Path root;

    private byte[] big;
    private byte[] small;
    private SluiceServlet servlet;
    private ContainerKind.Running container;

    private void start(ContainerKind kind, Map<String, String> extra) throws Exception {
        Files.createDirectories(root.resolve("dir/sub"));
        big = new byte[SIZE];
        new Random(11).nextBytes(big);
        Files.write(root.resolve("dir/big.bin"), big);
        Files.setLastModifiedTime(root.resolve("dir/big.bin"), FileTime.fromMillis(MTIME));
        small = "small file under the prefix\n".getBytes(StandardCharsets.UTF_8);
        Files.write(root.resolve("dir/sub/small.txt"), small);
        Files.writeString(root.resolve("dir/" + UNICODE_NAME), "unicode name\n");
        Files.writeString(root.resolve("secret.txt"), SECRET);
        Map<String, String> params = new HashMap<>(Map.of("root", root.toString(), "chunkSize", "64KiB"));
        params.putAll(extra);
        servlet = new SluiceServlet();
        container = kind.start(servlet, params, 0, true);
    }

    private void start(ContainerKind kind) throws Exception {
        start(kind, Map.of("signingKey", KEY));
    }

    @AfterEach
    void stop() {
        if (container != null) {
            try {
                Leaks.assertNothingHeld(servlet, root);
            } finally {
                container.close();
            }
        }
    }

    private static long now() {
        return Instant.now().getEpochSecond();
    }

    private TestClient.Response get(String target) throws IOException {
        return TestClient.get(container.uri(), target);
    }

    private TestClient.Response exchange(String method, String target, Map<String, String> headers)
            throws IOException {
        return TestClient.exchange(container.uri(), method, target, headers);
    }

    private static String query(String link) {
        return link.substring(link.indexOf('?'));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aGenuineLinkServesTheFileWholeInRangesAndToHead(ContainerKind kind) throws Exception {
        start(kind);
        String link = SIGNER.sign("/dir/big.bin", now() + 3600);
        TestClient.Response whole = get(link);
        assertEquals(200, whole.status());
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
        String etag = whole.header("etag");

        TestClient.Response range = exchange("GET", link, Map.of("Range", "bytes=1000-1999"));
        assertEquals(206, range.status());
        assertEquals("bytes 1000-1999/" + SIZE, range.header("content-range"));
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), range.body());

        TestClient.Response head = exchange("HEAD", link, Map.of());
        assertEquals(200, head.status());
        assertEquals(Long.toString(SIZE), head.header("content-length"));
        assertEquals(etag, head.header("etag"));

        TestClient.Response ifRange = exchange("GET", link, Map.of("Range", "bytes=" + (SIZE - 10) + "-",
                "If-Range", etag));
        assertEquals(206, ifRange.status());
        assertArrayEquals(Arrays.copyOfRange(big, SIZE - 10, SIZE), ifRange.body());
        assertEquals(200, get(link.replace("/dir/big.bin", "/%64ir/big%2Ebin")).status(), "a re-encoding");
        assertEquals(200, get(link + "&download").status(), "an unsigned extra parameter");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void noOrABadSignatureIsForbiddenWhetherOrNotTheFileExists(ContainerKind kind) throws Exception {
        start(kind);
        long expires = now() + 3600;
        String link = SIGNER.sign("/dir/big.bin", expires);
        String sig = link.substring(link.indexOf("sig=") + 4);
        String flipped = link.substring(0, link.length() - 1) + (sig.endsWith("A") ? "B" : "A");
        String[] refused = {"/dir/big.bin", "/dir/missing.bin", "/missing/", "/dir/big.bin?expires=" + expires,
            "/dir/big.bin?sig=" + sig, flipped, link.substring(0, link.length() - 1),
            "/dir/missing.bin" + query(link), "/secret.txt" + query(link),
            link.replace("expires=" + expires, "expires=" + (expires + 1)),
            link + "&sig=" + sig, "/dir/big.bin?expires=" + (now() - 100) + "&sig=" + sig,
            "/dir/big.bin" + query(LinkSigner.of(OLD_KEY.getBytes(StandardCharsets.UTF_8)).sign("/dir/big.bin",
                    expires)), "/", "/dir/"};
        TestClient.Response first = null;
        for (String target : refused) {
            for (String method : new String[] {"GET", "HEAD"}) {
                TestClient.Response response = exchange(method, target, Map.of());
                assertEquals(403, response.status(), method + " " + target);
                assertNull(response.header("etag"), target);
                assertNull(response.header("last-modified"), target);
                assertNull(response.header("location"), target);
                if (method.equals("GET")) {
                    assertEquals("Forbidden\n", response.text(), target);
                    if (first == null) {
                        first = response;
                    }
                    assertEquals(first.head().headers().keySet(), response.head().headers().keySet(),
                            "every refusal looks alike: " + target);
                }
            }
        }
        assertEquals(404, get(SIGNER.sign("/dir/missing.bin", expires)).status(), "genuine, no such file");
        assertEquals(0, servlet.metrics().completed());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anExpiredLinkIsGoneAndThePreviousKeyStillVerifies(ContainerKind kind) throws Exception {
        start(kind, Map.of("signingKey", KEY, "signingKeyPrevious", OLD_KEY));
        String expired = SIGNER.sign("/dir/big.bin", now() - 5);
        for (String method : new String[] {"GET", "HEAD"}) {
            TestClient.Response gone = exchange(method, expired, Map.of("Range", "bytes=0-9"));
            assertEquals(410, gone.status(), method);
            assertNull(gone.header("etag"));
        }
        assertEquals("Gone\n", get(expired).text());
        LinkSigner old = LinkSigner.of(OLD_KEY.getBytes(StandardCharsets.UTF_8));
        TestClient.Response viaOld = get(old.sign("/dir/sub/small.txt", now() + 60));
        assertEquals(200, viaOld.status());
        assertArrayEquals(small, viaOld.body());
        assertEquals(410, get(old.sign("/dir/sub/small.txt", now() - 1)).status());
        assertEquals(200, get(SIGNER.sign("/dir/sub/small.txt", SignedLinks.MAX_EXPIRES)).status(),
                "a far-future expiry, when genuinely signed");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aPrefixLinkOpensWhatIsUnderItAndNothingElse(ContainerKind kind) throws Exception {
        start(kind);
        String link = SIGNER.sign("/dir/sub/small.txt", now() + 600, "/dir", null);
        String query = query(link);
        assertArrayEquals(small, get(link).body());
        TestClient.Response other = get("/dir/big.bin" + query);
        assertEquals(200, other.status());
        assertEquals(TestClient.sha256(big), TestClient.sha256(other.body()));
        TestClient.Response redirect = get("/dir" + query);
        assertEquals(302, redirect.status(), "a directory without its slash is redirected, query kept");
        assertTrue(redirect.header("location").endsWith("/dir/" + query), redirect.header("location"));
        assertEquals(403, get("/dir/" + query).status(), "signed, but no welcome file and no listing");
        for (String outside : new String[] {"/secret.txt", "/dirt", "/", "/dir/../secret.txt", "/dir/%2e%2e/secret.txt",
            "/dir/..%2fsecret.txt", "/dir%2f..%2fsecret.txt", "/dir/sub/../../secret.txt", "/dir/.%2e/secret.txt",
            "/dir;/../secret.txt", "/dir/..;/secret.txt"}) {
            TestClient.Response refused = get(outside + query);
            assertTrue(refused.status() == 403 || refused.status() == 400, outside + ": " + refused.status());
            assertFalse(refused.text().contains(SECRET.strip()), outside);
        }
        assertEquals(403, get("/secret.txt" + query.replace("prefix=/dir", "prefix=/")).status());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void anAddressBoundLinkIsForThatClientOnly(ContainerKind kind) throws Exception {
        start(kind);
        String mine = SIGNER.sign("/dir/sub/small.txt", now() + 600, null, "127.0.0.1");
        assertArrayEquals(small, get(mine).body());
        String theirs = SIGNER.sign("/dir/sub/small.txt", now() + 600, null, "127.0.0.2");
        assertEquals(403, get(theirs).status());
        try (TestClient client = new TestClient(container.uri(), 0, InetAddress.getByName("127.0.0.2"))) {
            TestClient.Head head = client.send("GET", theirs, Map.of(), true);
            assertEquals(200, head.status(), "from 127.0.0.2");
            assertArrayEquals(small, client.readBody(head));
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    @Timeout(120)
    void aDownloadStartedBeforeExpiryIsNotCutAndResumingAfterwardsIsGone(ContainerKind kind) throws Exception {
        start(kind);
        long expires = now() + 2;
        String link = SIGNER.sign("/dir/big.bin", expires);
        String etag;
        try (TestClient client = new TestClient(container.uri(), 64 * 1024)) {
            TestClient.Head head = client.send("GET", link, Map.of(), true);
            assertEquals(200, head.status());
            etag = head.header("etag");
            byte[] body = new byte[SIZE];
            int got = readFully(client, body, 0, 1024 * 1024);
            Await.until("the link expired", Duration.ofSeconds(10), () -> now() > expires, () -> "now " + now());
            assertEquals(410, get(link).status(), "a new request after the expiry");
            assertTrue(servlet.metrics().activeTransfers() >= 1, "the first download is still running");
            readFully(client, body, got, SIZE - got);
            assertEquals(TestClient.sha256(big), TestClient.sha256(body), "the whole file, across the expiry");
        }
        assertEquals(410, exchange("GET", link, Map.of("Range", "bytes=1048576-", "If-Range", etag)).status(),
                "a resume after the expiry");
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aCutDownloadResumesWithIfRangeOnTheSameLink(ContainerKind kind) throws Exception {
        start(kind);
        String link = SIGNER.sign("/dir/big.bin", now() + 600);
        byte[] half = new byte[SIZE / 2];
        String etag;
        try (TestClient client = new TestClient(container.uri(), 64 * 1024)) {
            TestClient.Head head = client.send("GET", link, Map.of(), false);
            assertEquals(200, head.status());
            etag = head.header("etag");
            readFully(client, half, 0, half.length);
        }
        Await.until("the cut download ended", Duration.ofSeconds(30),
                () -> servlet.metrics().activeTransfers() == 0, () -> servlet.metrics().toString());
        TestClient.Response rest = exchange("GET", link, Map.of("Range", "bytes=" + half.length + "-",
                "If-Range", etag));
        assertEquals(206, rest.status());
        byte[] joined = Arrays.copyOf(half, SIZE);
        System.arraycopy(rest.body(), 0, joined, half.length, rest.body().length);
        assertEquals(TestClient.sha256(big), TestClient.sha256(joined));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aLinkMintedByTheReadmesPythonDownloads(ContainerKind kind) throws Exception {
        Assumptions.assumeTrue(ReadmePython.available(), "python3 is not on the PATH");
        start(kind);
        byte[] key = KEY.getBytes(StandardCharsets.UTF_8);
        String link = ReadmePython.sign(key, "/dir/" + UNICODE_NAME, 600, "", "", null);
        assertTrue(link.startsWith("/dir/my%20file%20%C3%A9%2B1.txt?expires="), link);
        TestClient.Response response = get(link);
        assertEquals(200, response.status(), link);
        assertEquals("unicode name\n", response.text());
        String prefixed = ReadmePython.sign(key, "/dir/sub/small.txt", 600, "/dir", "127.0.0.1", null);
        assertArrayEquals(small, get("/dir/sub/small.txt" + query(prefixed)).body());
        assertEquals(200, get("/dir/big.bin" + query(prefixed)).status());
        assertEquals(403, get("/secret.txt" + query(prefixed)).status());
        assertEquals(410, get(ReadmePython.sign(key, "/dir/sub/small.txt", -10, "", "", null)).status());
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    @Timeout(120)
    void overHttp2AGenuineLinkServesWholeAndRangedAndAForgedOneIsForbidden(ContainerKind kind) throws Exception {
        start(kind);
        String link = SIGNER.sign("/dir/big.bin", now() + 600);
        HTTP2Client client = new HTTP2Client();
        client.start();
        try {
            Session session = client.connect(new InetSocketAddress(container.uri().getHost(),
                    container.uri().getPort()), new Session.Listener() {
                    }).get(10, TimeUnit.SECONDS);
            H2Response whole = h2Get(session, link, Map.of());
            assertEquals(200, whole.status());
            assertEquals(TestClient.sha256(big), whole.sha256());
            H2Response range = h2Get(session, link, Map.of("Range", "bytes=5-9"));
            assertEquals(206, range.status());
            assertEquals(TestClient.sha256(Arrays.copyOfRange(big, 5, 10)), range.sha256());
            assertEquals(403, h2Get(session, link.replace("sig=", "sig=A"), Map.of()).status());
            assertEquals(403, h2Get(session, "/dir/big.bin", Map.of()).status());
            assertEquals(410, h2Get(session, SIGNER.sign("/dir/big.bin", now() - 1), Map.of()).status());
        } finally {
            client.stop();
        }
    }

    /** A response over HTTP/2: its status and the sha-256 of its body. */
    private record H2Response(int status, String sha256) {
    }

    /** One GET on its own stream of {@code session}, read to its end. */
    private H2Response h2Get(Session session, String target, Map<String, String> headers) throws Exception {
        HttpFields.Mutable fields = HttpFields.build();
        headers.forEach(fields::put);
        Http2Response response = Http2Response.get(session, container.uri().resolve(target), fields);
        return new H2Response(response.status(30), response.body.sha256.get(60, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void withNoKeyNothingChanges(ContainerKind kind) throws Exception {
        start(kind, Map.of());
        TestClient.Response plain = get("/dir/big.bin");
        assertEquals(200, plain.status());
        assertEquals(TestClient.sha256(big), TestClient.sha256(plain.body()));
        assertEquals(SECRET, get("/secret.txt?expires=1&sig=nonsense").text(), "the parameters mean nothing");
    }

    /**
     * Mutations of genuine links that change what they mean, each sent as a request: whatever the container or
     * Sluice answers, it is never a success or a redirect, never a server error, and never the file's content.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    @Timeout(180)
    void hundredsOfMutatedLinksAreNeverServedAndNeverAServerError(ContainerKind kind) throws Exception {
        start(kind);
        Random random = new Random(0x51_6EED);
        Map<Integer, Integer> statuses = new TreeMap<>();
        String secretText = SECRET.strip();
        for (int n = 0; n < FUZZ_REQUESTS; n++) {
            long expires = now() + 600;
            String path = random.nextBoolean() ? "/secret.txt" : "/dir/sub/small.txt";
            String link = SIGNER.sign(path, expires);
            String target = MUTATIONS.get(random.nextInt(MUTATIONS.size())).apply(link);
            target = MUTATIONS.get(random.nextInt(MUTATIONS.size())).apply(target);
            if (target.equals(link)) {
                target = target + "A"; // two mutations that undid each other
            }
            TestClient.Response response = exchange(random.nextInt(4) == 0 ? "HEAD" : "GET", target, Map.of());
            statuses.merge(response.status(), 1, Integer::sum);
            assertTrue(response.status() >= 400 && response.status() < 500, target + ": " + response.status());
            assertFalse(response.text().contains(secretText) || response.text().contains("small file"), target);
        }
        System.out.println("SignedLinkIT " + kind + ": " + FUZZ_REQUESTS + " mutated links, statuses " + statuses);
        assertTrue(statuses.getOrDefault(403, 0) > FUZZ_REQUESTS / 2, statuses.toString());
        assertEquals(0, servlet.metrics().completed() + servlet.metrics().aborted());
    }

    /** Each changes what a link means, so that none may be served. */
    private static final List<UnaryOperator<String>> MUTATIONS = List.of(
        l -> l.replaceFirst("sig=(.)", "sig=$1$1").replaceFirst("(sig=.{43}).*", "$1"), // shift the signature
        l -> l.replaceFirst("sig=.", "sig=" + (l.contains("sig=A") ? "B" : "A")), // flip its first character
        l -> l.substring(0, l.length() - 1), // truncate
        l -> l + "A", // extend
        l -> l + "=", // pad
        l -> l.replaceFirst("sig=[^&]*", "sig="), // empty signature
        l -> l.replaceFirst("&sig=[^&]*", ""), // no signature
        l -> l.replaceFirst("expires=[^&]*&", ""), // no expiry
        l -> l.replaceFirst("expires=(\\d+)", "expires=$11"), // later
        l -> l.replaceFirst("expires=(\\d+)", "expires=0$1"), // leading zero
        l -> l.replaceFirst("expires=(\\d+)", "expires=-$1"),
        l -> l.replaceFirst("expires=(\\d+)", "expires=%2B$1"),
        l -> l.replaceFirst("expires=(\\d+)", "expires=99999999999999999999"), // overflow
        l -> l.replaceFirst("expires=(\\d+)", "expires=1e10"), // not a number
        l -> l.replaceFirst("expires=(\\d+)", "expires=1000000000000"), // past 12 digits
        l -> l.replaceFirst("expires=(\\d+)", "expires=1"), // long past
        l -> l.replaceFirst("\\?", "/../secret.txt?"),
        l -> l.replaceFirst("\\?", "/%2e%2e/secret.txt?"),
        l -> l.replaceFirst("^/", "/dir/../"),
        l -> l.replaceFirst("^/", "/%2E%2E/"),
        l -> l.replaceFirst("^/", "/./"),
        l -> l.replaceFirst("/([^/?]*)\\?", "/%2F$1?"), // an encoded separator
        l -> l.replaceFirst("/([^/?]*)\\?", "/x%5C..%5C$1?"),
        l -> l.replaceFirst("\\?", ";x?"), // a path parameter
        l -> l.replaceFirst("\\?", "%00?"),
        l -> l.replaceFirst("\\?", "%C0%AE?"),
        l -> l.replaceFirst("\\?", "+?"),
        l -> l.replaceFirst("\\?", "/?"), // a file with a trailing slash: 404 at most
        l -> l.replaceFirst("^/secret", "/Secret").replaceFirst("^/dir", "/Dir"), // another case
        l -> l.replaceFirst("^[^?]*", "/dir/big.bin"), // another file
        l -> l.replaceFirst("^[^?]*", "/.hidden"),
        l -> l + "&sig=" + l.substring(l.indexOf("sig=") + 4), // a duplicate
        l -> l + "&expires=1",
        l -> l.replace("sig=", "SIG="), // another name
        l -> l.replace("expires=", "Expires="),
        l -> l + "&prefix=/", // read as a directory link
        l -> l + "&prefix=%2F",
        l -> l + "&ip=127.0.0.1", // bound to an address after the fact
        l -> l.replaceFirst("sig=(.)", "sig=%$1"), // an escape in the signature
        l -> l.replaceFirst("sig=(.)(.)", "sig=$2$1")); // swapped characters

    private static int readFully(TestClient client, byte[] into, int offset, int length) throws IOException {
        int got = 0;
        while (got < length) {
            int n = client.read(into, offset + got, length - got);
            if (n < 0) {
                throw new IOException("connection closed after " + (offset + got) + " bytes");
            }
            got += n;
        }
        return offset + got;
    }
}
