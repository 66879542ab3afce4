package dev.sluice.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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

    private static final List<Path> KNOWN_PLACES = List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/local/sbin/nginx"),
            Path.of("/usr/local/nginx/sbin/nginx"));
    private static final Path SYSTEM_PID_FILE = Path.of("/run/nginx.pid");

    private Nginx() {
    }

    /**
     * The nginx binary, installed first if need be. Skips the calling test (a JUnit assumption) with a message
     * saying why when there is none and it cannot be installed here.
     */
    static Path binary() {
        return DebianTool.require("nginx", () -> DebianTool.find("nginx", KNOWN_PLACES).orElseGet(() -> {
            Optional<ProcessHandle> systemNginxBefore = systemNginx();
            try {
                return DebianTool.install(PACKAGE, "nginx", KNOWN_PLACES);
            } finally {
                if (systemNginxBefore.isEmpty()) {
                    systemNginx().ifPresent(ProcessHandle::destroy); // SIGTERM: nginx's fast shutdown
                }
            }
        }));
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
