package dev.sluice.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Tools the tests use and Sluice does not need, from Debian's packages (nginx too, for {@link Nginx}): the one on
 * the machine, else the package, once per JVM. Where there is none and it cannot be had, the calling test is
 * skipped with the reason.
 *
 * <ul>
 *   <li>{@link #chromium()}: headless Chromium for the status page, installed with {@code apt-get install} (root
 *       only).</li>
 *   <li>{@link #promtool()}: Prometheus' {@code promtool}, to check the metrics text. Installing the
 *       {@code prometheus} package would start a Prometheus server, so its binary is taken out of the package
 *       instead ({@code apt-get download}, {@code dpkg-deb -x} into {@code target/debs/}), which needs no root when
 *       the package lists are there.</li>
 *   <li>{@link #fusepy()}: Python's FUSE binding for the slow storage of {@link SlowFuse}, installed with
 *       {@code apt-get install} (root only).</li>
 * </ul>
 */
final class DebianTool {

    private static final Duration APT_DEADLINE = Duration.ofMinutes(6);
    private static final Path APT_GET = Path.of("/usr/bin/apt-get");
    private static final Map<String, Outcome> OUTCOMES = new HashMap<>();

    /** What one attempt to get a tool gave: its binary, or why there is none. */
    record Outcome(Path binary, String whyNot) {
    }

    private DebianTool() {
    }

    /** Chromium's binary, installed first if need be; skips the calling test when there is none. */
    static Path chromium() {
        List<Path> places = List.of(Path.of("/usr/bin/chromium"));
        return require("chromium", () -> find("chromium", places)
                .orElseGet(() -> install("chromium", "chromium", places)));
    }

    /** promtool, from the machine or out of Debian's {@code prometheus} package; skips the test when there is none. */
    static Path promtool() {
        Path extracted = Path.of("target", "debs", "prometheus", "usr", "bin", "promtool").toAbsolutePath();
        return require("promtool", () -> find("promtool", List.of(extracted))
                .orElseGet(() -> extract("prometheus", extracted)));
    }

    /**
     * Debian's {@code /usr/bin/python3} able to import {@code fusepy} (package {@code python3-fusepy}, which brings
     * libfuse2), for {@code bench/slowfs.py}; installed first if need be (root only); skips the test when there is
     * none.
     */
    static Path fusepy() {
        Path python = Path.of("/usr/bin/python3");
        return require("python3-fusepy", () -> {
            if (!Files.isExecutable(python)) {
                return new Outcome(null, "there is no " + python);
            }
            if (run(List.of(python.toString(), "-c", "import fusepy"), null) == null) {
                return new Outcome(python, null);
            }
            Outcome installed = install("python3-fusepy", "python3", List.of(python));
            if (installed.binary() == null) {
                return installed;
            }
            return run(List.of(python.toString(), "-c", "import fusepy"), null) == null ? new Outcome(python, null)
                    : new Outcome(null, "apt-get installed python3-fusepy, but " + python + " cannot import fusepy");
        });
    }

    /**
     * The binary {@code how} finds or gets, asked once per JVM for each {@code tool}; skips the calling test (a
     * JUnit assumption) with the reason when there is none.
     */
    static synchronized Path require(String tool, java.util.function.Supplier<Outcome> how) {
        Outcome outcome = OUTCOMES.computeIfAbsent(tool, t -> how.get());
        Assumptions.assumeTrue(outcome.binary() != null,
                () -> tool + " is not available, so this test is skipped: " + outcome.whyNot());
        return outcome.binary();
    }

    /** {@code name} on the PATH or in one of {@code places}, as a found outcome. */
    static Optional<Outcome> find(String name, List<Path> places) {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, name));
                }
            }
        }
        candidates.addAll(places);
        return candidates.stream().filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).findFirst()
                .map(p -> new Outcome(p, null));
    }

    private static String whyNotApt() {
        if (!System.getProperty("os.name").equals("Linux")) {
            return "getting it is only done on Debian-like Linux";
        }
        if (!Files.isExecutable(APT_GET)) {
            return "there is no apt-get to get it with";
        }
        return null;
    }

    private static boolean root() {
        return "root".equals(ProcessHandle.current().info().user().orElse(""));
    }

    /** Installs Debian's package {@code pkg} (root only), then looks for {@code binary} as {@link #find} does. */
    static Outcome install(String pkg, String binary, List<Path> places) {
        String whyNot = whyNotApt();
        if (whyNot != null) {
            return new Outcome(null, "not on PATH, and " + whyNot);
        }
        if (!root()) {
            return new Outcome(null, "not on PATH, and installing it (apt-get install " + pkg
                    + ") needs root; install it by hand to run this test");
        }
        List<String> command = List.of(APT_GET.toString(), "-o", "DPkg::Lock::Timeout=120", "install", "-y", "-q",
                "--no-install-recommends", pkg);
        String result = withUpdateOnFailure(command, null);
        if (result != null) {
            return new Outcome(null, "apt-get install " + pkg + " failed: " + result);
        }
        return find(binary, places).orElseGet(() -> new Outcome(null, "apt-get installed " + pkg + " but no " + binary + " was found"));
    }

    private static Outcome extract(String pkg, Path binary) {
        String whyNot = whyNotApt();
        if (whyNot != null) {
            return new Outcome(null, "not on PATH, and " + whyNot);
        }
        try {
            Path debs = Path.of("target", "debs").toAbsolutePath();
            Files.createDirectories(debs);
            String result = withUpdateOnFailure(List.of(APT_GET.toString(), "-q", "download", pkg), debs);
            if (result != null) {
                return new Outcome(null, "apt-get download " + pkg + " failed: " + result);
            }
            try (var files = Files.list(debs)) {
                Path deb = files.filter(f -> f.getFileName().toString().startsWith(pkg + "_")
                        && f.getFileName().toString().endsWith(".deb")).findFirst().orElse(null);
                if (deb == null) {
                    return new Outcome(null, "apt-get download " + pkg + " left no .deb in " + debs);
                }
                result = run(List.of("dpkg-deb", "-x", deb.toString(), debs.resolve(pkg).toString()), debs);
            }
            if (result != null) {
                return new Outcome(null, "dpkg-deb -x failed: " + result);
            }
            return Files.isExecutable(binary) ? new Outcome(binary, null)
                    : new Outcome(null, pkg + " holds no " + binary.getFileName());
        } catch (IOException e) {
            return new Outcome(null, e.toString());
        }
    }

    /** Runs an apt-get command; if it fails and this is root, updates the package lists and tries once more. */
    private static String withUpdateOnFailure(List<String> command, Path dir) {
        String result = run(command, dir);
        if (result != null && root()) {
            // A fresh machine may have no package lists yet, or stale ones naming versions no longer served.
            String update = run(List.of(APT_GET.toString(), "-o", "DPkg::Lock::Timeout=120", "update", "-q"), null);
            result = update != null ? "apt-get update failed: " + update : run(command, dir);
        }
        return result;
    }

    /** Runs one command to its end within the deadline; null when it succeeded, else why not. */
    private static String run(List<String> command, Path dir) {
        Path log = null;
        try {
            log = Files.createTempFile("sluice-apt", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            if (dir != null) {
                builder.directory(dir.toFile());
            }
            builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process process = builder.start();
            if (!process.waitFor(APT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                return "still running after " + APT_DEADLINE.toMinutes() + " min: " + String.join(" ", command);
            }
            if (process.exitValue() != 0) {
                String output = Files.readString(log, StandardCharsets.UTF_8);
                return "exit code " + process.exitValue() + " from " + String.join(" ", command) + ":\n"
                        + (output.length() <= 2000 ? output : "..." + output.substring(output.length() - 2000));
            }
            return null;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } finally {
            if (log != null) {
                log.toFile().delete();
            }
        }
    }
}
