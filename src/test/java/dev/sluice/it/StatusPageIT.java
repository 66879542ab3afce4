package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The live status page in a real browser: headless Chromium (Debian's package, installed by the test when it runs
 * as root, else the test is skipped with the reason) loads the status path while slow downloads run, and the test
 * reads what the page shows after its script ran: every transfer's file, and a progress value that grows from one
 * load to the next. It also takes a screenshot, {@code target/status-page-<container>.png}; with
 * {@code -Dsluice.it.screenshot=docs/status-page.png} the Jetty ee11 one is copied there for the README.
 */
class StatusPageIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration BROWSER_DEADLINE = Duration.ofSeconds(90);
    private static final String STATUS = "/.sluice/status";
    private static final Pattern ROW = Pattern.compile("<tr data-file=\"([^\"]*)\" data-sent=\"(\\d+)\""
            + " data-length=\"(\\d+)\">");

    @TempDir
    Path root;

    @TempDir
    Path profile;

    /** A download kept running by a background reader until {@link #close()} resets its connection. */
    private static final class Download implements AutoCloseable {
        final TestClient client;
        final Thread reader;
        final AtomicBoolean stop = new AtomicBoolean();

        Download(URI uri, String from, String path, Map<String, String> headers, long pauseMillis) throws IOException {
            client = new TestClient(uri, pauseMillis > 0 ? 16 * 1024 : 0, InetAddress.getByName(from));
            client.send("GET", path, headers, true);
            reader = new Thread(() -> {
                byte[] buffer = new byte[pauseMillis > 0 ? 16 * 1024 : 256 * 1024];
                try {
                    while (!stop.get() && client.read(buffer, 0, buffer.length) >= 0) {
                        if (pauseMillis > 0) {
                            Thread.sleep(pauseMillis);
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    // reset by close()
                }
            }, "download " + path);
            reader.setDaemon(true);
            reader.start();
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            client.abort();
            reader.join(10_000);
        }
    }

    private void sparse(String name, long size) throws IOException {
        Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(size);
        }
    }

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void aBrowserSeesEveryTransferInFlightAndItsProgressGrow(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        Path chromium = DebianTool.chromium();
        // Large enough to outlast the test at these speeds, small enough that the bars move.
        sparse("videos/sintel-4k.mkv", 160L << 20);
        sparse("datasets/imagenet-val.tar", 120L << 20);
        sparse("releases/sluice-1.0.iso", 700L << 20);
        sparse("backups/db-2025-06-01.dump", 64L << 20);
        SluiceServlet servlet = new SluiceServlet();
        List<Download> downloads = new ArrayList<>();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(), "statusPath",
                STATUS, "limitRate", "2MiB", "globalRate", "5MiB", "chunkSize", "64KiB", "bufferKind", "direct",
                "maxBufferMemory", "1MiB"), 0)) {
            URI uri = container.uri();
            downloads.add(new Download(uri, "127.0.0.2", "/videos/sintel-4k.mkv", Map.of(), 0));
            downloads.add(new Download(uri, "127.0.0.3", "/datasets/imagenet-val.tar", Map.of(), 0));
            downloads.add(new Download(uri, "127.0.0.4", "/releases/sluice-1.0.iso",
                    Map.of("Range", "bytes=629145600-"), 0));
            downloads.add(new Download(uri, "127.0.0.5", "/backups/db-2025-06-01.dump", Map.of(), 40));
            Await.until("four downloads in flight", DEADLINE, () -> servlet.metrics().activeTransfers() == 4,
                    servlet.metrics()::toString);

            URI page = uri.resolve(STATUS);
            Map<String, Long> first = rows(dumpDom(chromium, page));
            assertEquals(List.of("/backups/db-2025-06-01.dump", "/datasets/imagenet-val.tar",
                    "/releases/sluice-1.0.iso", "/videos/sintel-4k.mkv"), first.keySet().stream().sorted().toList(),
                    "the page lists every transfer in flight, by file");
            AtomicReference<String> later = new AtomicReference<>("");
            Await.until("every transfer's progress grew on the page", BROWSER_DEADLINE, () -> {
                later.set(dumpDomUnchecked(chromium, page));
                Map<String, Long> second = rows(later.get());
                return first.keySet().stream().allMatch(f -> second.getOrDefault(f, 0L) > first.get(f));
            }, () -> "first " + first + ", then " + rows(later.get()));
            String dom = later.get();
            assertTrue(dom.contains("speed limit"), "a throttled download says it waits for a speed limit");
            assertTrue(dom.contains("127.0.0.4") && dom.contains("bytes 629145600-734003199/734003200"), dom);
            assertTrue(dom.contains("all downloads (globalRate)"), "the rate group is shown");
            assertTrue(dom.contains("<progress"), "a progress bar per transfer");

            Path shot = Path.of("target", "status-page-" + kind.name().toLowerCase(java.util.Locale.ROOT) + ".png")
                    .toAbsolutePath();
            screenshot(chromium, page, shot);
            byte[] png = Files.readAllBytes(shot);
            assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a screenshot");
            String copyTo = System.getProperty("sluice.it.screenshot");
            if (copyTo != null && kind == ContainerKind.JETTY_EE11) {
                Files.copy(shot, Path.of(copyTo), StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            for (Download download : downloads) {
                download.close();
            }
        }
        Leaks.assertNothingHeld(servlet, root);
    }

    /** The file and bytes sent of each transfer row the page drew. */
    private static Map<String, Long> rows(String dom) {
        Map<String, Long> rows = new LinkedHashMap<>();
        Matcher row = ROW.matcher(dom);
        while (row.find()) {
            rows.put(row.group(1), Long.parseLong(row.group(2)));
            assertTrue(Long.parseLong(row.group(2)) <= Long.parseLong(row.group(3)));
        }
        assertTrue(!rows.isEmpty(), "the page shows no transfer:\n" + dom);
        return rows;
    }

    private String dumpDomUnchecked(Path chromium, URI page) {
        try {
            return dumpDom(chromium, page);
        } catch (Exception e) {
            throw new IllegalStateException("chromium could not dump " + page, e);
        }
    }

    private String dumpDom(Path chromium, URI page) throws Exception {
        return run(chromium, List.of("--dump-dom", "--virtual-time-budget=3000", page.toString()), true);
    }

    private void screenshot(Path chromium, URI page, Path file) throws Exception {
        run(chromium, List.of("--screenshot=" + file, "--window-size=1200,800", "--hide-scrollbars",
                "--virtual-time-budget=3500", page.toString()), false);
        assertTrue(Files.isRegularFile(file), "no screenshot");
    }

    /** Runs headless Chromium to its end; its standard output when {@code output}. */
    private String run(Path chromium, List<String> arguments, boolean output) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-first-run",
                "--no-default-browser-check", "--mute-audio", "--user-data-dir=" + profile));
        command.addAll(arguments);
        Path out = Files.createTempFile(profile.getParent(), "chromium", ".out");
        Path err = Files.createTempFile(profile.getParent(), "chromium", ".err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .start();
        try {
            if (!process.waitFor(BROWSER_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("Chromium still running after " + BROWSER_DEADLINE + ": " + command
                        + "\n" + Files.readString(err));
            }
            assertEquals(0, process.exitValue(), () -> "Chromium failed: " + command + "\n" + read(err));
            return output ? Files.readString(out, StandardCharsets.UTF_8) : "";
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            process.descendants().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
