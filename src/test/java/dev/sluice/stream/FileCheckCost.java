package dev.sluice.stream;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What the in-place change check ({@link FileCheck}) costs: the CPU time of one check on a real file, and so per GB
 * served, at one check per {@link Transfer#CHECK_EVERY} bytes plus one before the last byte. CPU time of this thread,
 * not wall time, so the figure holds on a shared machine. Not a test: {@code java -cp
 * target/classes:target/test-classes dev.sluice.stream.FileCheckCost [FILE]} (a 1 MiB file in the temporary
 * directory without one).
 */
public final class FileCheckCost {

    private FileCheckCost() {
    }

    public static void main(String[] args) throws Exception {
        Path file = args.length > 0 ? Path.of(args[0]) : Files.write(Files.createTempFile("filecheck", ".bin"),
                new byte[1024 * 1024]);
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        FileVersion version = new FileVersion(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            FileCheck check = new FileCheck(channel, version, file);
            int checks = 200_000;
            for (int round = 1; round <= 5; round++) {
                long cpu = threads.getCurrentThreadCpuTime();
                long wall = System.nanoTime();
                for (int i = 0; i < checks; i++) {
                    if (check.problem() != null) {
                        throw new IllegalStateException("the file changed while it was measured");
                    }
                }
                double cpuMicros = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / checks;
                double wallMicros = (System.nanoTime() - wall) / 1e3 / checks;
                double perGb = 1e9 / Transfer.CHECK_EVERY + 1;
                System.out.printf("round %d: %.2f µs CPU per check (%.2f µs wall); %.1f ms CPU per GB served"
                        + " (%.0f checks per GB)%n", round, cpuMicros, wallMicros, cpuMicros * perGb / 1e3, perGb);
            }
        }
    }
}
