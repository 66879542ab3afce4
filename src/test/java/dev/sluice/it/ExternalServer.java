package dev.sluice.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real container (Jetty's start.jar, Tomcat's catalina.sh) run as a separate process, its output going to a
 * log file. Closing it always ends the process and everything it started, within a bound.
 */
final class ExternalServer implements AutoCloseable {

    private static final Pattern LAUNCHER_URL = Pattern.compile("Sluice serving .* at (http://\\S+/)");

    private final String name;
    private final Process process;
    private final Path log;

    private ExternalServer(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code command} in {@code dir}, with {@code env} added to (or, for a null value, removed from) ours. */
    static ExternalServer start(String name, List<String> command, Map<String, String> env, Path dir, Path log)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(nullFile()));
        env.forEach((key, value) -> {
            if (value == null) {
                builder.environment().remove(key);
            } else {
                builder.environment().put(key, value);
            }
        });
        return new ExternalServer(name, builder.start(), log);
    }

    private static java.io.File nullFile() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    /** The java of the JVM running the tests. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A port free right now on loopback (a container may still lose it to a race; that fails the test loudly). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Runs a short command (such as start.jar --add-modules) to its end; fails with its output otherwise. */
    static String run(List<String> command, Path dir, Duration deadline) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "run", ".log");
        try (ExternalServer run = start(String.join(" ", command), command, Map.of(), dir, out)) {
            if (!run.process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("still running after " + deadline.toSeconds() + " s: " + command
                        + "\n" + run.log());
            }
            if (run.process.exitValue() != 0) {
                throw new AssertionError("exit code " + run.process.exitValue() + ": " + command + "\n" + run.log());
            }
            return run.log();
        }
    }

    /** Everything the process wrote so far. */
    String log() {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits until {@code base} answers HTTP; fails at once, with the process output, if the process ends. */
    void awaitHttp(URI base, Duration deadline) {
        Await.until(name + " answers on " + base, deadline, () -> {
            if (!process.isAlive()) {
                throw new AssertionError(name + " ended with exit code " + process.exitValue() + " before it "
                        + "answered on " + base + ":\n" + log());
            }
            return answers(base);
        }, () -> "; output so far:\n" + log());
    }

    /**
     * Waits until a launcher process prints the URL it serves on ({@code Sluice serving ... at URL}) and returns
     * it, with localhost as 127.0.0.1; fails at once, with the process output, if the process ends.
     */
    URI awaitLauncherUrl(Duration deadline) {
        String[] found = new String[1];
        Await.until("the launcher prints its URL", deadline, () -> {
            if (!process.isAlive()) {
                throw new AssertionError("the launcher ended:\n" + log());
            }
            Matcher m = LAUNCHER_URL.matcher(log());
            if (m.find()) {
                found[0] = m.group(1).replace("localhost", "127.0.0.1");
            }
            return found[0] != null;
        }, this::log);
        return URI.create(found[0]);
    }

    /** Waits until the process ends and returns its exit code; fails with its output if it lives on. */
    int awaitExit(Duration deadline) {
        Await.until(name + " ends", deadline, () -> !process.isAlive(), () -> "; output so far:\n" + log());
        return process.exitValue();
    }

    /** Waits until the process ends or {@code base} answers; true if it ended. */
    boolean awaitExitOrHttp(URI base, Duration deadline) {
        Await.until(name + " ends or answers on " + base, deadline, () -> !process.isAlive() || answers(base),
                () -> "; output so far:\n" + log());
        return !process.isAlive();
    }

    private static boolean answers(URI base) {
        try {
            TestClient.exchange(base, "HEAD", "/", Map.of());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The process and its descendants (start.jar may fork the JVM that runs the server). */
    List<ProcessHandle> processes() {
        return Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
    }

    /** Ends the process as Ctrl-C would (SIGTERM), then forcibly if it lingers; children too. */
    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            Stream.concat(children.stream(), process.descendants()).filter(ProcessHandle::isAlive)
                    .forEach(ProcessHandle::destroyForcibly);
        }
    }
}
