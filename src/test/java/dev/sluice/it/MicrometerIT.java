package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * With Micrometer on the class path, a servlet binds its meters to the application's registry (here Micrometer's
 * global one, as Spring Boot fills it) while it runs, with the engine's numbers, and removes them when destroyed.
 */
class MicrometerIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theServletsMetersAreInTheApplicationsRegistryWhileItRuns(ContainerKind kind) throws Exception {
        kind.assumeInThisRun();
        org.junit.jupiter.api.Assumptions.assumeTrue(micrometerPresent(),
                "Micrometer is not on this run's class path (the servlet-6.0 run leaves it out, as the WAR does)");
        WithMicrometer.check(kind, root);
    }

    private static boolean micrometerPresent() {
        try {
            Class.forName("io.micrometer.core.instrument.MeterRegistry");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Apart, so that this test class loads where Micrometer is missing. */
    private static final class WithMicrometer {

        static void check(ContainerKind kind, Path root) throws Exception {
            byte[] data = Downloads.write(root, "a.bin", 2 * 1024 * 1024 + 3);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Metrics.addRegistry(registry);
            try {
                SluiceServlet servlet = new SluiceServlet();
                try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString()), 0)) {
                    assertEquals(data.length, TestClient.get(container.uri(), "/a.bin").body().length);
                    Await.until("completed", DEADLINE, () -> servlet.metrics().completed() == 1);
                    TransferMetrics m = servlet.metrics();
                    assertEquals(1, registry.get("sluice.transfers").tag("outcome", "completed").tag("servlet", "sluice")
                            .tag("context", "/").functionCounter().count());
                    assertEquals(m.bytesSent(), registry.get("sluice.bytes.sent").tag("servlet", "sluice")
                            .functionCounter().count());
                    assertEquals(data.length, m.bytesSent());
                    assertEquals(m.bufferBytesBudget(), registry.get("sluice.buffer.budget").gauge().value());
                    assertEquals(1, registry.get("sluice.transfer.duration").functionTimer().count());
                    assertTrue(registry.get("sluice.transfer.duration").functionTimer().totalTime(TimeUnit.SECONDS) > 0);
                    assertEquals(0, registry.get("sluice.active.transfers").gauge().value());

                    SluiceServlet second = new SluiceServlet();
                    try (ContainerKind.Running again = kind.start(second, Map.of("root", root.toString()), 0)) {
                        assertEquals(0, registry.get("sluice.bytes.sent").tag("id", "2").functionCounter().count(),
                                "a second servlet of the same name gets its own meters, as in JMX");
                    }
                    assertEquals(data.length, registry.get("sluice.bytes.sent").tag("servlet", "sluice")
                            .functionCounter().count(), "the first servlet's meters stay");
                    assertEquals(0, registry.find("sluice.bytes.sent").tag("id", "2").meters().size());
                }
                assertEquals(0, registry.find("sluice.bytes.sent").meters().size(), "a stopped servlet left its meters");
                assertEquals(0, Metrics.globalRegistry.find("sluice.bytes.sent").meters().size());
            } finally {
                Metrics.removeRegistry(registry);
            }
        }
    }
}
