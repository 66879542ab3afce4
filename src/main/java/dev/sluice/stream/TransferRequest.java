package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything the engine needs to send one response body, for {@link TransferEngine#start}. Build one with
 * {@link #of} and add what the caller knows with the {@code with...} methods.
 *
 * @param out the response's output stream; its request must already be in async mode
 * @param channel the open file the body's regions are read from; {@code null} for a body of literal bytes only
 *        (a small file a cache holds), which no read touches
 * @param body the body, in order: regions of the file and literal bytes
 * @param listener told exactly once how the transfer ended
 * @param file the file's version: transfers of equal versions share the file's mappings
 *        ({@code bufferKind=mapped}), and the transfer checks after each read and before the last byte that the
 *        open file still has this size; {@code null}: the transfer maps the file for itself and only checks that
 *        the file still reaches the body's last region
 * @param path where the file was opened, with {@code file}: the checks also look there for a change in place
 *        (same file key, new modification time), which a size check misses once the file has grown back;
 *        {@code null}: size checks only
 * @param clientKey the client: transfers with equal keys share one {@code limitRatePerClient} budget. Opaque to the
 *        engine (the servlet passes the client's address); {@code null}: in no client's group
 * @param userKey the user: transfers with equal keys share one {@code limitRatePerUser} budget. Opaque like
 *        {@code clientKey} (the servlet passes the authenticated user, or the key an application gave);
 *        {@code null}: in no user's group
 * @param rate this transfer's own speed limit, instead of the engine's {@code limitRate} and
 *        {@code limitRateAfter}; {@code null}: the engine's
 * @param label names the transfer in its flight-recorder event ({@link TransferEvent}); not interpreted
 * @param startChunk the chunk size an earlier transfer to the same client earned
 *        ({@link TransferSummary#earnedChunk}): this one starts there, as a client already proven, instead of at
 *        16 KiB (see {@link ChunkSizer}); capped at this transfer's own largest chunk. 0: nothing known, start
 *        small. Pass only what the same client earned: one client's history must not speed up another's start
 * @param mappedChunks whether the body's long regions may reach {@code out} as slices of the file's mapping, where
 *        the engine maps files ({@code bufferKind=mapped}); false: pooled buffers only. Only a container that gives
 *        a written buffer to the kernel as it is should get slices: one that copies it in user space (Tomcat, the
 *        part of a write its socket did not take; TLS, which encrypts it) would read pages a truncation of the
 *        file took away, a fault the JVM reports only later, as an {@code InternalError} in whatever that thread
 *        does next (another download, the pool's own code), where nothing can tell it from a bug
 * @param lastByteAlone whether the body's last byte goes in a write of its own, made once the container has sent
 *        everything before it; false: the last chunk goes whole, one write less per body. A container whose write
 *        that reaches the Content-Length may block the writing thread needs it (Tomcat 11's HTTP/2 ends a stream
 *        with a blocking flush in that write, see {@code Transfer}); false is for a container known to end a
 *        response without blocking (Jetty; Tomcat on HTTP/1.1). A body whose last chunk is a slice of the file's
 *        mapping ends with its last byte alone, read from the file, whatever this says: the file is checked once
 *        more only after the container has sent the rest of that chunk
 */
public record TransferRequest(ServletOutputStream out, FileChannel channel, List<Segment> body,
        TransferListener listener, FileVersion file, Path path, Object clientKey, Object userKey, RateLimit rate,
        TransferLabel label, int startChunk, boolean mappedChunks, boolean lastByteAlone) {

    /**
     * One transfer's speed limit.
     *
     * @param bytesPerSecond most bytes per second, 0 for no limit
     * @param fullSpeedBytes bytes sent at full speed before the limit applies
     */
    public record RateLimit(long bytesPerSecond, long fullSpeedBytes) {

        public RateLimit {
            EngineSettings.RATE_BOUNDS.check("limitRate", bytesPerSecond);
            EngineSettings.RATE_BOUNDS.check("limitRateAfter", fullSpeedBytes);
        }
    }

    public TransferRequest {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(label, "label");
        body = List.copyOf(body);
        if (startChunk < 0) {
            throw new IllegalArgumentException("startChunk " + startChunk + " is negative");
        }
        if (channel == null && body.stream().anyMatch(Segment.FileRegion.class::isInstance)) {
            throw new NullPointerException("channel: the body has file regions");
        }
    }

    /** The request of an earlier version, whose body ends with its last byte alone. */
    public TransferRequest(ServletOutputStream out, FileChannel channel, List<Segment> body,
            TransferListener listener, FileVersion file, Path path, Object clientKey, Object userKey, RateLimit rate,
            TransferLabel label, int startChunk, boolean mappedChunks) {
        this(out, channel, body, listener, file, path, clientKey, userKey, rate, label, startChunk, mappedChunks,
                true);
    }

    /** A request with no file version, in no client's group, unlabelled, that may be sent from mappings. */
    public static TransferRequest of(ServletOutputStream out, FileChannel channel, List<Segment> body,
            TransferListener listener) {
        return new TransferRequest(out, channel, body, listener, null, null, null, null, null, TransferLabel.NONE, 0,
                true, true);
    }

    public TransferRequest withFile(FileVersion version) {
        return new TransferRequest(out, channel, body, listener, version, path, clientKey, userKey, rate, label,
                startChunk, mappedChunks, lastByteAlone);
    }

    /** The file's version and the path it was opened at, so that a change in place is noticed. */
    public TransferRequest withFile(FileVersion version, Path openedAt) {
        return new TransferRequest(out, channel, body, listener, version, openedAt, clientKey, userKey, rate, label,
                startChunk, mappedChunks, lastByteAlone);
    }

    public TransferRequest withClientKey(Object key) {
        return new TransferRequest(out, channel, body, listener, file, path, key, userKey, rate, label, startChunk,
                mappedChunks, lastByteAlone);
    }

    public TransferRequest withUserKey(Object key) {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, key, rate, label, startChunk,
                mappedChunks, lastByteAlone);
    }

    public TransferRequest withRate(RateLimit limit) {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, userKey, limit, label,
                startChunk, mappedChunks, lastByteAlone);
    }

    public TransferRequest withLabel(TransferLabel newLabel) {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, userKey, rate, newLabel,
                startChunk, mappedChunks, lastByteAlone);
    }

    /** Starts at the chunk size the same client earned before ({@code startChunk}); 0: start small. */
    public TransferRequest withStartChunk(int bytes) {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, userKey, rate, label, bytes,
                mappedChunks, lastByteAlone);
    }

    /** Sends from pooled buffers only, never from slices of a mapping (see {@code mappedChunks}). */
    public TransferRequest withoutMappedChunks() {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, userKey, rate, label,
                startChunk, false, lastByteAlone);
    }

    /** Ends the body with its last chunk whole (see {@code lastByteAlone}): only for a container known to allow it. */
    public TransferRequest withLastByteInItsChunk() {
        return new TransferRequest(out, channel, body, listener, file, path, clientKey, userKey, rate, label,
                startChunk, mappedChunks, false);
    }

    /** Bytes the body holds. */
    long length() {
        return body.stream().mapToLong(Segment::length).sum();
    }
}
