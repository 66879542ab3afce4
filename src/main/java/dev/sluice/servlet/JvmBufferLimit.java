package dev.sluice.servlet;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;

/**
 * The most memory this JVM can give chunk buffers: the heap's maximum for heap buffers, and for direct ones
 * {@code -XX:MaxDirectMemorySize}, which unset is the heap's maximum too. Why it matters: a {@code maxBufferMemory}
 * above it is a budget the pool cannot keep, and the allocations past the JVM's limit fail the downloads that asked
 * instead of making them wait.
 *
 * @param bytes the limit in bytes ({@link Long#MAX_VALUE}: none known)
 * @param source what sets it, for messages: the JVM option an operator would raise
 */
record JvmBufferLimit(long bytes, String source) {

    /** The limit for direct buffers ({@code direct}) or heap ones. */
    static JvmBufferLimit of(boolean direct) {
        long heap = Runtime.getRuntime().maxMemory();
        if (!direct) {
            return new JvmBufferLimit(heap, "the heap's maximum, -Xmx");
        }
        try {
            HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            VMOption option = hotSpot.getVMOption("MaxDirectMemorySize");
            if (option.getOrigin() != VMOption.Origin.DEFAULT) { // given, even as 0, which allows no direct memory
                return new JvmBufferLimit(Long.parseLong(option.getValue()), "-XX:MaxDirectMemorySize");
            }
            return new JvmBufferLimit(heap, "-XX:MaxDirectMemorySize, unset: the heap's maximum, -Xmx");
        } catch (RuntimeException | LinkageError e) { // not HotSpot, no jdk.management, or an unreadable value
            return new JvmBufferLimit(heap, "-XX:MaxDirectMemorySize, unknown: taken as the heap's maximum, -Xmx");
        }
    }
}
