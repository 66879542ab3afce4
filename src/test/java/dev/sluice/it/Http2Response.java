package dev.sluice.it;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.util.Callback;

/**
 * One GET on its own stream of an HTTP/2 session (Jetty's low-level client, prior-knowledge h2c), read as fast as
 * it comes: its response head, and its {@link Http2Body}. A reset of the stream fails both.
 */
final class Http2Response implements Stream.Listener {

    final CompletableFuture<MetaData.Response> head = new CompletableFuture<>();
    final Http2Body body = new Http2Body();

    private Http2Response() {
    }

    /** Opens the stream for {@code GET uri} with {@code headers}; the response then arrives in the futures. */
    static Http2Response get(Session session, URI uri, HttpFields headers) throws Exception {
        Http2Response response = new Http2Response();
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from(uri.toString()), HttpVersion.HTTP_2,
                headers);
        session.newStream(new HeadersFrame(request, null, true), response).get(10, TimeUnit.SECONDS);
        return response;
    }

    /** The response's status, waiting for its head at most {@code seconds}. */
    int status(long seconds) throws Exception {
        return head.get(seconds, TimeUnit.SECONDS).getStatus();
    }

    @Override
    public void onHeaders(Stream stream, HeadersFrame frame) {
        head.complete((MetaData.Response) frame.getMetaData());
        if (body.bodyFollows(frame)) {
            stream.demand();
        }
    }

    @Override
    public void onDataAvailable(Stream stream) {
        if (body.takeData(stream)) {
            stream.demand();
        }
    }

    @Override
    public void onReset(Stream stream, ResetFrame frame, Callback callback) {
        AssertionError reset = new AssertionError("the server reset stream " + stream.getId() + ": " + frame);
        head.completeExceptionally(reset);
        body.sha256.completeExceptionally(reset);
        callback.succeeded();
    }
}
