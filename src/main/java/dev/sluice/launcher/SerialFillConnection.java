package dev.sluice.launcher;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.SerializedInvoker;

/**
 * Jetty's HTTP/1.1 connection with one {@link #onFillable()} at a time: a call that arrives while another thread
 * is inside is queued and run by that thread when it leaves (Jetty's {@link SerializedInvoker}); no thread waits.
 *
 * <p>Why: Jetty 12.1.12's {@code HttpConnection} releases and acquires its request buffer with an unguarded
 * check-then-act on one field ({@code releaseRequestBuffer}, {@code ensureRequestBuffer}), safe only while one
 * {@code onFillable} runs at a time; its {@code _handling} flag hands the connection from the thread that parsed a
 * request to the thread that completes the response. A malformed request (a bad {@code Host}, request line or
 * header) skips that flag: the parsing thread hands the 400 to another thread and then releases the buffer, while
 * the 400's completion already dispatches the next {@code onFillable} on a third thread, which finds the parser
 * closed and releases the buffer too. When the first thread is slow (a busy machine), both release the same buffer:
 * it goes back to the pool twice, or back to the pool while another connection already uses it. Seen as Jetty's
 * "already released" warning and as requests closed without an answer, on connections other than the malformed one
 * (once in about five clean-clone test runs; with that window widened by a pause in Jetty's release, 51 requests
 * unanswered, one hung and 7,338 warnings in 12,000 malformed requests from four clients, and none with this
 * class). The same buffer on two connections could also hand one client's request bytes to another. Running the
 * two {@code onFillable} one after the other is the order Jetty intends; it is how they run whenever the first
 * thread is quick.
 */
public class SerialFillConnection extends HttpConnection {

    private final SerializedInvoker fillers = new SerializedInvoker(SerialFillConnection.class);
    private final Runnable fillTask = this::fill; // one per connection, not one per onFillable

    SerialFillConnection(HttpConfiguration config, Connector connector, EndPoint endPoint) {
        super(config, connector, endPoint);
    }

    /**
     * An HTTP/1.1 connection factory whose connections are of this class: the launcher's connections without their
     * request-header deadline, for the tests' Jetty and for embedders who build their own connector.
     */
    public static HttpConnectionFactory factory(HttpConfiguration config) {
        return factory(config, SerialFillConnection::new);
    }

    /** An HTTP/1.1 connection factory whose connections {@code maker} makes (the launcher's: with the deadline). */
    static HttpConnectionFactory factory(HttpConfiguration config, Maker maker) {
        return new HttpConnectionFactory(config) {
            @Override
            public Connection newConnection(Connector connector, EndPoint endPoint) {
                SerialFillConnection connection = maker.make(getHttpConfiguration(), connector, endPoint);
                connection.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
                return configure(connection, connector, endPoint);
            }
        };
    }

    /** A constructor of this class or of a subclass. */
    interface Maker {
        SerialFillConnection make(HttpConfiguration config, Connector connector, EndPoint endPoint);
    }

    @Override
    public final void onFillable() {
        fillers.run(fillTask);
    }

    /** Jetty's {@code onFillable}, on one thread at a time; a test replaces it to see who runs it, and when. */
    void fill() {
        super.onFillable();
    }
}
