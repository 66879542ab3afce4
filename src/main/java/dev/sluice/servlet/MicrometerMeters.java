package dev.sluice.servlet;

import dev.sluice.ops.MetricFamilies;
import dev.sluice.ops.SluiceMeterBinder;
import dev.sluice.stream.TransferMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import jakarta.servlet.ServletContext;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The one class of the servlet that names Micrometer's types, loaded only after {@link Operations} found Micrometer
 * on the class path: the WAR has no Micrometer, and must run without it.
 */
final class MicrometerMeters {

    private static final Logger LOG = Logger.getLogger(MicrometerMeters.class.getName());

    private MicrometerMeters() {
    }

    /**
     * Binds a servlet's meters, tagged with its context path and name (as its MBean is named), to the registry in
     * the context attribute {@link Operations#METER_REGISTRY_ATTRIBUTE}, else to Micrometer's global registry.
     */
    static AutoCloseable bind(Supplier<TransferMetrics> metrics, ServletContext context, String servletName) {
        Object given = context == null ? null : context.getAttribute(Operations.METER_REGISTRY_ATTRIBUTE);
        MeterRegistry registry = given instanceof MeterRegistry r ? r : Metrics.globalRegistry;
        String contextPath = context == null ? "" : context.getContextPath();
        Tags base = Tags.of("context", contextPath.isEmpty() ? "/" : contextPath, "servlet", servletName);
        synchronized (MicrometerMeters.class) {
            // Two servlets of one name in one context path (tests start many): the second gets id=2, as in JMX.
            Tags tags = base;
            for (int id = 2; taken(registry, tags); id++) {
                tags = base.and("id", Integer.toString(id));
            }
            SluiceMeterBinder binder = new SluiceMeterBinder(metrics, tags);
            binder.bindTo(registry);
            LOG.fine(() -> "Sluice: " + binder.meters().size() + " meters bound to " + registry);
            return binder;
        }
    }

    /** Whether a servlet's meters with exactly these tags are in the registry. */
    private static boolean taken(MeterRegistry registry, Tags tags) {
        Set<Tag> wanted = new HashSet<>();
        tags.forEach(wanted::add);
        return registry.find(MetricFamilies.FAMILIES.get(0).micrometerName()).meters().stream()
                .anyMatch(meter -> new HashSet<>(meter.getId().getTags()).equals(wanted));
    }
}
