package dev.sluice.launcher;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launcher's log of requests Jetty refuses before any servlet sees them (a malformed {@code Host}, request
 * line or header: 400, 431, 505 and the like): bounded, and without the client's bytes.
 *
 * <p>Jetty itself writes one WARN line per malformed {@code Host} header ({@code org.eclipse.jetty.util.HostPort},
 * and {@code org.eclipse.jetty.http.HttpParser} for a repeated {@code Host}), quoting the raw value: 20,000 fuzzed
 * requests wrote 1,421 lines, 935 KB, so anybody could fill the disk cheaply. {@link #quietJettyLoggers()} turns
 * those two loggers down to ERROR (unless the operator set their level), and this error handler, which Jetty calls
 * for every such refusal, writes instead one INFO line for the first refusal and then at most one line per
 * {@link #INTERVAL} summing up the refusals since the previous line, by status, with the last reason (printable
 * ASCII, at most {@link #MAX_REASON} characters; never the client's header value). A quiet period writes nothing;
 * the count carries over to the next refusal's line.
 */
final class MalformedRequests extends ErrorHandler {

    static final Duration INTERVAL = Duration.ofMinutes(1);
    static final int MAX_REASON = 60;
    /** Jetty's loggers that quote a client's malformed Host header, one WARN line each. */
    static final String[] NOISY_LOGGERS = {"org.eclipse.jetty.util.HostPort", "org.eclipse.jetty.http.HttpParser"};

    private static final Logger LOG = LoggerFactory.getLogger(MalformedRequests.class);

    private final LongSupplier nanoClock;
    private final Map<Integer, Long> statuses = new TreeMap<>();
    private long total;
    private long nextLineNanos;
    private boolean first = true;
    private String lastReason = "";

    MalformedRequests() {
        this(System::nanoTime);
    }

    MalformedRequests(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * Sets slf4j-simple's level of {@link #NOISY_LOGGERS} to ERROR, unless the operator chose one
     * ({@code -Dorg.slf4j.simpleLogger.log.org.eclipse.jetty.util.HostPort=warn} brings the lines back). Must run
     * before Jetty creates those loggers, so {@link Launcher#main} calls it first.
     */
    static void quietJettyLoggers() {
        for (String logger : NOISY_LOGGERS) {
            String property = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(property) == null) {
                System.setProperty(property, "error");
            }
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.getAttribute(ERROR_EXCEPTION) instanceof HttpException refusal) {
            String line = count(refusal.getCode(), refusal.getReason());
            if (line != null) {
                LOG.info(line);
            }
        }
        return super.handle(request, response, callback);
    }

    /** Counts one refusal; returns the line to log now, or null while the interval since the last line runs. */
    synchronized String count(int status, String reason) {
        statuses.merge(status, 1L, Long::sum);
        total++;
        lastReason = status + " " + printable(reason);
        long now = nanoClock.getAsLong();
        if (!first && now - nextLineNanos < 0) {
            return null;
        }
        String line = first
                ? "Refused a malformed request (" + lastReason + "); the next refusals are summed up here at most"
                        + " once a minute"
                : total + " malformed requests refused since the last such line " + statuses + ", the last: "
                        + lastReason;
        first = false;
        nextLineNanos = now + INTERVAL.toNanos();
        statuses.clear();
        total = 0;
        return line;
    }

    private static String printable(String reason) {
        if (reason == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(reason.length(), MAX_REASON));
        for (int i = 0; i < reason.length() && out.length() < MAX_REASON; i++) {
            char c = reason.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }
}
