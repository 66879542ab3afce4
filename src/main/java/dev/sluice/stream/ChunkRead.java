package dev.sluice.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * One positional read of a chunk, run on the read pool. Positional reads leave the channel's own position
 * alone, so the same channel could be read by several threads; the transfer keeps one read in flight anyway.
 * A read that meets the end of the file before {@code length} bytes means the file shrank: the response
 * promised bytes that no longer exist. After the read, when {@code check} is given, the file is checked against
 * the version the response announced ({@link FileCheck}): the bytes just read may belong to a file rewritten in
 * place. The read and the check are timed for the {@link StorageGauge}; what the transfer does with the chunk
 * afterwards, on this same thread, is not a read.
 */
record ChunkRead(Transfer transfer, FileChannel channel, long position, int length, ByteBuffer buffer,
        FileCheck check, StorageGauge gauge)
        implements Runnable {

    @Override
    public void run() {
        try {
            StorageGauge.Start start = gauge.start();
            buffer.clear().limit(length);
            readFully(channel, buffer, position);
            buffer.flip();
            IOException changed = check == null ? null : check.problem();
            gauge.stop(start);
            if (changed != null) {
                throw changed;
            }
        } catch (Exception e) {
            transfer.readFailed(buffer, e);
            return;
        }
        transfer.readCompleted(buffer);
    }

    /**
     * Fills {@code buffer} (to its limit) with the file's bytes from {@code position} on, by positional reads.
     *
     * @throws FileShrankException when the file ends first
     */
    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        int first = buffer.position();
        while (buffer.hasRemaining()) {
            long at = position + buffer.position() - first;
            if (channel.read(buffer, at) < 0) {
                throw new FileShrankException(Math.min(at, channel.size()));
            }
        }
    }
}
