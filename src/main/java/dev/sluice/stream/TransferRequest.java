package dev.sluice.stream;

import jakarta.servlet.ServletOutputStream;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Objects;

/**
 * Everything the engine needs to send one response body, for {@link TransferEngine#start}. Build one with
 * {@link #of} and add what the caller knows with the {@code with...} methods.
 *
 * @param out the response's output stream; its request must already be in async mode
 * @param channel the open file the body's regions are read from
 * @param body the body, in order: regions of the file and literal bytes
 * @param listener told exactly once how the transfer ended
 * @param file the file's version: transfers of equal versions share the file's mappings
 *        ({@code bufferKind=mapped}), and a transfer checks its file against it; {@code null}: the transfer maps
 *        the file for itself and trusts its size
 * @param clientKey the client: transfers with equal keys share one {@code limitRatePerClient} budget. Opaque to the
 *        engine (the servlet passes the client's address); {@code null}: in no client's group
 * @param label names the transfer in its flight-recorder event ({@link TransferEvent}); not interpreted
 */
public record TransferRequest(ServletOutputStream out, FileChannel channel, List<Segment> body,
        TransferListener listener, FileVersion file, Object clientKey, TransferLabel label) {

    public TransferRequest {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(label, "label");
        body = List.copyOf(body);
    }

    /** A request with no file version, in no client's group, unlabelled. */
    public static TransferRequest of(ServletOutputStream out, FileChannel channel, List<Segment> body,
            TransferListener listener) {
        return new TransferRequest(out, channel, body, listener, null, null, TransferLabel.NONE);
    }

    public TransferRequest withFile(FileVersion version) {
        return new TransferRequest(out, channel, body, listener, version, clientKey, label);
    }

    public TransferRequest withClientKey(Object key) {
        return new TransferRequest(out, channel, body, listener, file, key, label);
    }

    public TransferRequest withLabel(TransferLabel newLabel) {
        return new TransferRequest(out, channel, body, listener, file, clientKey, newLabel);
    }

    /** Bytes the body holds. */
    long length() {
        return body.stream().mapToLong(Segment::length).sum();
    }
}
