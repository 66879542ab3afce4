package dev.sluice.it;

import dev.sluice.servlet.SluiceServlet;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * {@link ResumeIT} on Tomcat with sendfile on: the same byte-exact checks for the bodies Tomcat sends itself. The
 * other containers are skipped here; {@link ResumeIT} runs them.
 */
class TomcatSendfileResumeIT extends ResumeIT {

    @Override
    ContainerKind.Running launch(ContainerKind kind, SluiceServlet servlet, Map<String, String> params)
            throws Exception {
        Assumptions.assumeTrue(kind == ContainerKind.TOMCAT, "sendfile is Tomcat's");
        return ContainerKind.startTomcatWithSendfile(servlet, params, 0);
    }
}
