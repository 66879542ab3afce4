package dev.sluice.stream;

import java.io.IOException;
import java.nio.MappedByteBuffer;

/**
 * The mapped counterpart of {@link ChunkRead}, run on the read pool: takes a span's slice of the file's mapping
 * and makes sure its pages are in memory, so the container thread that writes the chunks the transfer cuts from
 * it copies from memory and never waits for the disk. Pages the page cache holds already ({@code isLoaded()}: one
 * {@code mincore} call) are left alone; otherwise {@code load()} asks the kernel to read the whole span ahead
 * ({@code madvise}) and touches each page, which waits for the disk here. Under memory pressure the pages may be evicted again before
 * the write; then the write faults them in, as a read into a buffer would have read them.
 *
 * <p>Why not {@code load()} always: its {@code madvise} call per read was a quarter of the engine's system calls
 * when measured on a cached file, for nothing there; touching pages already mapped costs a memory read each.
 *
 * <p>A file truncated while its pages are loaded faults beyond its new end: the JVM raises that as an
 * {@link InternalError} in this thread, which is why it is caught here, and the transfer fails as for any
 * shrunk file.
 */
record MappedChunkRead(Transfer transfer, FileWindows windows, long position, int length, FileCheck check,
        StorageGauge gauge)
        implements Runnable {

    @Override
    public void run() {
        MappedByteBuffer span;
        try {
            StorageGauge.Start start = gauge.start();
            span = windows.slice(position, length);
            if (!span.isLoaded()) {
                span.load();
            }
            IOException changed = check == null ? null : check.problem();
            gauge.stop(start);
            if (changed != null) {
                throw changed;
            }
        } catch (Exception e) {
            transfer.readFailed(null, e);
            return;
        } catch (InternalError e) {
            transfer.readFailed(null, new FileShrankException(position, e));
            return;
        }
        transfer.spanMapped(span, position);
    }
}
