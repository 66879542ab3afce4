package dev.sluice.launcher;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.HTTP2Connection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.CyclicTimeout;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The launcher's request-header deadline, what nginx calls {@code client_header_timeout}: a connection that has
 * not delivered a complete request head within the deadline is closed, however slowly it keeps sending. Jetty has
 * no such deadline: its idle timeout starts again with every byte, so a client that sends one header byte a second
 * (slowloris) would hold its connection forever.
 *
 * <ul>
 * <li>HTTP/1.1 ({@link #http1}): the deadline runs from the accept for a connection's first request, and on a
 * keep-alive connection from the moment the server is ready to read the next request (at the latest, the first
 * byte of its head). It ends when the head is complete (or refused as malformed). Nothing is sent on expiry: the
 * connection is closed, as nginx does (a client that took that long is not waiting for an answer).</li>
 * <li>HTTP/2 (h2c, {@link #http2}): requests are streams on one connection, so the rule is about streams: a
 * connection with no stream open that opens none for a whole deadline period (checked once per period: between
 * one and two deadlines after its last stream ended or after the upgrade) gets GOAWAY and is closed, even if it
 * keeps sending frames (PING, SETTINGS, a HEADERS frame byte by byte) that would keep Jetty's idle timeout from
 * expiring. The upgrade itself (the prior-knowledge preface or {@code Upgrade: h2c}) is an HTTP/1.1 head and has
 * the HTTP/1.1 deadline.</li>
 * </ul>
 *
 * <p>A request in progress is never subject to the deadline: from its complete head to its end, the stall timeout
 * (and Jetty's idle timeout just above it) applies; see {@link Launcher}.
 */
final class HeaderDeadline {

    private final long deadlineMillis;
    private final AtomicLong closed = new AtomicLong();

    HeaderDeadline(Duration deadline) {
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("the request-header deadline must be positive: " + deadline);
        }
        this.deadlineMillis = deadline.toMillis();
    }

    /** How many connections the deadline has closed so far (HTTP/1.1 and HTTP/2). */
    long closedConnections() {
        return closed.get();
    }

    /** An HTTP/1.1 connection factory (the connector's first) whose connections keep the deadline. */
    HttpConnectionFactory http1(HttpConfiguration config) {
        return SerialFillConnection.factory(config, DeadlineConnection::new);
    }

    /**
     * A listener for the connector: watches the HTTP/2 connections (prior knowledge or upgraded) it opens, on
     * {@code scheduler} (the connector's).
     */
    Connection.Listener http2(Scheduler scheduler) {
        return new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                if (connection instanceof HTTP2Connection http2) {
                    StreamWatch watch = new StreamWatch(scheduler, http2);
                    connection.addEventListener(watch); // for onClosed: the listeners are a copy-on-write list
                    watch.start();
                }
            }
        };
    }

    private void expire(EndPoint endPoint, String why) {
        if (endPoint.isOpen()) {
            closed.incrementAndGet();
            endPoint.close(new TimeoutException(why));
        }
    }

    /**
     * Jetty's HTTP/1.1 connection (one {@code onFillable} at a time, {@link SerialFillConnection}) with the
     * deadline. It starts at the accept ({@code onOpen}) and when a response is complete (the stream's
     * {@code succeeded}, before Jetty looks for the next head); as a fallback, when the parser begins a head
     * ({@code messageBegin}, only ever called between requests). It ends when the parser has
     * the whole head ({@code headerComplete}) or refuses it ({@code badMessage}). All of these run on the thread
     * that owns the connection at that moment, one at a time; the scheduler's thread only reads the volatile flag
     * and closes the end point, which Jetty's own idle timeout does from that thread too.
     */
    private final class DeadlineConnection extends SerialFillConnection {

        private final Timer timer;
        private volatile boolean awaitingHead;

        DeadlineConnection(HttpConfiguration config, Connector connector, EndPoint endPoint) {
            super(config, connector, endPoint);
            this.timer = new Timer(connector.getScheduler());
        }

        @Override
        protected RequestHandler newRequestHandler() {
            // Runs inside super's constructor: the handler may use the fields only when it is called, later.
            return new RequestHandler() {
                @Override
                public void messageBegin() {
                    awaitHead();
                    super.messageBegin();
                }

                @Override
                public boolean headerComplete() {
                    headEnded();
                    return super.headerComplete();
                }

                @Override
                public void badMessage(HttpException failure) {
                    headEnded();
                    super.badMessage(failure);
                }
            };
        }

        @Override
        protected HttpStreamOverHTTP1 newHttpStream(String method, String uri, HttpVersion version) {
            return new HttpStreamOverHTTP1(method, uri, version) {
                private boolean ended;

                @Override
                public void succeeded() {
                    // The response is complete: the next head's deadline starts now, before super resets the parser
                    // and perhaps parses a pipelined head at once. Only on the first call (Jetty ignores later ones).
                    if (!ended) {
                        ended = true;
                        awaitHead();
                    }
                    super.succeeded();
                }
            };
        }

        @Override
        public void onOpen() {
            // The first head's deadline runs from the accept. Armed before super.onOpen(), which asks to be told of
            // bytes: the head may then be parsed (and the deadline ended) at once, on another thread.
            awaitHead();
            super.onOpen();
        }

        @Override
        public void onClose(Throwable cause) {
            awaitingHead = false;
            timer.destroy();
            super.onClose(cause);
        }

        private void awaitHead() {
            if (!awaitingHead) {
                awaitingHead = true;
                timer.schedule(deadlineMillis, TimeUnit.MILLISECONDS);
            }
        }

        private void headEnded() {
            if (awaitingHead) {
                awaitingHead = false;
                timer.cancel();
            }
        }

        private final class Timer extends CyclicTimeout {
            Timer(Scheduler scheduler) {
                super(scheduler);
            }

            @Override
            public void onTimeoutExpired() {
                if (awaitingHead && getEndPoint().getConnection() == DeadlineConnection.this) {
                    expire(getEndPoint(), "no complete request head within " + deadlineMillis + " ms");
                }
            }
        }
    }

    /**
     * Checks an HTTP/2 connection once per deadline period, from the scheduler's thread, with the connection's
     * thread-safe counters (streams opened and closed): no stream open now and none opened or closed since the
     * last check means the connection went a whole period without a request.
     */
    private final class StreamWatch extends CyclicTimeout implements Connection.Listener {

        private final HTTP2Connection connection;
        private long opened;
        private long ended;
        private boolean goneAway;

        StreamWatch(Scheduler scheduler, HTTP2Connection connection) {
            super(scheduler);
            this.connection = connection;
        }

        void start() {
            opened = connection.getMessagesIn();
            ended = connection.getMessagesOut();
            schedule(deadlineMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void onTimeoutExpired() {
            EndPoint endPoint = connection.getEndPoint();
            if (!endPoint.isOpen()) {
                return;
            }
            if (goneAway) {
                // GOAWAY did not end it within a period (a client that does not read it): cut it.
                endPoint.close(new TimeoutException("no stream within " + deadlineMillis + " ms, GOAWAY sent"));
                return;
            }
            long in = connection.getMessagesIn();
            long out = connection.getMessagesOut();
            if (in == out && in == opened && out == ended) {
                goneAway = true;
                closed.incrementAndGet();
                connection.getSession().close(ErrorCode.NO_ERROR.code, "no_request", Callback.NOOP);
            } else {
                opened = in;
                ended = out;
            }
            schedule(deadlineMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void onClosed(Connection closedConnection) {
            destroy();
        }
    }
}
