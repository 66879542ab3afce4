package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The container's own security in front of Sluice, as a WAR's {@code <security-constraint>} sets it up: the paths
 * under {@code /private/} need the role {@code downloader}, with BASIC or FORM login, on embedded Jetty ee11, ee10
 * and Tomcat 11 with real credentials. Without them the container asks for a login (401, or the login page for
 * FORM), a wrong password is refused, a user without the role gets 403, and a user with it gets the files
 * byte-exact, ranges and HEAD included, while public paths stay public. FORM login is set up as docs/security.md
 * shows: the login pages served by the container's own DefaultServlet, sessions tracked by cookie only. Protected
 * downloads are still Sluice's async transfers: more of them than the container has threads run at once and small
 * requests are still answered. And no other spelling of a protected path gets a protected file past the container.
 */
class ContainerSecurityIT {

    private static final int THREADS = 8;
    private static final int HELD_DOWNLOADS = 12;
    private static final String ROLE = "downloader";
    private static final List<ContainerKind.User> USERS = List.of(
            new ContainerKind.User("alice", "alice-secret", List.of(ROLE)),
            new ContainerKind.User("carol", "carol-secret", List.of("visitor")));
    static final String LOGIN_PAGE = "<html><body><form method=\"post\" action=\"j_security_check\">"
            + "<input name=\"j_username\"><input name=\"j_password\" type=\"password\"></form></body></html>\n";
    static final String LOGIN_ERROR_PAGE = "<html><body>Wrong user name or password.</body></html>\n";

    @TempDir
    Path root;

    /** The login pages, served by the container's own DefaultServlet (see {@link ContainerKind.Login}). */
    @TempDir
    Path pages;

    private byte[] secret;
    private byte[] big;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(root.resolve("private"));
        secret = "the protected document\n".getBytes(StandardCharsets.UTF_8);
        Files.write(root.resolve("private/doc.txt"), secret);
        big = new byte[8 * 1024 * 1024 + 123];
        new Random(11).nextBytes(big);
        Files.write(root.resolve("private/big.bin"), big);
        Files.writeString(root.resolve("public.txt"), "for everyone\n");
        Files.writeString(pages.resolve("login.html"), LOGIN_PAGE);
        Files.writeString(pages.resolve("login-error.html"), LOGIN_ERROR_PAGE);
    }

    static ContainerKind.Login basicLogin(List<ContainerKind.User> users) {
        return new ContainerKind.Login("BASIC", "/private/*", ROLE, users, null);
    }

    private ContainerKind.Login formLogin() {
        return new ContainerKind.Login("FORM", "/private/*", ROLE, USERS, pages);
    }

    private static Map<String, String> basic(String user, String password) {
        return SecurityDocs.basic(user, password);
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void basicLoginGuardsThePrivatePathsAndTheRightUserGetsTheFilesAsync(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "chunkSize", "64KiB"), THREADS, basicLogin(USERS))) {
            URI uri = container.uri();
            TestClient.Response anonymous = TestClient.get(uri, "/private/doc.txt");
            assertEquals(401, anonymous.status());
            String challenge = anonymous.header("WWW-Authenticate");
            assertNotNull(challenge, "401 without a challenge");
            assertTrue(challenge.startsWith("Basic") && challenge.contains("realm=\"Sluice\""), challenge);
            assertFalse(anonymous.text().contains("protected document"), anonymous.text());
            assertEquals(401, TestClient.exchange(uri, "GET", "/private/doc.txt", basic("alice", "wrong")).status());
            assertEquals(401, TestClient.exchange(uri, "GET", "/private/doc.txt", basic("nobody", "x")).status());
            assertEquals(401, TestClient.exchange(uri, "HEAD", "/private/big.bin", Map.of()).status());
            TestClient.Response noRole = TestClient.exchange(uri, "GET", "/private/doc.txt",
                    basic("carol", "carol-secret"));
            assertEquals(403, noRole.status());
            assertFalse(noRole.text().contains("protected document"), noRole.text());

            Map<String, String> alice = basic("alice", "alice-secret");
            TestClient.Response doc = TestClient.exchange(uri, "GET", "/private/doc.txt", alice);
            assertEquals(200, doc.status());
            assertArrayEquals(secret, doc.body());
            TestClient.Response head = TestClient.exchange(uri, "HEAD", "/private/big.bin", alice);
            assertEquals(200, head.status());
            assertEquals(big.length, head.head().contentLength());
            TestClient.Response range = TestClient.exchange(uri, "GET", "/private/big.bin",
                    with(alice, "Range", "bytes=1000000-1999999"));
            assertEquals(206, range.status());
            assertEquals("bytes 1000000-1999999/" + big.length, range.header("Content-Range"));
            assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 2_000_000), range.body());
            TestClient.Response open = TestClient.get(uri, "/public.txt");
            assertEquals(200, open.status());
            assertEquals("for everyone\n", open.text());
            assertEquals(200, TestClient.exchange(uri, "GET", "/public.txt", basic("carol", "carol-secret"))
                    .status(), "credentials on a public path do no harm");

            heldDownloadsLeaveTheContainerFree(servlet, uri, alice);
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    /**
     * More protected downloads than the container has threads, held open by clients that read slowly, all run at
     * once while small authenticated requests are answered: the login has not made the downloads blocking. Then
     * each is read to its end, byte-exact.
     */
    private void heldDownloadsLeaveTheContainerFree(SluiceServlet servlet, URI uri, Map<String, String> credentials)
            throws Exception {
        List<TestClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < HELD_DOWNLOADS; i++) {
                TestClient client = new TestClient(uri, 4096);
                held.add(client);
                TestClient.Head head = client.send("GET", "/private/big.bin", credentials, true);
                assertEquals(200, head.status());
                assertEquals(big.length, head.contentLength());
            }
            long completed = servlet.metrics().completed();
            Await.until("every held download running at once", Duration.ofSeconds(30),
                    () -> servlet.metrics().activeTransfers() == HELD_DOWNLOADS, () -> servlet.metrics().toString());
            for (int i = 0; i < 10; i++) {
                try (TestClient quick = new TestClient(uri)) {
                    quick.setReadTimeout(10_000);
                    TestClient.Head head = quick.send("GET", "/private/doc.txt", credentials, true);
                    assertEquals(200, head.status());
                    assertArrayEquals(secret, quick.readBody(head));
                }
            }
            Await.until("the small downloads ended", Duration.ofSeconds(10),
                    () -> servlet.metrics().completed() == completed + 10, () -> servlet.metrics().toString());
            assertEquals(HELD_DOWNLOADS, servlet.metrics().activeTransfers(), "a held download ended early");
            String expected = TestClient.sha256(big);
            for (TestClient client : held) {
                assertEquals(expected, client.sha256(big.length));
            }
        } finally {
            for (TestClient client : held) {
                client.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void formLoginShowsTheLoginPageAndTheSessionGetsTheFiles(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString()), 0,
                formLogin())) {
            Form form = new Form(kind, container.uri());

            Form.Answer first = form.get("/private/doc.txt");
            form.assertLoginPage(first, ContainerKind.Login.LOGIN_PAGE, LOGIN_PAGE);
            Form.Answer wrong = form.login("alice", "wrong");
            form.assertLoginPage(wrong, ContainerKind.Login.LOGIN_ERROR_PAGE, LOGIN_ERROR_PAGE);
            assertFalse(wrong.body().contains("protected document"));

            form.forget();
            form.assertLoginPage(form.get("/private/doc.txt"), ContainerKind.Login.LOGIN_PAGE, LOGIN_PAGE);
            Form.Answer noRole = form.followRedirect(form.login("carol", "carol-secret"));
            assertEquals(403, noRole.status());
            assertFalse(noRole.body().contains("protected document"), noRole.body());

            form.forget();
            form.assertLoginPage(form.get("/private/doc.txt"), ContainerKind.Login.LOGIN_PAGE, LOGIN_PAGE);
            Form.Answer loggedIn = form.login("alice", "alice-secret");
            assertTrue(loggedIn.status() == 302 || loggedIn.status() == 303, loggedIn.toString());
            assertTrue(loggedIn.location().endsWith("/private/doc.txt"), loggedIn.location());
            Form.Answer doc = form.followRedirect(loggedIn);
            assertEquals(200, doc.status(), doc.toString());
            assertEquals("the protected document\n", doc.body());

            HttpResponse<byte[]> whole = form.bytes("GET", "/private/big.bin", Map.of());
            assertEquals(200, whole.statusCode());
            assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
            HttpResponse<byte[]> range = form.bytes("GET", "/private/big.bin", Map.of("Range", "bytes=-1000"));
            assertEquals(206, range.statusCode());
            assertArrayEquals(Arrays.copyOfRange(big, big.length - 1000, big.length), range.body());
            HttpResponse<byte[]> head = form.bytes("HEAD", "/private/big.bin", Map.of());
            assertEquals(200, head.statusCode());
            assertEquals(String.valueOf(big.length), head.headers().firstValue("Content-Length").orElse(null));

            form.forget();
            Form.Answer open = form.get("/public.txt");
            assertEquals(200, open.status());
            assertEquals("for everyone\n", open.body());
            // Why sessions must be tracked by cookie only: Sluice refuses a path with a path parameter.
            assertEquals(404, TestClient.get(container.uri(), "/public.txt;jsessionid=" + "0".repeat(20)).status());
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    /**
     * Other spellings of a protected path, sent byte for byte: percent-encoded letters, dot segments, doubled
     * slashes, path parameters, encoded slashes. Each either reaches the container's constraint (401) or is refused
     * (400, 404); none is ever answered with the file.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void noOtherSpellingOfAProtectedPathGetsPastTheLogin(ContainerKind kind) throws Exception {
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString()), 0,
                basicLogin(USERS))) {
            List<String> spellings = List.of("/private/doc.txt", "/%70rivate/doc.txt", "/private/%64oc.txt",
                    "/%70%72%69%76%61%74%65/doc.txt", "//private/doc.txt", "/private//doc.txt",
                    "///private/doc.txt", "/./private/doc.txt", "/public.txt/../private/doc.txt",
                    "/x/../private/doc.txt", "/x/%2e%2e/private/doc.txt", "/%2e/private/doc.txt",
                    "/private;x=y/doc.txt", "/;x=y/private/doc.txt", "/private/doc.txt;x=y",
                    "/private%2Fdoc.txt", "/private%2fdoc.txt", "/private%5Cdoc.txt", "/private\\doc.txt",
                    "/PRIVATE/doc.txt", "/private./doc.txt", "/private%20/doc.txt", "/private/./doc.txt",
                    "/private/doc.txt/", "/private/doc.txt%00", "/private%00/doc.txt", "/private/doc.txt?x=/public.txt",
                    "/private/doc.txt#x", "/public.txt/..%2fprivate/doc.txt");
            List<String> answers = new ArrayList<>();
            List<String> wrong = new ArrayList<>();
            for (String path : spellings) {
                TestClient.Response response;
                try {
                    response = TestClient.exchange(container.uri(), "GET", path, Map.of());
                } catch (IOException e) {
                    answers.add(path + " -> closed");
                    continue; // the container closed the connection: refused
                }
                answers.add(path + " -> " + response.status());
                if (!List.of(400, 401, 404).contains(response.status())
                        || response.text().contains("protected document")) {
                    wrong.add(path + " -> " + response.status());
                }
            }
            assertTrue(wrong.isEmpty(), "answered otherwise than 400, 401 or 404: " + wrong + "; all: " + answers);
            System.out.println(kind + ": " + answers);
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> all = new java.util.HashMap<>(headers);
        all.put(name, value);
        return all;
    }

    /**
     * A browser's side of FORM login, redirects not followed: the session cookie it was given, sent back. Jetty's
     * FORM login redirects to the login and error pages; Tomcat's forwards to them (200 with the page).
     */
    private static final class Form {
        private static final Pattern SESSION = Pattern.compile("JSESSIONID=([^;]+)");

        record Answer(int status, String location, String body) {
        }

        private final ContainerKind kind;
        private final URI base;
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10)).build();
        private String session;

        Form(ContainerKind kind, URI base) {
            this.kind = kind;
            this.base = base;
        }

        void forget() {
            session = null;
        }

        Answer get(String path) throws Exception {
            return answer(send(request(path).GET()));
        }

        Answer login(String user, String password) throws Exception {
            String form = "j_username=" + user + "&j_password=" + password;
            return answer(send(request("/j_security_check").header("Content-Type",
                    "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))));
        }

        Answer followRedirect(Answer redirect) throws Exception {
            assertTrue(redirect.status() == 302 || redirect.status() == 303, redirect.toString());
            return get(URI.create(redirect.location()).getRawPath());
        }

        HttpResponse<byte[]> bytes(String method, String path, Map<String, String> headers) throws Exception {
            HttpRequest.Builder request = request(path).method(method, HttpRequest.BodyPublishers.noBody());
            headers.forEach(request::header);
            return remember(client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray()));
        }

        /** The container asked for a login: Jetty redirects to {@code page}, Tomcat answers with it. */
        void assertLoginPage(Answer answer, String page, String content) throws Exception {
            if (kind == ContainerKind.TOMCAT) {
                assertEquals(200, answer.status(), answer.toString());
                assertEquals(content, answer.body());
            } else {
                assertTrue(answer.status() == 302 || answer.status() == 303, answer.toString());
                assertTrue(answer.location().endsWith(page), answer.location() + " (no ;jsessionid=)");
                Answer shown = get(URI.create(answer.location()).getRawPath());
                assertEquals(200, shown.status());
                assertEquals(content, shown.body());
            }
            assertNotEquals("the protected document\n", answer.body());
        }

        private HttpRequest.Builder request(String path) {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
            if (session != null) {
                request.header("Cookie", "JSESSIONID=" + session);
            }
            return request;
        }

        private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
            return remember(client.send(request.build(), HttpResponse.BodyHandlers.ofString()));
        }

        private <T> HttpResponse<T> remember(HttpResponse<T> response) {
            for (String cookie : response.headers().allValues("Set-Cookie")) {
                Matcher m = SESSION.matcher(cookie);
                if (m.find()) {
                    session = m.group(1);
                }
            }
            return response;
        }

        private static Answer answer(HttpResponse<String> response) {
            return new Answer(response.statusCode(), response.headers().firstValue("Location").orElse(""),
                    response.body());
        }
    }
}
