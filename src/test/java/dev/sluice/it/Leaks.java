package dev.sluice.it;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import java.nio.file.Path;
import java.time.Duration;

/** The check every integration test ends with: nothing a download held is still held. */
public final class Leaks {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private Leaks() {
    }

    /** Waits until every transfer ended, every buffer is back and no file under {@code root} is open. */
    public static void assertNothingHeld(SluiceServlet servlet, Path root) {
        Await.until("every transfer ended and every buffer returned", DEADLINE, () -> {
            TransferMetrics m = servlet.metrics();
            return m.activeTransfers() == 0 && m.bufferBytesInUse() == 0;
        }, () -> servlet.metrics().toString());
        Await.until("no file under the root left open", DEADLINE, () -> OpenFiles.countUnder(root) == 0,
                () -> OpenFiles.countUnder(root) + " open");
    }
}
