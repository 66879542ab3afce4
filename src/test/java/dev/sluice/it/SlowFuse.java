package dev.sluice.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;

/**
 * Slow storage for a test: {@code bench/slowfs.py} (the benchmark's) mounts a directory read-only through FUSE and
 * adds a latency to every read and a bandwidth cap to every open file. Mounting needs Linux, {@code /dev/fuse},
 * root and Debian's {@code python3-fusepy} ({@link DebianTool#fusepy()}); where one is missing, or the mount
 * fails (a container without the right to mount), the calling test is skipped with the reason.
 *
 * <p>Closing unmounts: SIGTERM makes slowfs unmount and exit; if it has not within {@link #STOP_WAIT}, the mount
 * is detached ({@code umount -l}) and the process killed, so a failed test leaves no mount behind.
 */
public final class SlowFuse implements AutoCloseable {

    private static final Path SCRIPT = Path.of("bench", "slowfs.py").toAbsolutePath();
    private static final Duration MOUNT_WAIT = Duration.ofSeconds(30);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    private final Process process;
    private final Path mountPoint;
    private final Path log;

    private SlowFuse(Process process, Path mountPoint, Path log) {
        this.process = process;
        this.mountPoint = mountPoint;
        this.log = log;
    }

    /** Mounts {@code source} on {@code mountPoint} (an empty directory) with the latency and cap given. */
    static SlowFuse mount(Path source, Path mountPoint, int latencyMillis, int megabytesPerSecond)
            throws IOException {
        return mount(source, mountPoint, latencyMillis, megabytesPerSecond, null);
    }

    /**
     * As above; with {@code stats}, slowfs writes there the most reads it has had in flight at once
     * ({@link #mostReadsInFlight}).
     */
    public static SlowFuse mount(Path source, Path mountPoint, int latencyMillis, int megabytesPerSecond,
            Path stats) throws IOException {
        return mount(source, mountPoint, latencyMillis, megabytesPerSecond, stats, null);
    }

    /**
     * As above; with {@code hold}, every {@code getattr}, {@code readdir} and {@code open} waits while that file
     * exists (create it to stall the mount as a network mount stalls, delete it to let the calls go on), and slowfs
     * writes the number of calls waiting to a file beside it ({@link #callsWaiting}).
     */
    static SlowFuse mount(Path source, Path mountPoint, int latencyMillis, int megabytesPerSecond, Path stats,
            Path hold) throws IOException {
        return mount(source, mountPoint, latencyMillis, megabytesPerSecond, stats, hold, -1);
    }

    /**
     * A mount with no latency and no cap on which a read of a file whose name starts with {@code broken} fails with
     * EIO once it reaches past {@code failAfter} bytes, as a failing disk's does, and an open of a file whose name
     * starts with {@code unopenable} fails with EMFILE, as in a process with no descriptor left; other files read as
     * they are.
     */
    static SlowFuse mountFailing(Path source, Path mountPoint, long failAfter) throws IOException {
        return mount(source, mountPoint, 0, 0, null, null, failAfter);
    }

    private static SlowFuse mount(Path source, Path mountPoint, int latencyMillis, int megabytesPerSecond,
            Path stats, Path hold, long failAfter) throws IOException {
        Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux"), "FUSE is only tried on Linux");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "there is no /dev/fuse here");
        Assumptions.assumeTrue("root".equals(ProcessHandle.current().info().user().orElse("")),
                "mounting the slow FUSE file system needs root here");
        if (!Files.isRegularFile(SCRIPT)) {
            throw new IllegalStateException("missing " + SCRIPT);
        }
        Path python = DebianTool.fusepy();
        Path log = Files.createTempFile("sluice-slowfs", ".log");
        List<String> command = new ArrayList<>(List.of(python.toString(), SCRIPT.toString(), source.toString(),
                mountPoint.toString(), "--latency-ms", Integer.toString(latencyMillis), "--mbps",
                Integer.toString(megabytesPerSecond), "--stats", stats == null ? "" : stats.toString()));
        if (hold != null) {
            command.addAll(List.of("--hold", hold.toString()));
        }
        if (failAfter >= 0) {
            command.addAll(List.of("--fail-after", Long.toString(failAfter)));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        SlowFuse fuse = new SlowFuse(process, mountPoint, log);
        long end = System.nanoTime() + MOUNT_WAIT.toNanos();
        while (!fuse.mounted()) {
            if (!process.isAlive() || System.nanoTime() > end) {
                String output = fuse.output();
                fuse.close();
                Assumptions.abort("the slow FUSE file system could not be mounted here: " + output);
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
        return fuse;
    }

    /** The most reads slowfs had in flight at once so far, from the mount's {@code stats} file (0: none yet). */
    public static int mostReadsInFlight(Path stats) throws IOException {
        return Files.exists(stats) ? Integer.parseInt(Files.readString(stats, StandardCharsets.US_ASCII).strip()) : 0;
    }

    /** Calls waiting now at a mount made with {@code hold} (0: none yet). */
    static int callsWaiting(Path hold) throws IOException {
        return mostReadsInFlight(hold.resolveSibling(hold.getFileName() + ".waiting"));
    }

    /** Whether the kernel lists the mount point (/proc/self/mountinfo, field 5). */
    boolean mounted() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
        String point = mountPoint.toAbsolutePath().toString();
        return lines.stream().map(line -> line.split(" ")).anyMatch(fields -> fields.length > 4
                && fields[4].equals(point));
    }

    private String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            process.destroy();
            if (!process.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS) || mounted()) {
                new ProcessBuilder("umount", "-l", mountPoint.toString()).inheritIO().start().waitFor(
                        STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                process.destroyForcibly().waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Files.deleteIfExists(log);
        }
        if (mounted()) {
            throw new IllegalStateException("still mounted: " + mountPoint);
        }
    }
}
