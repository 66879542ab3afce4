package dev.sluice.servlet;

import dev.sluice.stream.TransferMetrics;
import java.lang.management.ManagementFactory;
import java.util.function.Supplier;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * One servlet's {@link TransfersMXBean}, registered while the servlet runs. Several Sluice servlets may share a
 * JVM (two webapps, or a test starting many servers), so a name already taken gets an {@code id} key added.
 * Unregistering on destroy matters beyond tidiness: in a container the MBean server would otherwise keep the
 * webapp's class loader alive after an undeploy.
 */
final class TransfersJmx implements TransfersMXBean {

    static final String DOMAIN = "dev.sluice";

    private final Supplier<TransferMetrics> metrics;
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private ObjectName name;

    private TransfersJmx(Supplier<TransferMetrics> metrics) {
        this.metrics = metrics;
    }

    /** Registers the counters under a name made of the context path and the servlet name. */
    static TransfersJmx register(Supplier<TransferMetrics> metrics, String contextPath, String servletName)
            throws JMException {
        TransfersJmx bean = new TransfersJmx(metrics);
        String base = DOMAIN + ":type=Transfers,context=" + ObjectName.quote(contextPath.isEmpty() ? "/" : contextPath)
                + ",servlet=" + ObjectName.quote(servletName);
        for (int id = 1; ; id++) {
            ObjectName candidate = new ObjectName(id == 1 ? base : base + ",id=" + id);
            try {
                bean.server.registerMBean(bean, candidate);
                bean.name = candidate;
                return bean;
            } catch (InstanceAlreadyExistsException taken) {
                // another servlet of the same name in the same context path: try the next id
            }
        }
    }

    ObjectName name() {
        return name;
    }

    void unregister() {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // someone removed it already: nothing left to do
        } catch (JMException e) {
            throw new IllegalStateException("could not unregister " + name, e);
        }
    }

    @Override
    public long getActiveTransfers() {
        return metrics.get().activeTransfers();
    }

    @Override
    public long getBytesSent() {
        return metrics.get().bytesSent();
    }

    @Override
    public long getCompleted() {
        return metrics.get().completed();
    }

    @Override
    public long getAborted() {
        return metrics.get().aborted();
    }

    @Override
    public long getFailed() {
        return metrics.get().failed();
    }

    @Override
    public long getBufferBytesInUse() {
        return metrics.get().bufferBytesInUse();
    }

    @Override
    public long getBufferBytesHighWater() {
        return metrics.get().bufferBytesHighWater();
    }

    @Override
    public long getBufferWaits() {
        return metrics.get().bufferWaits();
    }

    @Override
    public long getReadQueueLength() {
        return metrics.get().readQueueLength();
    }

    @Override
    public long getReads() {
        return metrics.get().reads();
    }

    @Override
    public long getHandedOff() {
        return metrics.get().handedOff();
    }

    @Override
    public long getBytesHandedOff() {
        return metrics.get().bytesHandedOff();
    }

    @Override
    public long getBufferBytesBudget() {
        return metrics.get().bufferBytesBudget();
    }

    @Override
    public long getClientRateGroups() {
        return metrics.get().clientRateGroups();
    }

    @Override
    public long getUserRateGroups() {
        return metrics.get().userRateGroups();
    }

    @Override
    public long getMappedWindows() {
        return metrics.get().mappedWindows();
    }

    @Override
    public long getReadThreads() {
        return metrics.get().readThreads();
    }

    @Override
    public long getSpanLoads() {
        return metrics.get().spanLoads();
    }
}
