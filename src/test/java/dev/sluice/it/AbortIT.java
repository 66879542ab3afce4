package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** 500 downloads killed after their first MiB leave nothing behind: transfers, buffers, file descriptors. */
class AbortIT {

    private static final int DOWNLOADS = 500;

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void abortedDownloadsLeaveNothingBehind(ContainerKind kind) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(64L * 1024 * 1024);
        }
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = launch(kind, servlet, Map.of("root", root.toString(),
                "chunkSize", "64KiB"))) {
            TestClient.get(container.uri(), "/missing"); // warm the container up before the baseline
            long baselineFds = OpenFiles.count();

            ExecutorService clients = Executors.newFixedThreadPool(50);
            try {
                List<Future<Boolean>> downloads = new ArrayList<>();
                for (int i = 0; i < DOWNLOADS; i++) {
                    downloads.add(clients.submit(() -> {
                        TestClient client = new TestClient(container.uri());
                        TestClient.Head head = client.send("GET", "/big.bin", Map.of(), true);
                        boolean gotFirstMiB = head.status() == 200 && client.skip(1024 * 1024);
                        client.abort();
                        return gotFirstMiB;
                    }));
                }
                for (Future<Boolean> download : downloads) {
                    assertTrue(download.get(), "a download did not get its first MiB");
                }
            } finally {
                clients.shutdownNow();
            }

            Await.until("every aborted transfer ended", Duration.ofSeconds(60),
                    () -> transfers(servlet, m -> m.aborted()) == DOWNLOADS && servlet.metrics().activeTransfers() == 0,
                    () -> servlet.metrics().toString());
            Await.until("every buffer back", Duration.ofSeconds(30),
                    () -> servlet.metrics().bufferBytesInUse() == 0, () -> servlet.metrics().toString());
            Await.until("no file under the root open", Duration.ofSeconds(30), () -> OpenFiles.countUnder(root) == 0,
                    () -> OpenFiles.countUnder(root) + " open");
            Await.until("file descriptors back at the baseline", Duration.ofSeconds(30),
                    () -> OpenFiles.count() <= baselineFds, () -> OpenFiles.count() + " open, baseline " + baselineFds);
            assertEquals(0, servlet.metrics().completed());
        }
    }

    /** Starts the container; {@link TomcatSendfileAbortIT} starts Tomcat with sendfile instead. */
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        return kind.start(servlet, params, 0);
    }

    /** Transfers that ended as {@code counter} counts them; where the container sends bodies, those handed off. */
    long transfers(SluiceServlet servlet, java.util.function.ToLongFunction<dev.sluice.stream.TransferMetrics> counter) {
        return counter.applyAsLong(servlet.metrics());
    }
}
