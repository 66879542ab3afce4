package dev.sluice.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.Setting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {

    @TempDir
    Path root;

    /**
     * A SIGTERM that came while the server started, before Jetty could register its stop at shutdown: the server
     * stops at once instead of serving on through the JVM's exit. Not too late: it serves as ever.
     */
    @Test
    void aServerThatStartedWhileTheJvmShutsDownStopsAtOnce() throws Exception {
        Files.writeString(root.resolve("a.txt"), "a");
        Launcher launcher = Launcher.start("127.0.0.1", 0, Map.of("root", root.toString()));
        try {
            URI url = URI.create(launcher.url() + "a.txt");
            HttpClient client = HttpClient.newHttpClient();
            assertFalse(launcher.stopIfTooLate(() -> false));
            assertEquals("a", client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString())
                    .body());
            assertTrue(launcher.stopIfTooLate(() -> true));
            assertThrows(java.net.ConnectException.class,
                    () -> new java.net.Socket(url.getHost(), url.getPort()).close(), "the port still takes connections");
        } finally {
            launcher.stop();
        }
    }

    /**
     * A port already taken: start fails, and what it had started (Jetty's pool, whose threads are not daemons, the
     * engine's threads) is stopped, so the JVM can exit instead of living on serving nothing.
     */
    @Test
    void aStartThatCannotBindThrowsAndLeavesNoThreadOfItsOwn() throws Exception {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Exception e = assertThrows(Exception.class,
                    () -> Launcher.start("127.0.0.1", taken.getLocalPort(), Map.of("root", root.toString())));
            assertTrue(Launcher.describe(e).contains("Failed to bind") && Launcher.describe(e).contains("in use"),
                    Launcher.describe(e));
        }
        java.util.function.Supplier<java.util.List<String>> left = () -> Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && !t.isDaemon())
                .map(Thread::getName).toList();
        dev.sluice.it.Await.until("the failed start's threads end", Duration.ofSeconds(10), () -> left.get().isEmpty(),
                () -> "threads left: " + left.get());
    }

    @Test
    void parsesHostPortAndEverySettingInBothForms() {
        Launcher.Options options = Launcher.parse(new String[] {"--root", "/srv", "--port=9000", "--host", "::1",
            "--chunkSize=1MiB", "--readAhead", "3"});
        assertEquals("::1", options.host());
        assertEquals(9000, options.port());
        assertEquals(Map.of("root", "/srv", "chunkSize", "1MiB", "readAhead", "3"), options.settings());
        assertFalse(options.help());
        assertTrue(options.http2(), "h2c is on unless asked otherwise");
        assertEquals(Duration.ofSeconds(30), options.stopTimeout(), "the default grace period");
        assertTrue(Launcher.parse(new String[] {"--help"}).help());
    }

    @Test
    void stopTimeoutTakesTheServletsDurationFormsAndZero() {
        Map<String, Duration> forms = Map.of("0", Duration.ZERO, "0s", Duration.ZERO, "1500ms",
                Duration.ofMillis(1500), "45", Duration.ofSeconds(45), "45s", Duration.ofSeconds(45), "2m",
                Duration.ofMinutes(2), "1H", Duration.ofHours(1), "10 s", Duration.ofSeconds(10));
        forms.forEach((value, expected) -> {
            Launcher.Options options = Launcher.parse(new String[] {"--stopTimeout=" + value, "--root", "/srv"});
            assertEquals(expected, options.stopTimeout(), value);
            assertEquals(Map.of("root", "/srv"), options.settings(), "a launcher option, not a servlet setting");
        });
        assertEquals(Duration.ofSeconds(5), Launcher.parse(new String[] {"--stopTimeout", "5s"}).stopTimeout());
        for (String bad : new String[] {"", "-1s", "5 minutes", "1.5s", "s", "1d"}) {
            assertEquals("option --stopTimeout has invalid value '" + bad
                            + "': expected a duration such as 0, 500ms, 30s, 5m or 1h",
                    assertThrows(IllegalArgumentException.class,
                            () -> Launcher.parse(new String[] {"--stopTimeout=" + bad})).getMessage());
        }
        assertTrue(Setting.byKey("stopTimeout").isEmpty(), "stopTimeout must stay out of the servlet's settings");
    }

    @Test
    void http2IsASwitchThatTakesAnExplicitBoolean() {
        Launcher.Options bare = Launcher.parse(new String[] {"--http2", "--root", "/srv"});
        assertTrue(bare.http2());
        assertEquals(Map.of("root", "/srv"), bare.settings(), "a bare --http2 must not take the next argument");
        assertFalse(Launcher.parse(new String[] {"--http2=false"}).http2());
        assertTrue(Launcher.parse(new String[] {"--http2=false", "--http2=true"}).http2());
        assertEquals("option --http2 has invalid value 'no': expected true or false",
                assertThrows(IllegalArgumentException.class,
                        () -> Launcher.parse(new String[] {"--http2=no"})).getMessage());
    }

    @Test
    void sendfileIsRemoteByDefaultABareSwitchForEveryClientAndTakesItsWords() {
        assertEquals(Launcher.Sendfile.REMOTE, Launcher.parse(new String[] {"--root", "/srv"}).sendfile(),
                "to clients on other machines unless told otherwise");
        assertEquals(Launcher.Sendfile.OFF, Launcher.parse(new String[] {"--sendfile=false"}).sendfile());
        Launcher.Options bare = Launcher.parse(new String[] {"--sendfile=false", "--sendfile", "--root", "/srv"});
        assertEquals(Launcher.Sendfile.ALWAYS, bare.sendfile());
        assertEquals(Map.of("root", "/srv"), bare.settings(), "a bare --sendfile must not take the next argument");
        assertEquals(Launcher.Sendfile.ALWAYS, Launcher.parse(new String[] {"--sendfile=true"}).sendfile());
        assertEquals(Launcher.Sendfile.REMOTE,
                Launcher.parse(new String[] {"--sendfile", "--sendfile=remote"}).sendfile());
        assertEquals(Launcher.Sendfile.OFF, Launcher.parse(new String[] {"--sendfile", "--sendfile=false"}).sendfile());
        assertEquals("option --sendfile has invalid value 'yes': expected remote, true or false",
                assertThrows(IllegalArgumentException.class,
                        () -> Launcher.parse(new String[] {"--sendfile=yes"})).getMessage());
    }

    @Test
    void refusesUnknownOptionsBadPortsAndMissingValues() {
        assertEquals("unknown option --chunksize; did you mean --chunkSize?", assertThrows(
                IllegalArgumentException.class, () -> Launcher.parse(new String[] {"--chunksize=1"})).getMessage());
        assertEquals("unknown option --prot; did you mean --port?", assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--prot=80"})).getMessage());
        assertEquals("unknown option --colour", assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--colour=red"})).getMessage());
        assertEquals("unknown option --colour", assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--colour"})).getMessage(), "a wrong name, before a missing value");
        assertEquals("unknown option --requestHeaderTimout; did you mean --requestHeaderTimeout?", assertThrows(
                IllegalArgumentException.class, () -> Launcher.parse(new String[] {"--requestHeaderTimout=5s"}))
                .getMessage());
        assertEquals("unknown option --sing; did you mean --sign?", assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--sing=/a"})).getMessage());
        assertEquals("option --chunkSize needs a value", assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--chunkSize"})).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Launcher.parse(new String[] {"--port=http"})).getMessage().contains("'http'"));
        assertThrows(IllegalArgumentException.class, () -> Launcher.parse(new String[] {"--port", "70000"}));
        assertThrows(IllegalArgumentException.class, () -> Launcher.parse(new String[] {"--root"}));
        assertThrows(IllegalArgumentException.class, () -> Launcher.parse(new String[] {"stray"}));
    }

    @Test
    void helpListsEverySetting() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Launcher.usage(new PrintStream(text, true, StandardCharsets.UTF_8));
        String help = text.toString(StandardCharsets.UTF_8);
        for (Setting<?> setting : Setting.values()) {
            assertTrue(help.contains("--" + setting.key() + "="), setting.key());
        }
        assertEquals(1, help.split("--sendfile=", -1).length - 1, "one --sendfile line, the launcher's: " + help);
        assertTrue(help.contains("--sendfile=remote"), help);
        assertTrue(help.contains("--http2=true"), help);
        assertTrue(help.contains("--http2=false"), help);
        assertTrue(help.contains("--stopTimeout=30s"), help);
        assertTrue(help.contains("--requestHeaderTimeout=20s"), help);
    }

    @Test
    void requestHeaderTimeoutIsALauncherOptionWithAPositiveDuration() {
        assertEquals(Duration.ofSeconds(20), Launcher.parse(new String[0]).requestHeaderTimeout(), "the default");
        Map<String, Duration> forms = Map.of("500ms", Duration.ofMillis(500), "5", Duration.ofSeconds(5), "10s",
                Duration.ofSeconds(10), "1m", Duration.ofMinutes(1), "24h", Duration.ofHours(24));
        forms.forEach((value, expected) -> {
            Launcher.Options options = Launcher.parse(new String[] {"--requestHeaderTimeout=" + value, "--root",
                "/srv"});
            assertEquals(expected, options.requestHeaderTimeout(), value);
            assertEquals(Map.of("root", "/srv"), options.settings(), "a launcher option, not a servlet setting");
        });
        for (String bad : new String[] {"", "0", "0s", "-1s", "25h", "1d", "soon"}) {
            assertEquals("option --requestHeaderTimeout has invalid value '" + bad
                            + "': expected a positive duration up to 24h such as 500ms, 20s or 1m",
                    assertThrows(IllegalArgumentException.class,
                            () -> Launcher.parse(new String[] {"--requestHeaderTimeout=" + bad})).getMessage());
        }
        assertTrue(Setting.byKey("requestHeaderTimeout").isEmpty(), "a connector option, not a servlet setting");
    }

    /** One acceptor, a selector per two cores, as many reserved threads, and max(8, 4 x cores) workers. */
    @Test
    void theThreadPoolIsBoundedByTheCores() {
        Map<Integer, Integer> maxByCores = Map.of(1, 11, 2, 11, 4, 21, 8, 41, 16, 81);
        maxByCores.forEach((cores, max) -> {
            QueuedThreadPool pool = Launcher.threadPool(cores);
            assertEquals(max, pool.getMaxThreads(), cores + " cores");
            assertEquals(Launcher.selectors(cores), pool.getReservedThreads(), cores + " cores");
            assertEquals(8, pool.getMinThreads(), cores + " cores");
            int leased = Launcher.ACCEPTORS + 2 * Launcher.selectors(cores);
            assertEquals(Math.max(8, 4 * cores), max - leased, "workers left after Jetty's leases, " + cores
                    + " cores");
        });
    }

    @Test
    void theConnectorFollowsTheSettings() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello");
        for (String stall : new String[] {null, "90s"}) {
            Map<String, String> settings = stall == null ? Map.of("root", root.toString())
                    : Map.of("root", root.toString(), "stallTimeout", stall);
            Launcher launcher = Launcher.start("127.0.0.1", 0, true, Duration.ofSeconds(1), Duration.ofSeconds(7),
                    settings);
            try {
                ServerConnector connector = (ServerConnector) launcher.server().getConnectors()[0];
                assertEquals(stall == null ? 65_000 : 95_000, connector.getIdleTimeout(),
                        "Jetty's idle timeout is stallTimeout + 5 s, the stall check's backstop");
                assertEquals(Launcher.ACCEPT_QUEUE, connector.getAcceptQueueSize());
                assertEquals(Launcher.ACCEPTORS, connector.getAcceptors());
                int cores = Runtime.getRuntime().availableProcessors();
                assertEquals(Launcher.selectors(cores), connector.getSelectorManager().getSelectorCount());
                assertEquals(Launcher.threadPool(cores).getMaxThreads(),
                        ((QueuedThreadPool) launcher.server().getThreadPool()).getMaxThreads());
                assertEquals(0, launcher.headerDeadlineCloses());
                HttpResponse<String> response = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(launcher.url() + "hello.txt")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals("hello", response.body());
            } finally {
                launcher.stop();
            }
        }
    }

    @Test
    void malformedRequestsAreLoggedOnceAndThenAtMostOnceAMinute() {
        AtomicLong now = new AtomicLong(1_000);
        MalformedRequests log = new MalformedRequests(now::get);
        String first = log.count(400, "Bad Host \u0001" + "x".repeat(100));
        assertTrue(first.startsWith("Refused a malformed request (400 Bad Host ?xxx"), first);
        assertTrue(first.length() < 250, "the reason is cut short: " + first);
        for (int i = 0; i < 999; i++) {
            now.addAndGet(50_000_000); // 50 ms: 999 more within 50 s
            assertEquals(null, log.count(i % 10 == 0 ? 431 : 400, "Bad Authority"), "request " + i);
        }
        now.addAndGet(MalformedRequests.INTERVAL.toNanos());
        assertEquals("1000 malformed requests refused since the last such line {400=900, 431=100}, the last: 400 Bad"
                + " Authority", log.count(400, "Bad Authority"));
        assertEquals(null, log.count(505, null), "the next minute has begun");
    }

    @Test
    void helpEndsWithEverySettingItsDefaultAndItsDescriptionWithTheDeclaredBounds() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Launcher.usage(new PrintStream(text, true, StandardCharsets.UTF_8));
        String help = text.toString(StandardCharsets.UTF_8);
        StringBuilder settings = new StringBuilder();
        for (Setting<?> setting : Launcher.settingsInHelp()) {
            String option = "--" + setting.key() + "=" + (setting.defaultValue() == null ? "DIR" : setting.defaultValue());
            settings.append(option.length() > 27 ? "  " + option + "\n" + " ".repeat(30) : String.format("  %-28s", option))
                    .append(setting.description()).append('\n');
        }
        assertTrue(help.endsWith("\n" + settings), "expected --help to end with:\n" + settings + "\nbut it is:\n" + help);
        assertTrue(help.contains("\n  --chunkSize=256KiB          Largest chunk per file read and write (chunks adapt from"
                + " 16KiB up to it): 1KiB to 16MiB.\n"), help);
        assertTrue(help.contains("\n  --attachmentExtensions=     Comma-separated extensions"
                + " (e.g. 'zip,iso') sent as downloads (Content-Disposition: attachment).\n"), help);
    }

    /**
     * A name with "%" in it, linked by the listing as "%25": served (Jetty alone refuses "%25" as ambiguous), and
     * the other ambiguous encodings are still refused before Sluice sees them.
     */
    @Test
    void aFileWithAPercentSignInItsNameIsServedAndTheListingLinksWork() throws Exception {
        Files.writeString(root.resolve("100%.txt"), "a hundred percent");
        Files.writeString(root.resolve("%2e%2e"), "a name, not a step up");
        Launcher launcher = Launcher.start("127.0.0.1", 0, Map.of("root", root.toString(), "dirListing", "true"));
        try {
            HttpClient client = HttpClient.newHttpClient();
            java.util.function.Function<String, HttpResponse<String>> get = path -> {
                try {
                    return client.send(HttpRequest.newBuilder(URI.create(launcher.url() + path)).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (Exception e) {
                    throw new AssertionError(path, e);
                }
            };
            String listing = get.apply("").body();
            assertTrue(listing.contains("href=\"100%25.txt\""), listing);
            assertEquals("a hundred percent", get.apply("100%25.txt").body());
            assertEquals(200, get.apply("100%25.txt").statusCode());
            assertEquals("a name, not a step up", get.apply("%252e%252e").body(), "decoded once: a literal name");
            assertEquals(400, get.apply("%2e%2e/hello.txt").statusCode(), "an encoded dot segment stays refused");
            assertEquals(400, get.apply("a%2fb").statusCode(), "an encoded slash stays refused");
        } finally {
            launcher.stop();
        }
    }

    /** {@code OPTIONS *} asks about the server as a whole: the same methods as for a file. */
    @Test
    void optionsForTheWholeServerAnswersTheMethodsSluiceServes() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello");
        Launcher launcher = Launcher.start("127.0.0.1", 0, Map.of("root", root.toString()));
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", URI.create(launcher.url()).getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            String[] heads = answers.split("\r\n\r\n");
            assertEquals(2, heads.length, answers);
            for (String head : heads) {
                assertTrue(head.startsWith("HTTP/1.1 200 "), answers);
                assertTrue(head.contains("\r\nAllow: " + ServerWideOptions.ALLOW), answers);
                assertTrue(head.contains("\r\nContent-Length: 0"), answers);
            }
        } finally {
            launcher.stop();
        }
    }

    @Test
    void servesH2cByUpgradeUnlessHttp2IsOff() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello");
        for (boolean http2 : new boolean[] {true, false}) {
            Launcher launcher = Launcher.start("127.0.0.1", 0, http2, Map.of("root", root.toString()));
            try {
                HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()
                        .send(HttpRequest.newBuilder(URI.create(launcher.url() + "hello.txt")).build(),
                                HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertEquals("hello", response.body());
                assertEquals(http2 ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1, response.version());
            } finally {
                launcher.stop();
            }
        }
    }

    @Test
    void servesADirectoryOnAFreePort() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello");
        Launcher launcher = Launcher.start("127.0.0.1", 0, Map.of("root", root.toString()));
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(launcher.url() + "hello.txt")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("hello", response.body());
        } finally {
            launcher.stop();
        }
    }

    @Test
    void theDemoDirectoryHasAnIndexAndSampleFiles() throws Exception {
        Path demo = Launcher.createDemoDirectory();
        assertTrue(Files.readString(demo.resolve("index.html")).contains("Sluice"));
        assertEquals(16L << 20, Files.size(demo.resolve("sample-16MiB.bin")));
    }
}
