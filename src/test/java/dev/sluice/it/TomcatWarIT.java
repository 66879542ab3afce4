package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * target/sluice.war in a real Tomcat 11 and a real Tomcat 10.1 (the distributions from Maven Central, unpacked by
 * the build into target/tomcat/ and target/tomcat-10.1/), each run by {@code bin/catalina.sh run} with its own
 * CATALINA_BASE, configured the way the README tells Tomcat users: a context file
 * {@code conf/Catalina/localhost/sluice.xml}. Tomcat 10.1 implements Servlet 6.0, which has no
 * {@code write(ByteBuffer)}: there the engine writes {@code byte[]} from heap buffers.
 */
class TomcatWarIT {

    private static final Path WAR = Path.of("target", "sluice.war");
    private static final String TOMCAT_11 = "tomcat";
    private static final String TOMCAT_10_1 = "tomcat-10.1";
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path work;

    private Path files;
    private byte[] big;
    private final List<ExternalServer> servers = new ArrayList<>();

    @BeforeEach
    void files() throws IOException {
        files = Files.createDirectory(work.resolve("files"));
        big = new byte[5 * 1024 * 1024 + 77];
        new Random(7).nextBytes(big);
        Files.write(files.resolve("big.bin"), big);
        Files.writeString(files.resolve("page.jsp"), "<%= 6 * 7 %> a file, not a page");
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (ExternalServer server : servers) {
            server.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TOMCAT_11, TOMCAT_10_1})
    void theWarServesByteExactAndRangesWithTheRootFromAContextFile(String tomcatDir) throws Exception {
        Running running = startWar(tomcatDir, Map.of("sluice.root", files.toString(), "sluice.statusPath",
                "/.sluice/status"));
        ExternalServer tomcat = running.tomcat();
        URI url = running.url();

        TestClient.Response whole = TestClient.get(url, "/sluice/big.bin");
        assertEquals(200, whole.status(), tomcat::log);
        assertEquals(big.length, whole.head().contentLength());
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));

        TestClient.Response range = TestClient.exchange(url, "GET", "/sluice/big.bin",
                Map.of("Range", "bytes=4000000-"));
        assertEquals(206, range.status());
        assertEquals("bytes 4000000-" + (big.length - 1) + "/" + big.length, range.header("Content-Range"));
        assertArrayEquals(Arrays.copyOfRange(big, 4_000_000, big.length), range.body());
        Await.until("both bodies went to Tomcat's sendfile", Duration.ofSeconds(10),
                () -> status(url).contains("\"handedOff\":2,"), () -> status(url));
        // conf/web.xml maps *.jsp to Tomcat's JSP servlet; the WAR's web.xml maps it to Sluice: a file like any other
        assertEquals("<%= 6 * 7 %> a file, not a page", TestClient.get(url, "/sluice/page.jsp").text(), tomcat::log);

        // Tomcat answers a malformed request itself; with the README's valve its page names no exception and no
        // version (without it: "java.lang.IllegalArgumentException: Invalid character found in the request target")
        TestClient.Response malformed = TestClient.get(url, "/sluice/a{b}.bin");
        assertEquals(400, malformed.status(), tomcat::log);
        String page = new String(malformed.body(), StandardCharsets.ISO_8859_1);
        assertFalse(page.contains("Exception") || page.contains("\tat ") || page.contains("Apache Tomcat"), page);
    }

    /**
     * With {@code sendfile=false} every body goes through the engine: on Tomcat 11 as {@code write(ByteBuffer)}, on
     * Tomcat 10.1 as {@code write(byte[])}. The status counters show that no body was handed to sendfile.
     */
    @ParameterizedTest
    @ValueSource(strings = {TOMCAT_11, TOMCAT_10_1})
    void theEngineServesByteExactWithoutSendfile(String tomcatDir) throws Exception {
        Running running = startWar(tomcatDir, Map.of("sluice.root", files.toString(), "sluice.sendfile", "false",
                "sluice.statusPath", "/.sluice/status"));
        ExternalServer tomcat = running.tomcat();
        Path base = running.base();
        URI url = running.url();

        TestClient.Response whole = TestClient.get(url, "/sluice/big.bin");
        assertEquals(200, whole.status(), tomcat::log);
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
        TestClient.Response range = TestClient.exchange(url, "GET", "/sluice/big.bin",
                Map.of("Range", "bytes=1000-1999,4000000-"));
        assertEquals(206, range.status());
        assertTrue(range.header("Content-Type").startsWith("multipart/byteranges"), range.header("Content-Type"));

        Await.until("both bodies went through the engine and ended", Duration.ofSeconds(10), () -> {
            String status = status(url);
            return status.contains("\"completed\":2,") && status.contains("\"handedOff\":0,")
                    && status.contains("\"bufferBytesInUse\":0,");
        }, () -> status(url));
        String writes = tomcatDir.equals(TOMCAT_10_1)
                ? "chunks go by write(byte[]) from heap buffers (Servlet 6.0 API" : "chunks go by write(ByteBuffer)";
        Await.until("the start-up log says how chunks are written", Duration.ofSeconds(10),
                () -> logs(base, "localhost.").contains(writes), () -> logs(base, "localhost."));
    }

    /**
     * The access log and the metrics in a real Tomcat, from the README's settings: the line goes through JULI into
     * {@code logs/catalina.<date>.log}, and the WAR, which has no Micrometer, serves the metrics.
     */
    @Test
    void theAccessLogLandsInCatalinaLogAndInAFileOfItsOwnAndTheMetricsAnswer() throws Exception {
        int port = ExternalServer.freePort();
        Path base = catalinaBase(TOMCAT_11, port, Map.of("sluice.root", files.toString(), "sluice.accessLog", "true",
                "sluice.metricsPath", "/.sluice/metrics"));
        // docs/operations.md: a file of its own for the bare lines.
        Path logging = base.resolve("conf/logging.properties");
        String handler = "5sluice.org.apache.juli.AsyncFileHandler";
        String properties = Files.readString(logging);
        assertTrue(properties.contains("\nhandlers = "), properties);
        Files.writeString(logging, properties.replace("\nhandlers = ", "\nhandlers = " + handler + ", ")
                + "\n" + handler + ".directory = ${catalina.base}/logs\n" + handler + ".prefix = sluice-access.\n"
                + handler + ".formatter = org.apache.juli.VerbatimFormatter\n"
                + "dev.sluice.access.handlers = " + handler + "\ndev.sluice.access.useParentHandlers = false\n");
        start(TOMCAT_11, base).awaitHttp(URI.create("http://127.0.0.1:" + port + "/"), START);
        URI url = URI.create("http://127.0.0.1:" + port + "/");
        assertEquals(TestClient.sha256(big), TestClient.sha256(TestClient.get(url, "/sluice/big.bin").body()));
        Await.until("the bare access-log line in sluice-access.<date>.log", Duration.ofSeconds(20),
                () -> logs(base, "sluice-access.").lines().anyMatch(line -> line.startsWith("time=")
                        && line.contains(" client=127.0.0.1 ") && line.contains(" path=/sluice/big.bin ")
                        && line.contains(" outcome=handed-off ")), () -> logs(base, "sluice-access."));
        assertTrue(!logs(base, "catalina.").contains("outcome="), "useParentHandlers=false keeps it out of catalina");
        String metrics = TestClient.get(url, "/sluice/.sluice/metrics").text();
        assertTrue(metrics.contains("\nsluice_handed_off_transfers_total 1\n"), metrics);
    }

    @ParameterizedTest
    @ValueSource(strings = {TOMCAT_11, TOMCAT_10_1})
    void aBadSettingFailsTheContextWithAMessageNamingIt(String tomcatDir) throws Exception {
        Running running = startWar(tomcatDir, Map.of("sluice.root", files.toString(), "sluice.readAhead",
                "lots"));
        ExternalServer tomcat = running.tomcat();
        Path base = running.base();
        URI url = running.url();

        String message = "Sluice setting 'readAhead' has invalid value 'lots'";
        Await.until("Tomcat's log names the setting and the value", Duration.ofSeconds(20),
                () -> logs(base, "catalina.").contains(message) && tomcat.log().contains(message),
                () -> tomcat.log() + "\n" + logs(base, "catalina."));
        assertEquals(404, TestClient.get(url, "/sluice/big.bin").status(), "the failed context must not serve");
    }

    /**
     * docs/security.md's BASIC setup, with its snippets as written there: the WAR unpacked into webapps/sluice/ with
     * the page's elements added to its WEB-INF/web.xml, the users in conf/tomcat-users.xml (the realm of Tomcat's
     * own server.xml), the context file as ever. The private files ask for Tomcat's login.
     */
    @ParameterizedTest
    @ValueSource(strings = {TOMCAT_11, TOMCAT_10_1})
    void theUnpackedWarWithTheSecurityPagesConstraintAsksForTomcatsUsers(String tomcatDir) throws Exception {
        Files.createDirectories(files.resolve("private"));
        Files.write(files.resolve("private/big.bin"), big);
        Files.writeString(files.resolve("public.txt"), "for everyone\n");
        Running running = startUnpackedWar(tomcatDir, Map.of("sluice.root", files.toString()),
                SecurityDocs::withElements,
                base -> Files.writeString(base.resolve("conf/tomcat-users.xml"), SecurityDocs.tomcatUsers()));
        SecurityDocs.assertBasicLogin(running.url(), "/sluice", big, "/public.txt", "for everyone\n",
                running.tomcat()::log);
    }

    /**
     * An error page added to the unpacked WAR's WEB-INF/web.xml, its file under the root: Sluice's own 404 for a
     * missing file shows it, a 403 (a directory, for which there is no page) stays Sluice's plain line.
     */
    @Test
    void anErrorPageInTheWebXmlIsWhatAMissingFileShows() throws Exception {
        Files.createDirectories(files.resolve("errors"));
        Files.writeString(files.resolve("errors/404.html"), "<p>Not in this archive.</p>\n");
        Running running = startUnpackedWar(TOMCAT_11, Map.of("sluice.root", files.toString()),
                xml -> xml.replace("</web-app>", "  <error-page>\n    <error-code>404</error-code>\n"
                        + "    <location>/errors/404.html</location>\n  </error-page>\n</web-app>"),
                base -> { });
        TestClient.Response missing = TestClient.get(running.url(), "/sluice/missing.bin");
        assertEquals(404, missing.status(), running.tomcat()::log);
        assertEquals("<p>Not in this archive.</p>\n", missing.text());
        assertTrue(missing.header("Content-Type").startsWith("text/html"), missing.header("Content-Type"));
        TestClient.Response directory = TestClient.get(running.url(), "/sluice/errors/");
        assertEquals(403, directory.status());
        assertEquals("Forbidden\n", directory.text());
    }

    /** A Tomcat serving the WAR: its CATALINA_BASE, its process, and the URL it answers on. */
    private record Running(Path base, ExternalServer tomcat, URI url) {
    }

    /** Starts {@code tomcatDir}'s Tomcat with the WAR and {@code parameters} in its context file; waits for HTTP. */
    private Running startWar(String tomcatDir, Map<String, String> parameters) throws IOException {
        return startWar(tomcatDir, parameters, base -> { });
    }

    /** A change to a CATALINA_BASE before its Tomcat starts. */
    private interface BaseChange {
        void apply(Path base) throws IOException;
    }

    /**
     * As {@link #startWar(String, Map, BaseChange)}, with the WAR unpacked into webapps/sluice/ and its
     * WEB-INF/web.xml changed by {@code webXml}.
     */
    private Running startUnpackedWar(String tomcatDir, Map<String, String> parameters,
            java.util.function.UnaryOperator<String> webXml, BaseChange change) throws IOException {
        return startWar(tomcatDir, parameters, base -> {
            Files.delete(base.resolve("webapps/sluice.war"));
            Path app = base.resolve("webapps/sluice");
            SecurityDocs.unpack(WAR, app);
            Path descriptor = app.resolve("WEB-INF/web.xml");
            Files.writeString(descriptor, webXml.apply(Files.readString(descriptor)));
            change.apply(base);
        });
    }

    /** As {@link #startWar(String, Map)}, with {@code change} made to the CATALINA_BASE first. */
    private Running startWar(String tomcatDir, Map<String, String> parameters, BaseChange change)
            throws IOException {
        int port = ExternalServer.freePort();
        Path base = catalinaBase(tomcatDir, port, parameters);
        change.apply(base);
        ExternalServer tomcat = start(tomcatDir, base);
        URI url = URI.create("http://127.0.0.1:" + port + "/");
        tomcat.awaitHttp(url, START);
        return new Running(base, tomcat, url);
    }

    /**
     * A CATALINA_BASE of its own: a copy of conf/ with the HTTP connector on {@code port} (loopback only) and the
     * shutdown port off, the README's sed lines run on its server.xml, the WAR in webapps/, and the context file the
     * README shows.
     */
    private Path catalinaBase(String tomcatDir, int port, Map<String, String> parameters) throws IOException {
        Path base = work.resolve("catalina-base");
        for (String dir : List.of("logs", "temp", "work", "webapps", "conf/Catalina/localhost")) {
            Files.createDirectories(base.resolve(dir));
        }
        JettyModuleIT.copyTree(catalinaHome(tomcatDir).resolve("conf"), base.resolve("conf"));
        Path serverXml = base.resolve("conf/server.xml");
        String server = Files.readString(serverXml);
        assertTrue(server.contains("port=\"8080\"") && server.contains("<Server port=\"8005\"")
                && server.contains("connectionTimeout=\"20000\"") && server.split("</Host>", -1).length == 2,
                server);
        Files.writeString(serverXml, server.replace("port=\"8080\"", "port=\"" + port + "\" address=\"127.0.0.1\"")
                .replace("<Server port=\"8005\"", "<Server port=\"-1\""));
        runReadmeSeds(base);
        String changed = Files.readString(serverXml);
        assertTrue(changed.contains("connectionTimeout=\"65000\" keepAliveTimeout=\"20000\"")
                && changed.contains("showReport=\"false\" showServerInfo=\"false\"/></Host>"), changed);
        runReadmeSeds(base);
        assertEquals(changed, Files.readString(serverXml), "the README's lines run a second time change nothing");
        Files.copy(WAR, base.resolve("webapps/sluice.war"));
        String params = parameters.entrySet().stream()
                .map(e -> "  <Parameter name=\"" + e.getKey() + "\" value=\"" + e.getValue() + "\" override=\"false\"/>")
                .collect(Collectors.joining("\n"));
        Files.writeString(base.resolve("conf/Catalina/localhost/sluice.xml"),
                "<Context failCtxIfServletStartFails=\"true\">\n" + params + "\n</Context>\n");
        return base;
    }

    /**
     * Runs the lines of the README's Tomcat steps that edit {@code server.xml} ({@code sed -i}) on {@code base}, by
     * bash, as a user pasting them would: the connector's timeouts and the error report valve.
     */
    private static void runReadmeSeds(Path base) throws IOException {
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        int from = readme.indexOf("### Tomcat (11 and 10.1)");
        assertTrue(from >= 0, "the README's Tomcat section");
        List<String> seds = readme.subList(from, readme.size()).stream()
                .takeWhile(line -> !line.startsWith("### Jetty"))
                .filter(line -> line.contains("sed -i "))
                .toList();
        assertEquals(2, seds.size(), "the README's sed lines: " + seds);
        for (String sed : seds) {
            ProcessBuilder bash = new ProcessBuilder("bash", "-c", sed).redirectErrorStream(true);
            bash.environment().put("CATALINA_BASE", base.toString());
            Process process = bash.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                assertEquals(0, process.waitFor(), sed + ": " + output);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    private ExternalServer start(String tomcatDir, Path base) throws IOException {
        Path home = catalinaHome(tomcatDir);
        Path catalina = home.resolve("bin/catalina.sh");
        try (Stream<Path> scripts = Files.list(home.resolve("bin"))) {
            scripts.filter(p -> p.toString().endsWith(".sh")).forEach(p -> p.toFile().setExecutable(true));
        }
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("JRE_HOME", null);
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("CATALINA_TMPDIR", base.resolve("temp").toString());
        env.put("CATALINA_PID", null);
        env.put("CATALINA_OPTS", null);
        env.put("JAVA_OPTS", null);
        ExternalServer server = ExternalServer.start("Tomcat", List.of(catalina.toString(), "run"), env, base,
                base.resolve("logs/stdout.log"));
        servers.add(server);
        return server;
    }

    private static String status(URI url) {
        try {
            return new String(TestClient.get(url, "/sluice/.sluice/status").body(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(status unreadable: " + e + ")";
        }
    }

    /** Tomcat's log files named {@code prefix}*: catalina.* for the server, localhost.* for contexts. */
    private static String logs(Path base, String prefix) {
        try (Stream<Path> logs = Files.list(base.resolve("logs"))) {
            StringBuilder text = new StringBuilder();
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                text.append(Files.readString(log));
            }
            return text.toString();
        } catch (IOException e) {
            return "(logs unreadable: " + e + ")";
        }
    }

    /** A Tomcat distribution the build unpacked under target/{@code tomcatDir} in pre-integration-test. */
    private static Path catalinaHome(String tomcatDir) throws IOException {
        Path homes = Path.of("target", tomcatDir);
        try (Stream<Path> dirs = Files.isDirectory(homes) ? Files.list(homes) : Stream.empty()) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("bin/catalina.sh"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no Tomcat under " + homes.toAbsolutePath()
                            + ": run the integration tests through Maven (mvn verify), which unpacks it"))
                    .toAbsolutePath();
        }
    }
}
