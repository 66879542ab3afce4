package dev.sluice.it;

import dev.sluice.servlet.SluiceServlet;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * {@link DownloadIT} on Tomcat with sendfile on: the same byte-exact checks for the bodies Tomcat sends itself. The
 * other containers are skipped here; {@link DownloadIT} runs them.
 */
class TomcatSendfileDownloadIT extends DownloadIT {

    @Override
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        Assumptions.assumeTrue(kind == ContainerKind.TOMCAT, "sendfile is Tomcat's");
        return ContainerKind.startTomcatWithSendfile(servlet, params, 0);
    }

    /** Every download here is handed to Tomcat: counting those proves the sendfile path was taken. */
    @Override
    long transfers(java.util.function.ToLongFunction<dev.sluice.stream.TransferMetrics> counter) {
        return super.transfers(m -> m.handedOff());
    }
}
