package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Jetty module as a user runs it: the real jetty-home from Maven Central (unpacked by the build into
 * target/jetty-home/), {@code java -jar start.jar} as a separate process, on a copy of {@code jetty-base/} and on a
 * fresh base made with {@code --add-modules}.
 */
class JettyModuleIT {

    private static final Path JETTY_BASE = Path.of("jetty-base");
    private static final Path WAR = Path.of("target", "sluice.war");
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path work;

    private Path files;
    private byte[] big;
    private final List<ExternalServer> servers = new ArrayList<>();

    @BeforeEach
    void files() throws IOException {
        files = Files.createDirectory(work.resolve("files"));
        big = new byte[6 * 1024 * 1024 + 123];
        new Random(42).nextBytes(big);
        Files.write(files.resolve("big.bin"), big);
        Files.writeString(files.resolve("hello.txt"), "hello from the Jetty module");
        Files.writeString(files.resolve("100% done.txt"), "a percent sign in a name");
        Files.writeString(files.resolve("page.jsp"), "<%= 6 * 7 %> a file, not a page");
        Files.createDirectory(work.resolve("tmp"));
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (ExternalServer server : servers) {
            server.close();
        }
    }

    @Test
    void theReadyBaseServesByteExactAndRangesAndTakesChangedSettingsAfterARestart() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);

        URI url = start(base);
        TestClient.Response whole = TestClient.get(url, "/big.bin");
        assertEquals(200, whole.status());
        assertEquals(big.length, whole.head().contentLength());
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
        assertEquals("bytes", whole.header("Accept-Ranges"));
        assertNull(whole.header("Server"), "start.d/http.ini turns the server's version off");
        assertNull(whole.header("Cache-Control"), "an unset sluice.cacheControl must send no Cache-Control");

        TestClient.Response range = TestClient.exchange(url, "GET", "/big.bin", Map.of("Range", "bytes=1000000-3099999"));
        assertEquals(206, range.status());
        assertEquals("bytes 1000000-3099999/" + big.length, range.header("Content-Range"));
        assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 3_100_000), range.body());

        assertSluiceMBeanCounted(2, whole.body().length + range.body().length);
        HttpClient h2c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10)).build();
        assertEquals(HttpClient.Version.HTTP_2, h2cVersion(h2c, url), "the ready base enables http2c");
        HttpResponse<byte[]> h2 = h2cGet(h2c, url, "/big.bin", Map.of());
        assertEquals(HttpClient.Version.HTTP_2, h2.version());
        assertEquals(200, h2.statusCode());
        assertEquals(TestClient.sha256(big), TestClient.sha256(h2.body()));
        HttpResponse<byte[]> h2Range = h2cGet(h2c, url, "/big.bin", Map.of("Range", "bytes=1000000-3099999"));
        assertEquals(HttpClient.Version.HTTP_2, h2Range.version());
        assertEquals(206, h2Range.statusCode());
        assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 3_100_000), h2Range.body());
        // A "%" in a name, as a listing links it ("%25"): Jetty's default URI compliance refuses it (400) unless
        // start.d/http.ini allows that one ambiguity, as the launcher does.
        assertEquals("a percent sign in a name", TestClient.get(url, "/100%25%20done.txt").text());
        assertEquals(400, TestClient.get(url, "/%2e%2e/hello.txt").status(), "an encoded dot segment stays refused");
        assertEquals(400, TestClient.get(url, "/a%2fb").status(), "an encoded slash stays refused");
        // Jetty's webdefault maps *.jsp to its JSP servlet (a 500 without the JSP module); the WAR maps it to Sluice
        assertEquals("<%= 6 * 7 %> a file, not a page", TestClient.get(url, "/page.jsp").text());
        String log = servers.get(servers.size() - 1).log();
        assertFalse(log.contains("Does not exist"), "the base lacks a folder its modules scan:\n" + log);
        stop();

        Files.writeString(base.resolve("start.d/sluice.ini"),
                "\nsluice.cacheControl=public, max-age=7\nsluice.acceptRanges=false\n", StandardOpenOption.APPEND);
        url = start(base);
        TestClient.Response changed = TestClient.exchange(url, "GET", "/big.bin", Map.of("Range", "bytes=0-9"));
        assertEquals(200, changed.status(), "sluice.acceptRanges=false must answer a Range request whole");
        assertEquals(TestClient.sha256(big), TestClient.sha256(changed.body()));
        assertEquals("public, max-age=7", changed.header("Cache-Control"));
        assertEquals("none", changed.header("Accept-Ranges"));
    }

    /**
     * An error page added to the WAR's own WEB-INF/web.xml (rewritten inside the archive), its file under the root:
     * Sluice's 404 for a missing file shows it in a real Jetty too, a 403 (no page) stays Sluice's plain line.
     */
    @Test
    void anErrorPageInTheWarsWebXmlIsWhatAMissingFileShows() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);
        Path archive = base.resolve("webapps/sluice.war");
        try (java.nio.file.FileSystem war = java.nio.file.FileSystems.newFileSystem(archive)) {
            Path webXml = war.getPath("/WEB-INF/web.xml");
            Files.writeString(webXml, Files.readString(webXml).replace("</web-app>",
                    "  <error-page><error-code>404</error-code><location>/errors/404.html</location></error-page>\n"
                            + "</web-app>"));
        }
        Files.createDirectories(files.resolve("errors"));
        Files.writeString(files.resolve("errors/404.html"), "<p>Not in this module.</p>\n");
        URI url = start(base);
        TestClient.Response missing = TestClient.get(url, "/missing.bin");
        assertEquals(404, missing.status(), servers.get(0)::log);
        assertEquals("<p>Not in this module.</p>\n", missing.text());
        assertTrue(missing.header("Content-Type").startsWith("text/html"), missing.header("Content-Type"));
        TestClient.Response directory = TestClient.get(url, "/errors/");
        assertEquals(403, directory.status());
        assertEquals("Forbidden\n", directory.text());
    }

    /**
     * The access log from the ready base, as the README says: without {@code logging-jul-capture}, INFO lines of
     * {@code java.util.logging} go to Jetty's standard error (into {@code logs/} with {@code console-capture}).
     */
    @Test
    void theAccessLogGoesWhereJettysJavaUtilLoggingGoes() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);
        Files.writeString(base.resolve("start.d/sluice.ini"), "\nsluice.accessLog=true\n", StandardOpenOption.APPEND);
        URI url = start(base);
        assertEquals(TestClient.sha256(big), TestClient.sha256(TestClient.get(url, "/big.bin").body()));
        ExternalServer jetty = servers.get(servers.size() - 1);
        Await.until("the access-log line in Jetty's output", Duration.ofSeconds(20),
                () -> jetty.log().lines().anyMatch(line -> line.contains(" path=/big.bin ")
                        && line.contains(" outcome=completed ") && line.contains(" sent=" + big.length + " ")),
                jetty::log);
    }

    @Test
    void addModulesInstallsTheModuleIntoAFreshBase() throws Exception {
        Path base = Files.createDirectory(work.resolve("fresh"));
        copyTree(JETTY_BASE.resolve("modules"), base.resolve("modules"));
        ExternalServer.run(List.of(ExternalServer.java(), "-jar", startJar().toString(), "jetty.base=" + base,
                "--add-modules=http,sluice"), work, START);
        assertEquals(Files.readString(JETTY_BASE.resolve("modules/sluice/sluice.xml")),
                Files.readString(base.resolve("webapps/sluice.xml")), "--add-modules must install the context file");
        String ini = Files.readString(base.resolve("start.d/sluice.ini"));
        assertTrue(ini.contains("--modules=sluice") && ini.contains("# sluice.chunkSize=256KiB"), ini);

        // Without the WAR, start-up fails with a message that names it.
        int port = ExternalServer.freePort();
        ExternalServer noWar = launch(base, port);
        assertTrue(noWar.awaitExitOrHttp(URI.create("http://127.0.0.1:" + port + "/"), START),
                "Jetty started without the WAR");
        assertTrue(noWar.log().contains("FileNotFoundException: " + base.resolve("webapps") + "/sluice.war"),
                noWar.log());

        Files.copy(WAR, base.resolve("webapps/sluice.war"));
        Files.writeString(base.resolve("start.d/sluice.ini"), "\nsluice.root=" + files + "\n",
                StandardOpenOption.APPEND);
        URI url = start(base);
        TestClient.Response whole = TestClient.get(url, "/big.bin");
        assertEquals(200, whole.status());
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
        assertEquals("hello from the Jetty module", TestClient.get(url, "/hello.txt").text());
    }

    @Test
    void aBadSettingStopsTheWebappWithAMessageNamingIt() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);
        Files.writeString(base.resolve("start.d/sluice.ini"), "\nsluice.chunkSize=lots\n", StandardOpenOption.APPEND);
        int port = ExternalServer.freePort();
        URI url = URI.create("http://127.0.0.1:" + port + "/");
        ExternalServer jetty = launch(base, port);
        boolean ended = jetty.awaitExitOrHttp(url, START);
        Await.until("the log names the setting and the value", Duration.ofSeconds(10),
                () -> jetty.log().contains("Sluice setting 'chunkSize' has invalid value 'lots'"), jetty::log);
        if (!ended) {
            assertNotEquals(200, TestClient.get(url, "/big.bin").status(), "served files despite a bad setting");
        }
    }

    /** As for Jetty's own core modules: the README's "on the command line" works even for the ready base's root. */
    @Test
    void aPropertyOnTheCommandLineWinsOverStartDSluiceIni() throws Exception {
        Path base = copyOfJettyBase();
        Path ini = base.resolve("start.d/sluice.ini");
        assertTrue(Files.readString(ini).contains("\nsluice.root=/srv/files\n"), "the ready base sets the root");
        assertFalse(Files.exists(Path.of("/srv/files")), "this test needs the ini's root to be unusable");
        Files.writeString(ini, "\nsluice.cacheControl=public, max-age=7\n", StandardOpenOption.APPEND);

        URI url = start(base, "sluice.root=" + files, "sluice.cacheControl=no-cache");
        TestClient.Response hello = TestClient.get(url, "/hello.txt");
        assertEquals(200, hello.status());
        assertEquals("hello from the Jetty module", hello.text());
        assertEquals("no-cache", hello.header("Cache-Control"));
    }

    @Test
    void aMisspeltPropertyStopsTheWebappWithAMessageNamingItAndTheClosestSetting() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);
        Path ini = base.resolve("start.d/sluice.ini");
        String text = Files.readString(ini);
        Files.writeString(ini, text + "\nsluice.chunksize=1MiB\n");
        assertStopsWith(base, "Unknown Sluice setting 'chunksize' (property"
                + " sluice.chunksize in " + ini + "): did you mean 'chunkSize'?");

        Files.writeString(ini, text);
        assertStopsWith(base, "Unknown Sluice setting 'readahaed' (property sluice.readahaed on the command line):"
                + " did you mean 'readAhead'?", "sluice.readahaed=3");

        Files.writeString(base.resolve("webapps/sluice.properties"), "sluice.dirlisting=true\n");
        assertStopsWith(base, "Unknown Sluice setting 'dirlisting' (property sluice.dirlisting in "
                + base.resolve("webapps/sluice.properties") + "): did you mean 'dirListing'?");
    }

    /** Jetty on {@code base} ends, or runs without serving files, and its log has the message. */
    private void assertStopsWith(Path base, String message, String... properties) throws Exception {
        int port = ExternalServer.freePort();
        URI url = URI.create("http://127.0.0.1:" + port + "/");
        ExternalServer jetty = launch(base, port, properties);
        boolean ended = jetty.awaitExitOrHttp(url, START);
        Await.until("the log says: " + message, Duration.ofSeconds(10), () -> jetty.log().contains(message),
                jetty::log);
        if (!ended) {
            assertNotEquals(200, TestClient.get(url, "/hello.txt").status(), "served files despite a bad setting");
        }
        // The operator's mistake carries no trace of Sluice's frames (Jetty logs it at four layers): the message is
        // not buried under them.
        assertFalse(jetty.log().contains("\tat dev.sluice."), jetty.log());
        stop();
    }

    /**
     * docs/security.md's BASIC setup on Jetty, with its snippets as written there: the ready base with the login
     * service and the override descriptor added to webapps/sluice.xml, the users in etc/sluice-realm.properties and
     * the elements in etc/sluice-security.xml. The private files ask for Jetty's login; the WAR is as built.
     */
    @Test
    void theReadyBaseWithTheSecurityPagesLoginServiceAsksForItsUsers() throws Exception {
        Path base = copyOfJettyBase();
        setRoot(base);
        Files.createDirectories(files.resolve("private"));
        Files.write(files.resolve("private/big.bin"), big);
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/sluice-realm.properties"), SecurityDocs.jettyRealm());
        Files.writeString(base.resolve("etc/sluice-security.xml"), SecurityDocs.jettyOverrideDescriptor());
        Path contextXml = base.resolve("webapps/sluice.xml");
        Files.writeString(contextXml, SecurityDocs.withJettyLogin(Files.readString(contextXml)));
        URI url = start(base);
        ExternalServer jetty = servers.get(servers.size() - 1);
        SecurityDocs.assertBasicLogin(url, "", big, "/hello.txt", "hello from the Jetty module", jetty::log);
    }

    /**
     * The Sluice MBean, read over JMX from the Jetty process as jconsole would: attach to the JVM, start its local
     * management agent, connect. Waits for the counters, which the server updates after the client has its bytes.
     */
    private void assertSluiceMBeanCounted(long completed, long bytesSent) throws Exception {
        for (ProcessHandle jvm : servers.get(0).processes()) {
            String address;
            try {
                com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(
                        Long.toString(jvm.pid()));
                try {
                    address = vm.startLocalManagementAgent();
                } finally {
                    vm.detach();
                }
            } catch (com.sun.tools.attach.AttachNotSupportedException e) {
                continue; // not a JVM (or not this one)
            }
            try (javax.management.remote.JMXConnector connector = javax.management.remote.JMXConnectorFactory
                    .connect(new javax.management.remote.JMXServiceURL(address))) {
                javax.management.MBeanServerConnection jmx = connector.getMBeanServerConnection();
                var names = jmx.queryNames(new javax.management.ObjectName("dev.sluice:type=Transfers,*"), null);
                if (names.isEmpty()) {
                    continue;
                }
                assertEquals(1, names.size(), names::toString);
                var name = names.iterator().next();
                assertEquals("\"/\"", name.getKeyProperty("context"), name::toString);
                Await.until("the MBean counts the downloads", Duration.ofSeconds(30), () -> {
                    try {
                        return completed == (Long) jmx.getAttribute(name, "Completed");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, () -> {
                    try {
                        return "Completed=" + jmx.getAttribute(name, "Completed") + " BytesSent="
                                + jmx.getAttribute(name, "BytesSent");
                    } catch (Exception e) {
                        return e.toString();
                    }
                });
                assertEquals(bytesSent, jmx.getAttribute(name, "BytesSent"));
                assertEquals(0L, jmx.getAttribute(name, "ActiveTransfers"));
                assertTrue(jmx.queryNames(new javax.management.ObjectName("org.eclipse.jetty.server:*"), null)
                        .size() > 0, "the base's jmx module registers Jetty's own MBeans beside Sluice's");
                var connectors = jmx.queryNames(
                        new javax.management.ObjectName("org.eclipse.jetty.server:type=serverconnector,*"), null);
                assertEquals(1, connectors.size(), connectors::toString);
                assertEquals(65_000L, jmx.getAttribute(connectors.iterator().next(), "idleTimeout"),
                        "the sluice module's [ini] waits stallTimeout + 5 s, not Jetty's 30 s, before it cuts a"
                                + " connection whose socket takes nothing");
                return;
            }
        }
        throw new AssertionError("no process of the Jetty server shows a dev.sluice MBean");
    }

    private Path copyOfJettyBase() throws IOException {
        Path base = work.resolve("base");
        copyTree(JETTY_BASE, base);
        try (Stream<Path> wars = Files.list(base.resolve("webapps"))) {
            for (Path war : wars.filter(p -> p.toString().endsWith(".war")).toList()) {
                Files.delete(war); // a WAR a developer left there is not the one under test
            }
        }
        Files.copy(WAR, base.resolve("webapps/sluice.war"));
        return base;
    }

    /** Points the shipped start.d/sluice.ini at the test files, as its comment tells users to. */
    private void setRoot(Path base) throws IOException {
        Path ini = base.resolve("start.d/sluice.ini");
        String text = Files.readString(ini);
        String placeholder = "\nsluice.root=/srv/files\n";
        assertTrue(text.contains(placeholder), "start.d/sluice.ini lost its sluice.root line:\n" + text);
        Files.writeString(ini, text.replace(placeholder, "\nsluice.root=" + files + "\n"));
    }

    private URI start(Path base, String... properties) throws IOException {
        int port = ExternalServer.freePort();
        URI url = URI.create("http://127.0.0.1:" + port + "/");
        launch(base, port, properties).awaitHttp(url, START);
        return url;
    }

    private ExternalServer launch(Path base, int port, String... properties) throws IOException {
        Path log = Files.createTempFile(work, "jetty", ".log");
        List<String> command = new ArrayList<>(List.of(ExternalServer.java(),
                "-Djava.io.tmpdir=" + work.resolve("tmp"), "-jar", startJar().toString(), "jetty.base=" + base,
                "jetty.http.host=127.0.0.1", "jetty.http.port=" + port));
        command.addAll(List.of(properties));
        ExternalServer server = ExternalServer.start("Jetty", command, Map.of(), work, log);
        servers.add(server);
        return server;
    }

    private void stop() throws InterruptedException {
        for (ExternalServer server : servers) {
            server.close();
        }
        servers.clear();
    }

    /**
     * The version of a small request by {@code client}, which upgrades it to h2c. Only a small body may follow the
     * upgrade: the JDK's client (like curl 7.88) mishandles a large one that arrives with the 101 response (a
     * "protocol error: Frame type(..) length(..)" once in 50 to 200 downloads of 6 MiB, from Jetty's own
     * DefaultServlet too, never with prior knowledge), so the large downloads go over the connection this opens.
     */
    private static HttpClient.Version h2cVersion(HttpClient client, URI url) throws IOException, InterruptedException {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(url.resolve("/hello.txt"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, response.statusCode());
        assertEquals("hello from the Jetty module", response.body());
        return response.version();
    }

    /** Over the h2c connection {@code client} upgraded in {@link #h2cVersion}. */
    private static HttpResponse<byte[]> h2cGet(HttpClient client, URI url, String path, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(60));
        headers.forEach(request::header);
        return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** start.jar of the jetty-home the build unpacked in pre-integration-test. */
    static Path startJar() throws IOException {
        Path homes = Path.of("target", "jetty-home");
        try (Stream<Path> dirs = Files.isDirectory(homes) ? Files.list(homes) : Stream.empty()) {
            return dirs.map(d -> d.resolve("start.jar")).filter(Files::isRegularFile).findFirst()
                    .orElseThrow(() -> new AssertionError("no jetty-home under " + homes.toAbsolutePath()
                            + ": run the integration tests through Maven (mvn verify), which unpacks it"))
                    .toAbsolutePath();
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            paths.forEach(path -> {
                try {
                    Path target = to.resolve(from.relativize(path).toString());
                    if (Files.isDirectory(path)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(path, target, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
