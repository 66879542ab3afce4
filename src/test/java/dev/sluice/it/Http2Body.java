package dev.sluice.it;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.frames.HeadersFrame;

/**
 * The body of one response read with Jetty's low-level HTTP/2 client: the bytes received so far and their sha-256,
 * complete when the stream ends. Its {@link Stream.Listener} calls it; the listener keeps the decision when to
 * demand more. Jetty calls a stream's listener for one event at a time (after each {@code demand()}), so the digest
 * needs no lock.
 */
final class Http2Body {

    /** The hex sha-256 of the whole body, once the stream has ended. */
    final CompletableFuture<String> sha256 = new CompletableFuture<>();
    private final AtomicLong received = new AtomicLong();
    private final MessageDigest digest = TestClient.newDigest();

    long received() {
        return received.get();
    }

    /** Called with the response headers: true if a body follows, else the (empty) body is complete. */
    boolean bodyFollows(HeadersFrame frame) {
        if (frame.isEndStream()) {
            complete();
            return false;
        }
        return true;
    }

    /**
     * Called from {@code onDataAvailable}: takes the stream's next DATA frame into the count and the digest and
     * releases it. True if the body goes on, and the caller decides when to demand more; false if the body is
     * complete, or if no frame was there yet, in which case this has demanded it.
     */
    boolean takeData(Stream stream) {
        Stream.Data data = stream.readData();
        if (data == null) {
            stream.demand();
            return false;
        }
        ByteBuffer bytes = data.frame().getByteBuffer();
        received.addAndGet(bytes.remaining());
        digest.update(bytes);
        boolean last = data.frame().isEndStream();
        data.release();
        if (last) {
            complete();
            return false;
        }
        return true;
    }

    private void complete() {
        sha256.complete(HexFormat.of().formatHex(digest.digest()));
    }
}
