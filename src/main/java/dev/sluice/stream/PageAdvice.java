package dev.sluice.stream;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.Buffer;
import java.nio.MappedByteBuffer;

/**
 * Asks Linux to start reading pages of a mapping and returns without waiting for them: {@code
 * madvise(MADV_WILLNEED)}, the first half of {@link MappedByteBuffer#load()} (whose second half touches every page
 * and so waits for each). Java 17 has no public call for the first half alone; the JDK's own native method is
 * reached only when the JVM opens {@code java.nio} to Sluice ({@code --add-opens java.base/java.nio=ALL-UNNAMED};
 * the launcher's jar says so in its manifest). Without it, {@link #available()} is false and nothing here is used.
 *
 * <h2>Why</h2>
 * Linux caps one advice at the device's read-ahead (128 KiB by default and on FUSE mounts), and a page fault reads
 * about as much and waits for it. So a read thread that loads a span of 4 MiB from storage that answers every read
 * 5 ms late waits 32 times in a row, about 20 MB/s, unless other threads load pieces beside it ({@link SpanLoad}),
 * and then only as many pieces are in flight as threads are free. Advised piece by piece first, every piece of the
 * span is read at once by one thread: measured on the benchmark's FUSE mount (5 ms per read, 100 MB/s per open
 * file), 8 MiB in 78 ms (the mount's bandwidth) instead of 438 ms piece after piece. This is what the kernel's
 * read-ahead does for a blocking server's {@code sendfile} and {@code read}, and nginx's {@code aio threads} by
 * its many threads.
 *
 * <p>Thread-safe and stateless; the handles are looked up once.
 */
final class PageAdvice {

    /** Bytes one advice asks for: Linux's default read-ahead, the most one advice reads (see {@link SpanLoad}). */
    static final int PIECE = SpanLoad.PIECE;

    private static final PageAdvice SYSTEM = lookUp();

    private final MethodHandle willNeed; // MappedMemoryUtils.load0(long address, long length): madvise(WILLNEED)
    private final VarHandle address; // Buffer.address
    private final long pageSize;
    private final String unavailable;

    private PageAdvice(MethodHandle willNeed, VarHandle address, long pageSize, String unavailable) {
        this.willNeed = willNeed;
        this.address = address;
        this.pageSize = pageSize;
        this.unavailable = unavailable;
    }

    /** Advice not to be used, for the reason given. */
    static PageAdvice none(String why) {
        return new PageAdvice(null, null, 0, why);
    }

    /** The JVM's: available when {@code java.nio} is open to Sluice's module (the unnamed one, in a jar or WAR). */
    static PageAdvice system() {
        return SYSTEM;
    }

    private static PageAdvice lookUp() {
        try {
            Class<?> utils = Class.forName("java.nio.MappedMemoryUtils");
            Class<?> bits = Class.forName("java.nio.Bits");
            MethodHandles.Lookup nio = MethodHandles.privateLookupIn(utils, MethodHandles.lookup());
            MethodHandle load0 = nio.findStatic(utils, "load0", MethodType.methodType(void.class, long.class,
                    long.class));
            VarHandle address = MethodHandles.privateLookupIn(Buffer.class, MethodHandles.lookup())
                    .findVarHandle(Buffer.class, "address", long.class);
            int pageSize = (int) MethodHandles.privateLookupIn(bits, MethodHandles.lookup())
                    .findStatic(bits, "pageSize", MethodType.methodType(int.class)).invoke();
            return new PageAdvice(load0, address, pageSize, null);
        } catch (Throwable e) { // not opened (IllegalAccessException), or another JDK's internals
            return new PageAdvice(null, null, 0, e.toString());
        }
    }

    /** Whether {@link #willNeed} can be called. */
    boolean available() {
        return willNeed != null;
    }

    /** Why not, for the start-up log; null when available. */
    String unavailable() {
        return unavailable;
    }

    /**
     * Starts the reads of {@code [offset, offset + length)} of {@code pages} (widened to whole pages) and returns
     * without waiting for them; pages already resident are left alone by the kernel.
     *
     * @throws IllegalStateException when not {@link #available()}
     * @throws Throwable what {@code madvise} reports, as the JDK's {@code load()} would (an {@code IOException})
     */
    void willNeed(MappedByteBuffer pages, int offset, int length) throws Throwable {
        if (!available()) {
            throw new IllegalStateException("no page advice: " + unavailable);
        }
        java.util.Objects.checkFromIndexSize(offset, length, pages.capacity());
        if (length == 0) {
            return;
        }
        long start = (long) address.get(pages) + offset;
        long aligned = start - Math.floorMod(start, pageSize);
        willNeed.invokeExact(aligned, start + length - aligned);
    }
}
