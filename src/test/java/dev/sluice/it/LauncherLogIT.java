package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher jar's log under a flood of malformed Host headers: each request is refused (400) as before, but the
 * log grows by a bounded number of lines (Jetty wrote one WARN line per request, quoting the header), and never
 * with the client's bytes. Also what else the launcher tells strangers: one line for a port in use, no version.
 */
class LauncherLogIT {

    private static final int REQUESTS = 1_000;
    private static final String MARKER = "evil-log-marker";
    private static final String JETTY_DOUBLE_RELEASE = "IllegalStateException: already released";
    /** Malformed Host values, each of which made Jetty 12.1 write a WARN line (HostPort) quoting it. */
    private static final List<String> BAD_HOSTS = List.of("[" + MARKER + "::1", MARKER + " x", MARKER + ":port",
            "[::1]" + MARKER, MARKER + "\u00ff", "[" + MARKER + "]:1");

    @TempDir
    Path root;

    @TempDir
    Path work;

    /**
     * A port already in use: the launcher says so in one line and ends with exit code 2, as for a bad option. It
     * used to print a stack trace and live on, serving nothing, until its log manager gave up waiting for a stop
     * (and a supervisor would have taken it for a running server).
     */
    @Test
    void aPortInUseEndsTheLauncherWithOneLineAndExitCode2() throws Exception {
        ContainerKind.JETTY_EE11.assumeInThisRun();
        Path jar = Path.of("target", "sluice-launcher.jar").toAbsolutePath();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             ExternalServer process = ExternalServer.start("launcher", List.of(ExternalServer.java(), "-Xmx128m",
                     "-jar", jar.toString(), "--root", root.toString(), "--port",
                     Integer.toString(taken.getLocalPort())), Map.of(), work, work.resolve("launcher.log"))) {
            assertEquals(2, process.awaitExit(Duration.ofSeconds(60)), process.log());
            assertTrue(process.log().contains("sluice: could not start on --host 127.0.0.1 --port "
                    + taken.getLocalPort() + ": Failed to bind to /127.0.0.1:" + taken.getLocalPort()
                    + ": Address already in use\n"), process.log());
            assertFalse(process.log().contains("\tat "), "no stack trace: " + process.log());
        }
    }

    /**
     * The launcher names no server version: no {@code Server} header on a file or on Jetty's own 400 page for a
     * malformed path, and no version under that page (Jetty wrote "Powered by Jetty:// 12.1.x" there).
     */
    @Test
    void noServerVersionInAnswersOrErrorPages() throws Exception {
        ContainerKind.JETTY_EE11.assumeInThisRun();
        Files.writeString(root.resolve("hello.txt"), "hello");
        Path jar = Path.of("target", "sluice-launcher.jar").toAbsolutePath();
        try (ExternalServer process = ExternalServer.start("launcher", List.of(ExternalServer.java(), "-Xmx128m",
                "-jar", jar.toString(), "--root", root.toString(), "--port", "0"), Map.of(), work,
                work.resolve("launcher.log"))) {
            URI base = process.awaitLauncherUrl(Duration.ofSeconds(60));
            TestClient.Response file = TestClient.get(base, "/hello.txt");
            assertEquals(200, file.status());
            assertNull(file.header("Server"));
            TestClient.Response malformed = TestClient.get(base, "/%ff");
            assertEquals(400, malformed.status());
            assertNull(malformed.header("Server"));
            String page = new String(malformed.body(), StandardCharsets.ISO_8859_1);
            assertFalse(page.contains("Jetty://") || page.contains(org.eclipse.jetty.util.Jetty.VERSION), page);
        }
    }

    @Test
    void aThousandBadHostHeadersAddAtMostTwoLinesAndNoneOfTheirBytes() throws Exception {
        ContainerKind.JETTY_EE11.assumeInThisRun();
        Files.writeString(root.resolve("hello.txt"), "hello");
        Path jar = Path.of("target", "sluice-launcher.jar").toAbsolutePath();
        Path log = work.resolve("launcher.log");
        try (ExternalServer process = ExternalServer.start("launcher", List.of(ExternalServer.java(), "-Xmx128m",
                "-jar", jar.toString(), "--root", root.toString(), "--port", "0"), Map.of(), work, log)) {
            URI base = process.awaitLauncherUrl(Duration.ofSeconds(60));
            assertEquals(200, TestClient.get(base, "/hello.txt").status());
            List<String> before = Files.readAllLines(log, StandardCharsets.ISO_8859_1);

            int unanswered = 0;
            for (int i = 0; i < REQUESTS; i++) {
                String status = exchange(base, BAD_HOSTS.get(i % BAD_HOSTS.size()));
                if (status.isEmpty()) {
                    // Closed without an answer: seen once in a clean-clone run (request 172), never in 30,000 such
                    // requests alone. Allowed only with Jetty's own double-release warning in the log, the one
                    // known fault of this path (see withoutJettyDoubleRelease); anything else fails with the log.
                    int request = i;
                    Await.until("Jetty's double-release warning for unanswered request " + request,
                            Duration.ofSeconds(10), () -> process.log().contains(JETTY_DOUBLE_RELEASE), process::log);
                    unanswered++;
                    continue;
                }
                assertTrue(status.startsWith("HTTP/1.1 400 "), "request " + i + ": " + status);
            }
            assertTrue(unanswered <= 3, unanswered + " requests unanswered");
            assertEquals(200, TestClient.get(base, "/hello.txt").status(), "still serving");
            Await.until("the refusals are logged", Duration.ofSeconds(30),
                    () -> process.log().contains("Refused a malformed request"), process::log);

            List<String> after = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            List<String> added = after.subList(before.size(), after.size());
            System.out.printf("LauncherLogIT: %d malformed requests (%d unanswered) added %d log lines (%d bytes): %s%n",
                    REQUESTS, unanswered, added.size(), String.join("\n", added).length(), added);
            assertFalse(String.join("\n", added).contains(MARKER), "the client's bytes reached the log: " + added);
            List<String> counted = withoutJettyDoubleRelease(added);
            // One line for the first refusal; a second only if a minute passed (a slow machine).
            assertTrue(counted.size() <= 2, "lines added: " + counted);
        }
    }

    @Test
    void onlyJettysDoubleReleaseTraceIsSetAside() {
        String refusal = "[sluice-jetty-3] INFO dev.sluice.launcher.MalformedRequests - Refused a malformed request"
                + " (400 Bad HostPort); the next refusals are summed up here at most once a minute";
        String otherWarning = "[sluice-jetty-9] WARN org.eclipse.jetty.util.thread.QueuedThreadPool - Job failed,"
                + " java.lang.IllegalStateException: something else";
        List<String> lines = List.of(refusal,
                "[sluice-jetty-17] WARN org.eclipse.jetty.util.thread.QueuedThreadPool - Job failed,"
                        + " java.lang.IllegalStateException: already released"
                        + " oeji.Retainable$ReferenceCounter@588741f4[rc=0]",
                "\tat org.eclipse.jetty.io.Retainable$ReferenceCounter.release(Retainable.java:225)",
                "\tat org.eclipse.jetty.server.internal.HttpConnection.onFillable(HttpConnection.java:483)",
                otherWarning, "\tat somewhere.Else(Else.java:1)");
        assertEquals(List.of(refusal, otherWarning, "\tat somewhere.Else(Else.java:1)"),
                withoutJettyDoubleRelease(lines));
        // as Jetty's logger writes it (a clean-clone run): the exception on the line after "Job failed"
        List<String> twoLines = List.of(refusal,
                "[sluice-jetty-22] WARN org.eclipse.jetty.util.thread.QueuedThreadPool - Job failed",
                "java.lang.IllegalStateException: already released oeji.Retainable$ReferenceCounter@378c8eb6[rc=0]",
                "\tat org.eclipse.jetty.io.Retainable$ReferenceCounter.release(Retainable.java:225)",
                "\tat java.base/java.lang.Thread.run(Thread.java:840)",
                "[sluice-jetty-9] WARN org.eclipse.jetty.util.thread.QueuedThreadPool - Job failed",
                "java.lang.IllegalStateException: something else", "\tat somewhere.Else(Else.java:1)");
        assertEquals(List.of(refusal, twoLines.get(5), twoLines.get(6), twoLines.get(7)),
                withoutJettyDoubleRelease(twoLines));
    }

    /**
     * {@code lines} without Jetty's own warning of a request buffer released twice (its thread pool's "Job failed"
     * line and the stack trace under it). Jetty 12.1.12's {@code HttpConnection.onFillable} logged it once in five
     * clean-clone runs of this test (never in 200,000 such requests tried alone), an open Jetty bug
     * (jetty/jetty.project#12939) that no Sluice code takes part in: it is not one of the lines this test bounds,
     * and it carries no client bytes (asserted above on every line).
     */
    static List<String> withoutJettyDoubleRelease(List<String> lines) {
        List<String> kept = new ArrayList<>();
        boolean inTrace = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.contains("QueuedThreadPool - Job failed") && line.contains(JETTY_DOUBLE_RELEASE)) {
                inTrace = true;
            } else if (line.contains("QueuedThreadPool - Job failed") && i + 1 < lines.size()
                    && lines.get(i + 1).startsWith("java.lang." + JETTY_DOUBLE_RELEASE)) {
                inTrace = true; // Jetty's logger writes the exception on the line after the message
                i++;
            } else if (!(inTrace && (line.startsWith("\tat ") || line.startsWith("\t... ")))) {
                inTrace = false;
                kept.add(line);
            }
        }
        return kept;
    }

    /** Sends one request with {@code host} as its Host header; returns the status line. */
    private static String exchange(URI base, String host) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(10_000);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
            String request = "GET /hello.txt HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b >= 0 && b != '\r'; b = in.read()) {
                line.write(b);
            }
            return line.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
