package dev.sluice.ops;

import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferSummary;
import dev.sluice.stream.Waits;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * One access-log line, in logfmt ({@code key=value} pairs separated by one space, a value in double quotes when it
 * is empty or holds a space, {@code =}, a quote, a backslash or a control character; inside quotes {@code \"},
 * {@code \\}, {@code \n}, {@code \r}, {@code \t} and {@code \}{@code uXXXX} for other controls). The keys, always all
 * of them and always in this order:
 *
 * <pre>
 * time client user method path range status sent planned duration outcome etag wait_socket wait_read wait_buffer
 * wait_throttle cause
 * </pre>
 *
 * {@code time} is when the body ended (ISO-8601, UTC, milliseconds); {@code user} the authenticated user or
 * {@code -}; {@code path} the request's path as sent (still percent-encoded, without the query string, which may
 * hold secrets); {@code range} what the body is ({@code full}, {@code bytes 0-99/1000}, {@code multipart 2 ranges});
 * {@code sent} and {@code planned} body bytes; {@code duration} and the four waits in seconds
 * with milliseconds: {@code wait_socket} the client, {@code wait_read} the disk, {@code wait_buffer} the buffer
 * budget, {@code wait_throttle} a speed limit; {@code outcome} {@code completed}, {@code aborted}, {@code failed} or
 * {@code handed-off}; {@code etag} the representation's ETag without its quotes ({@code W/} kept), so that the range
 * requests of one resumed download share it; {@code cause} why it did not complete, or {@code -}. A body handed to
 * Tomcat's sendfile has {@code -} for what only Tomcat knows: {@code sent}, {@code duration} and the waits.
 *
 * @param client the client's address
 * @param user the authenticated user, or {@code null}
 * @param method the request method
 * @param path the raw request path
 * @param range what the body is
 * @param status the status the client was answered: the response's, or for a body that ended before its first
 *        byte the one it was answered instead ({@link #withStatus})
 * @param etag the ETag header sent, or {@code null}
 */
public record AccessLogLine(String client, String user, String method, String path, String range, int status,
        String etag) {

    /** The line of a transfer that ended at {@code end}. */
    public String of(TransferSummary summary, Instant end) {
        Waits w = summary.waits() == null ? Waits.NONE : summary.waits();
        return head(end, status) + " sent=" + summary.bytesWritten()
                + " planned=" + summary.length()
                + " duration=" + seconds(summary.durationNanos())
                + " outcome=" + summary.outcome().name().toLowerCase(Locale.ROOT)
                + " etag=" + value(etag == null ? null : unquote(etag))
                + " wait_socket=" + seconds(w.socketNanos()) + " wait_read=" + seconds(w.readNanos())
                + " wait_buffer=" + seconds(w.bufferNanos()) + " wait_throttle=" + seconds(w.throttleNanos())
                + " cause=" + value(summary.outcome() == Outcome.COMPLETED || summary.cause() == null ? null
                        : summary.cause().toString());
    }

    /** This line with another status: the one a body that ended before its first byte was answered instead. */
    public AccessLogLine withStatus(int answered) {
        return new AccessLogLine(client, user, method, path, range, answered, etag);
    }

    /** The line of a body of {@code length} bytes handed at {@code end} to the container to send by itself. */
    public String handedOff(long length, Instant end) {
        return head(end, status) + " sent=- planned=" + length + " duration=- outcome=handed-off etag="
                + value(etag == null ? null : unquote(etag))
                + " wait_socket=- wait_read=- wait_buffer=- wait_throttle=- cause=-";
    }

    private String head(Instant end, int status) {
        return "time=" + end.truncatedTo(ChronoUnit.MILLIS) + " client=" + value(client) + " user=" + value(user)
                + " method=" + value(method) + " path=" + value(path) + " range=" + value(range)
                + " status=" + status;
    }

    private static String seconds(long nanos) {
        long millis = nanos / 1_000_000;
        return millis / 1000 + "." + String.format(Locale.ROOT, "%03d", millis % 1000);
    }

    /** {@code "x"} is {@code x}, {@code W/"x"} is {@code W/x}. */
    static String unquote(String etag) {
        boolean weak = etag.startsWith("W/");
        String opaque = weak ? etag.substring(2) : etag;
        if (opaque.length() >= 2 && opaque.startsWith("\"") && opaque.endsWith("\"")) {
            opaque = opaque.substring(1, opaque.length() - 1);
        }
        return (weak ? "W/" : "") + opaque;
    }

    /** A logfmt value: {@code -} for none, bare when safe, else quoted and escaped. */
    static String value(String text) {
        if (text == null) {
            return "-";
        }
        boolean bare = !text.isEmpty() && !text.equals("-");
        for (int i = 0; i < text.length() && bare; i++) {
            char c = text.charAt(i);
            bare = c > 0x20 && c != 0x7f && c != '"' && c != '=' && c != '\\' && !isControl(c);
        }
        if (bare) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 8).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || isControl(c)) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** C1 controls and the Unicode line and paragraph separators, which some viewers take as line breaks. */
    private static boolean isControl(char c) {
        return (c >= 0x80 && c <= 0x9f) || c == '\u2028' || c == '\u2029' || c == '\u0085';
    }
}
