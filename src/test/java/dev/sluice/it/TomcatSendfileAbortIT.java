package dev.sluice.it;

import dev.sluice.servlet.SluiceServlet;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * {@link AbortIT} on Tomcat with sendfile on: the same byte-exact checks for the bodies Tomcat sends itself. The
 * other containers are skipped here; {@link AbortIT} runs them.
 */
class TomcatSendfileAbortIT extends AbortIT {

    @Override
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        Assumptions.assumeTrue(kind == ContainerKind.TOMCAT, "sendfile is Tomcat's");
        return ContainerKind.startTomcatWithSendfile(servlet, params, 0);
    }

    /** Every download here is handed to Tomcat: counting those proves the sendfile path was taken. */
    @Override
    long transfers(SluiceServlet servlet, java.util.function.ToLongFunction<dev.sluice.stream.TransferMetrics> counter) {
        return super.transfers(servlet, m -> m.handedOff());
    }
}
