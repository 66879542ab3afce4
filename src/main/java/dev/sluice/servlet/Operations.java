package dev.sluice.servlet;

import dev.sluice.http.FilePlanner;
import dev.sluice.http.ResponsePlan;
import dev.sluice.ops.AccessLogLine;
import dev.sluice.ops.AddressRanges;
import dev.sluice.ops.PrometheusText;
import dev.sluice.ops.StatusJson;
import dev.sluice.ops.StatusPage;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferLabel;
import dev.sluice.stream.TransferListener;
import dev.sluice.stream.TransferSummary;
import dev.sluice.stream.Waits;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What a Sluice servlet offers operators besides the counters in JMX: the status path (JSON, or a live page for a
 * browser), the metrics path (Prometheus' text format), both for {@code adminAllow} clients only; the access log;
 * and Sluice's meters in the application's Micrometer registry when Micrometer is on the class path. The servlet
 * asks {@link #answer} before it looks for a file, and wraps each transfer's listener with {@link #accessLogged}.
 */
final class Operations implements AutoCloseable {

    /** The logger of the access log: one line per transfer at {@code INFO}. */
    static final String ACCESS_LOGGER = "dev.sluice.access";

    /** A servlet-context attribute holding the Micrometer {@code MeterRegistry} Sluice's meters go to. */
    static final String METER_REGISTRY_ATTRIBUTE = "dev.sluice.meterRegistry";

    private static final Logger LOG = Logger.getLogger(Operations.class.getName());
    private static final Logger ACCESS = Logger.getLogger(ACCESS_LOGGER);
    /** Named as the source of each line, so that formatters that print it print {@code dev.sluice.access}. */
    private static final String SOURCE_CLASS = "dev.sluice";
    private static final String SOURCE_METHOD = "access";
    private static final String MICROMETER = "io.micrometer.core.instrument.MeterRegistry";

    private final TransferEngine engine;
    private final String statusPath;
    private final String metricsPath;
    private final AddressRanges allow;
    private final String role;
    private final boolean accessLog;
    private final AutoCloseable meters;

    private Operations(SluiceConfig config, TransferEngine engine, AutoCloseable meters) {
        this.engine = engine;
        this.statusPath = config.statusPath();
        this.metricsPath = config.operations().metricsPath();
        this.allow = config.operations().adminAllow();
        this.role = config.operations().adminRole();
        this.accessLog = config.operations().accessLog();
        this.meters = meters;
    }

    /** The servlet's operations; binds its meters to Micrometer when Micrometer is there. */
    static Operations start(SluiceConfig config, TransferEngine engine, ServletContext context, String servletName) {
        AutoCloseable meters = null;
        if (micrometerPresent()) {
            try {
                meters = MicrometerMeters.bind(engine::metrics, context, servletName);
            } catch (RuntimeException | LinkageError e) {
                LOG.log(Level.WARNING, "Sluice: could not bind its meters to Micrometer: " + e);
            }
        }
        return new Operations(config, engine, meters);
    }

    /** Whether Micrometer can be loaded by Sluice's class loader: the WAR works without it. */
    static boolean micrometerPresent() {
        try {
            Class.forName(MICROMETER, false, Operations.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (meters != null) {
            try {
                meters.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "Sluice: could not remove its meters from Micrometer: " + e);
            }
        }
    }

    /**
     * The answer for the status or metrics path, or empty for any other path. A client that {@code adminAllow}
     * (or {@code adminRole}) does not let in gets the same 404 as a missing file.
     */
    Optional<ResponsePlan> answer(String rawPath, HttpServletRequest request) {
        boolean status = rawPath.equals(statusPath);
        boolean metrics = !status && rawPath.equals(metricsPath);
        if (!status && !metrics) {
            return Optional.empty();
        }
        if (!allowed(request)) {
            return Optional.of(FilePlanner.text(HttpServletResponse.SC_NOT_FOUND, "Not Found", List.of()));
        }
        if (metrics) {
            return Optional.of(plan(PrometheusText.CONTENT_TYPE,
                    PrometheusText.of(engine.metrics()).getBytes(StandardCharsets.UTF_8)));
        }
        if (wantsHtml(request.getHeader("Accept"))) {
            return Optional.of(plan("text/html;charset=utf-8", StatusPage.html(),
                    new ResponsePlan.Header("Content-Security-Policy", StatusPage.CONTENT_SECURITY_POLICY),
                    new ResponsePlan.Header("Referrer-Policy", "no-referrer"),
                    new ResponsePlan.Header("Vary", "Accept")));
        }
        String json = StatusJson.of(engine.metrics(), engine.activeTransfers(), engine.settings(),
                System.currentTimeMillis());
        return Optional.of(plan("application/json", json.getBytes(StandardCharsets.US_ASCII),
                new ResponsePlan.Header("Vary", "Accept")));
    }

    private boolean allowed(HttpServletRequest request) {
        return allow.contains(request.getRemoteAddr()) || (role != null && request.isUserInRole(role));
    }

    /**
     * Whether an {@code Accept} header asks for HTML rather than JSON: it names {@code text/html} (as browsers do
     * for a page) and not {@code application/json}. No header, {@code *}{@code /*} (curl) or JSON: JSON.
     */
    static boolean wantsHtml(String accept) {
        if (accept == null) {
            return false;
        }
        boolean html = false;
        for (String range : accept.toLowerCase(Locale.ROOT).split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim();
            boolean refused = false;
            for (int i = 1; i < parts.length; i++) {
                String parameter = parts[i].replace(" ", "");
                refused |= parameter.matches("q=0(\\.0*)?");
            }
            if (type.equals("application/json") && !refused) {
                return false;
            }
            html |= type.equals("text/html") && !refused;
        }
        return html;
    }

    private static ResponsePlan plan(String contentType, byte[] body, ResponsePlan.Header... more) {
        List<ResponsePlan.Header> headers = new java.util.ArrayList<>(List.of(
                new ResponsePlan.Header("Content-Type", contentType),
                new ResponsePlan.Header("Cache-Control", "no-store"),
                new ResponsePlan.Header("X-Content-Type-Options", "nosniff")));
        headers.addAll(List.of(more));
        return new ResponsePlan(HttpServletResponse.SC_OK, headers, List.of(new ResponsePlan.Bytes(body)),
                body.length);
    }

    /**
     * {@code then}, which also writes the transfer's access-log line when it ends, if {@code accessLog} is on and
     * its logger takes {@code INFO}; else {@code then} itself. The head of the response must be set: its status and
     * ETag go into the line.
     */
    TransferListener accessLogged(HttpServletRequest request, HttpServletResponse response, TransferLabel label,
            TransferListener then) {
        if (!accessLog || !ACCESS.isLoggable(Level.INFO)) {
            return then;
        }
        AccessLogLine line = line(request, response, label.range());
        return new TransferListener() {
            @Override
            public void ended(Outcome outcome, long bytesWritten, Throwable cause) {
                then.ended(outcome, bytesWritten, cause);
            }

            @Override
            public void ended(TransferSummary summary) {
                // Asked before the end is answered, which may complete the request: a committed head was sent.
                boolean headSent = summary.bytesWritten() != 0 || committed(response);
                try {
                    then.ended(summary);
                } finally {
                    if (ACCESS.isLoggable(Level.INFO)) {
                        AccessLogLine answered = headSent ? line.withStatus(sentStatus(line.status(), summary))
                                : line.withStatus(answeredStatus(line.status(), summary));
                        ACCESS.logp(Level.INFO, SOURCE_CLASS, SOURCE_METHOD, answered.of(summary, Instant.now()));
                    }
                }
            }

            @Override
            public void containerEnding(Throwable cause) {
                then.containerEnding(cause);
            }

            @Override
            public void writePossibleAfterEnd() {
                then.writePossibleAfterEnd();
            }

            @Override
            public void beforeFirstWrite() throws java.io.IOException {
                then.beforeFirstWrite();
            }
        };
    }

    /**
     * The status of a head that went: Sluice's, unless the container answered the request itself before the body
     * (Jetty's page for an application's {@code sendError} after {@code send}), as it said when it completed it.
     */
    static int sentStatus(int headStatus, TransferSummary summary) {
        if (summary.cause() instanceof SluiceSender.AnsweredAfterSend answered) {
            return answered.status(); // Tomcat's head of a sendError after send, over Sluice's
        }
        return summary.cause() instanceof ContainerEnds.CompletedEarly completed && completed.status() != 0
                ? completed.status() : headStatus;
    }

    /**
     * The status a download's client was answered: its head's, unless its body ended before its first byte. Then a
     * failure was answered instead ({@link SluiceSender#statusOfAFailureBeforeTheFirstByte}), and so was an abort
     * the application caused (the exception it let out after handing the file over, which the container reports:
     * anything but an {@code IOException}), by a bare 500 ({@code SluiceSender.completeEmpty}); an answer of the
     * application's or the container's own after the hand-over keeps its status ({@link #sentStatus}). A client gone
     * before the first byte keeps the head's status: nobody heard the 500, and it is no server error.
     */
    static int answeredStatus(int headStatus, TransferSummary summary) {
        if (summary.bytesWritten() != 0) {
            return headStatus;
        }
        return switch (summary.outcome()) {
            case FAILED -> SluiceSender.statusOfAFailureBeforeTheFirstByte(summary.cause());
            case ABORTED -> summary.cause() == null || summary.cause() instanceof java.io.IOException
                    ? sentStatus(headStatus, summary) : HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
            case COMPLETED -> headStatus;
        };
    }

    /**
     * Whether the response's head went: then its status is the one the client got, even with no body byte (a first
     * write that failed after committing it; the container's own end of the request), and a cut follows.
     */
    private static boolean committed(HttpServletResponse response) {
        try {
            return response.isCommitted();
        } catch (RuntimeException recycled) {
            return true; // the container is done with it: nothing Sluice answers instead went
        }
    }

    /** The access-log line of a body of {@code length} bytes that the container sends by itself. */
    void handedOff(HttpServletRequest request, HttpServletResponse response, long length) {
        if (accessLog && ACCESS.isLoggable(Level.INFO)) {
            String range = response.getHeader("Content-Range");
            AccessLogLine line = line(request, response, range == null ? "full" : range);
            ACCESS.logp(Level.INFO, SOURCE_CLASS, SOURCE_METHOD, line.handedOff(length, Instant.now()));
        }
    }

    /**
     * The access-log line of an empty file's 200: a download of no bytes, which no transfer sends (the head says it
     * all), logged as one that completed.
     */
    void emptyFileAnswered(HttpServletRequest request, HttpServletResponse response) {
        if (accessLog && ACCESS.isLoggable(Level.INFO)) {
            AccessLogLine line = line(request, response, "full");
            ACCESS.logp(Level.INFO, SOURCE_CLASS, SOURCE_METHOD, line.of(
                    new TransferSummary(Outcome.COMPLETED, 0, 0, null, 0, Waits.NONE), Instant.now()));
        }
    }

    private static AccessLogLine line(HttpServletRequest request, HttpServletResponse response, String range) {
        return new AccessLogLine(request.getRemoteAddr(), request.getRemoteUser(), request.getMethod(),
                request.getRequestURI(), range, response.getStatus(), response.getHeader("ETag"));
    }
}
