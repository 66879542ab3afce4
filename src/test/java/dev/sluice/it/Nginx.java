package dev.sluice.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * nginx for the tests that put Sluice behind a load balancer: the one on this machine, else Debian's package,
 * installed once per JVM when the tests run as root on a machine with {@code apt-get}. Where neither works the
 * calling test class is skipped, with the reason, rather than failed: nginx is the tests' tool, not Sluice's.
 *
 * <p>Installing is idempotent across test classes (one attempt per JVM, its outcome remembered) and across
 * processes (apt waits for dpkg's lock instead of failing). The package's own service is not wanted: the tests
 * run nginx with their own configuration, prefix and port ({@link #command}); if installing started the system
 * nginx, it is stopped again.
 */
final class Nginx {

    /** Debian's package with the nginx binary alone (bookworm's nginx-light is this plus the echo module). */
    static final String PACKAGE = "nginx";

    private static final Duration APT_DEADLINE = Duration.ofMinutes(4);
    private static final List<Path> KNOWN_PLACES = List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/local/sbin/nginx"),
            Path.of("/usr/local/nginx/sbin/nginx"));
    private static final Path SYSTEM_PID_FILE = Path.of("/run/nginx.pid");

    /** The outcome of the one attempt this JVM makes: the binary, or why there is none. */
    private record Outcome(Path binary, String whyNot) {
    }

    private static Outcome outcome;

    private Nginx() {
    }

    /**
     * The nginx binary, installed first if need be. Skips the calling test (a JUnit assumption) with a message
     * saying why when there is none and it cannot be installed here.
     */
    static Path binary() {
        Outcome found = findOrInstall();
        Assumptions.assumeTrue(found.binary() != null,
                () -> "nginx is not available, so this load-balancer test is skipped: " + found.whyNot());
        return found.binary();
    }

    private static synchronized Outcome findOrInstall() {
        if (outcome == null) {
            outcome = find().map(binary -> new Outcome(binary, null)).orElseGet(Nginx::install);
        }
        return outcome;
    }

    private static Optional<Path> find() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "nginx"));
                }
            }
        }
        candidates.addAll(KNOWN_PLACES);
        return candidates.stream().filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).findFirst();
    }

    private static Outcome install() {
        if (!System.getProperty("os.name").equals("Linux")) {
            return new Outcome(null, "not on PATH, and installing it is only done on Debian-like Linux");
        }
        if (!"root".equals(ProcessHandle.current().info().user().orElse(""))) {
            return new Outcome(null, "not on PATH, and installing it (apt-get install " + PACKAGE
                    + ") needs root; install it by hand to run this test");
        }
        Path aptGet = Path.of("/usr/bin/apt-get");
        if (!Files.isExecutable(aptGet)) {
            return new Outcome(null, "not on PATH, and there is no apt-get to install it with");
        }
        Optional<ProcessHandle> systemNginxBefore = systemNginx();
        List<String> installCommand = List.of(aptGet.toString(), "-o", "DPkg::Lock::Timeout=120", "install", "-y",
                "-q", "--no-install-recommends", PACKAGE);
        String result = apt(installCommand);
        if (result != null) {
            // A fresh machine may have no package lists yet, or stale ones naming versions no longer served.
            String update = apt(List.of(aptGet.toString(), "-o", "DPkg::Lock::Timeout=120", "update", "-q"));
            result = update != null ? "apt-get update failed: " + update : apt(installCommand);
        }
        if (systemNginxBefore.isEmpty()) {
            systemNginx().ifPresent(ProcessHandle::destroy); // SIGTERM: nginx's fast shutdown
        }
        if (result != null) {
            return new Outcome(null, "apt-get install " + PACKAGE + " failed: " + result);
        }
        return find().map(binary -> new Outcome(binary, null))
                .orElseGet(() -> new Outcome(null, "apt-get installed " + PACKAGE + " but no nginx binary was found"));
    }

    /** Runs one apt-get command to its end within the deadline; null when it succeeded, else why not. */
    private static String apt(List<String> command) {
        Path log = null;
        try {
            log = Files.createTempFile("sluice-apt", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(Map.of("DEBIAN_FRONTEND", "noninteractive"));
            Process process = builder.start();
            if (!process.waitFor(APT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                return "still running after " + APT_DEADLINE.toMinutes() + " min: " + String.join(" ", command);
            }
            if (process.exitValue() != 0) {
                return "exit code " + process.exitValue() + " from " + String.join(" ", command) + ":\n"
                        + tail(Files.readString(log, StandardCharsets.UTF_8));
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

    private static String tail(String output) {
        return output.length() <= 2000 ? output : "..." + output.substring(output.length() - 2000);
    }

    /** The system nginx's master, if one runs (Debian's service writes its pid here). */
    private static Optional<ProcessHandle> systemNginx() {
        try {
            if (!Files.isRegularFile(SYSTEM_PID_FILE)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(SYSTEM_PID_FILE).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The command that runs nginx in the foreground with {@code conf}, every file it writes (pid, logs, temp
     * files) under {@code prefix}, none in the system's places.
     */
    static List<String> command(Path binary, Path prefix, Path conf) {
        return List.of(binary.toString(), "-p", prefix.toString(), "-e", prefix.resolve("error.log").toString(),
                "-c", conf.toString(), "-g", "daemon off;");
    }

    /** The {@code user} line a configuration needs: workers of a root master otherwise run as an unprivileged user
     * who cannot enter a test's private temporary directory. */
    static String userDirective() {
        return "root".equals(ProcessHandle.current().info().user().orElse("")) ? "user root root;\n" : "";
    }
}
