package dev.sluice.servlet;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.sluice.stream.BufferKind;
import java.lang.management.ManagementFactory;

/**
 * The most memory this JVM can give chunk buffers of a kind: the heap's maximum for heap buffers; for direct ones
 * (and mapped, which fall back to direct buffers for short regions) {@code -XX:MaxDirectMemorySize}, which unset is
 * the heap's maximum too. Why it matters: a {@code maxBufferMemory} above it is a budget the pool cannot keep,
 * and the allocations past the JVM's limit fail the downloads that asked instead of making them wait.
 *
 * @param bytes the limit in bytes ({@link Long#MAX_VALUE}: none known)
 * @param source what sets it, for messages: the JVM option an operator would raise
 */
record JvmBufferLimit(long bytes, String source) {

    static JvmBufferLimit of(BufferKind kind) {
        long heap = Runtime.getRuntime().maxMemory();
        if (kind == BufferKind.HEAP) {
            return new JvmBufferLimit(heap, "the heap's maximum, -Xmx");
        }
        long direct = maxDirectMemorySize();
        return direct > 0 ? new JvmBufferLimit(direct, "-XX:MaxDirectMemorySize")
                : new JvmBufferLimit(heap, "-XX:MaxDirectMemorySize, unset: the heap's maximum, -Xmx");
    }

    /** The option's value, or 0 when it is unset or this JVM does not say. */
    private static long maxDirectMemorySize() {
        try {
            HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return hotSpot == null ? 0 : Long.parseLong(hotSpot.getVMOption("MaxDirectMemorySize").getValue());
        } catch (RuntimeException | LinkageError e) { // not HotSpot, or the option unknown or not a number
            return 0;
        }
    }
}
