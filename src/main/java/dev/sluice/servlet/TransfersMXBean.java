package dev.sluice.servlet;

/**
 * The engine's counters as a JMX MXBean, registered by each Sluice servlet as
 * {@code dev.sluice:type=Transfers,context=<context path>,servlet=<servlet name>} in the platform MBean server
 * (jconsole, VisualVM, Jetty's {@code jmx-remote} module). Each attribute is read when asked for.
 */
public interface TransfersMXBean {

    long getActiveTransfers();

    long getBytesSent();

    long getCompleted();

    long getAborted();

    long getFailed();

    long getBufferBytesInUse();

    long getBufferBytesHighWater();

    long getBufferWaits();

    long getReadQueueLength();

    /** File reads started since start: a chunk read into a buffer, or a span of a mapped file made resident. */
    long getReads();

    /** Bodies handed to the container to send by itself (Tomcat's sendfile): the engine never saw their bytes. */
    long getHandedOff();

    /** The planned lengths of the bodies counted by {@link #getHandedOff()}. */
    long getBytesHandedOff();

    /** The most chunk-buffer bytes all transfers may hold ({@code maxBufferMemory}). */
    long getBufferBytesBudget();

    /** Clients with a {@code limitRatePerClient} group now. */
    long getClientRateGroups();

    /** Users with a {@code limitRatePerUser} group now. */
    long getUserRateGroups();

    /** Windows of files mapped now ({@code bufferKind=mapped}). */
    long getMappedWindows();

    /** Read threads alive now: {@code readThreads}, and up to {@code maxReadThreads} while reads wait for the storage. */
    long getReadThreads();

    /** Spans of mapped files being read from the storage now. */
    long getSpanLoads();
}
