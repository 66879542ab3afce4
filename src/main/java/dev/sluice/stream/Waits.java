package dev.sluice.stream;

/**
 * Time spent parked, by what was awaited, in nanoseconds: the client's socket, a disk read, a buffer from the
 * spent budget, a speed limit. Tells a slow client from a slow disk, a spent memory budget or a speed limit.
 *
 * @param socketNanos parked because the client's socket took no more data
 * @param readNanos parked waiting for a read of the next chunk
 * @param bufferNanos parked because the buffer budget ({@code maxBufferMemory}) was spent
 * @param throttleNanos parked by a speed limit
 */
public record Waits(long socketNanos, long readNanos, long bufferNanos, long throttleNanos) {

    public static final Waits NONE = new Waits(0, 0, 0, 0);
}
