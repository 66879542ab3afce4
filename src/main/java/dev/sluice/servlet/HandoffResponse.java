package dev.sluice.servlet;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The application's response as {@link HandoffFilter} gives it to the application. Headers named
 * {@code X-Sluice-*} are kept here and never reach the real response. Until {@code X-Sluice-File} is set,
 * everything else passes through; from then on nothing does but cookies: the status, headers, body, flushes and
 * errors the application still sends are dropped, so the real response stays uncommitted for Sluice to answer
 * with the file.
 *
 * <p>{@code X-Sluice-File} set on a response already committed (the application flushed first) is too late: it
 * is logged and ignored, and the application's response stands. Set while the request is async (the application
 * answers on another thread, after the filter has returned) it cannot be sent either: the response becomes an
 * empty 500.
 */
final class HandoffResponse extends HttpServletResponseWrapper {

    private static final Logger LOG = Logger.getLogger(HandoffResponse.class.getName());

    private final HttpServletRequest request;
    private final Map<String, String> options = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private boolean handoff;
    private boolean refused;
    /** The first X-Sluice-* header added a second time with another value, or null. */
    private String repeated;
    private ServletOutputStream out;
    private PrintWriter writer;

    HandoffResponse(HttpServletRequest request, HttpServletResponse response) {
        super(response);
        this.request = request;
    }

    /** Whether the application asked for a hand-off that the filter should now carry out. */
    boolean handoffRequested() {
        return handoff && !refused;
    }

    /** The X-Sluice-* headers the application set, names in any case. */
    Map<String, String> options() {
        return options;
    }

    /**
     * The first {@code X-Sluice-*} header the application added a second time with another value ({@code addHeader}:
     * two header lines, two files or two limits), or null. Which one it meant is not known, so the filter sends
     * neither; a {@code setHeader} replaces, as on any response.
     */
    String repeatedOption() {
        return repeated;
    }

    /**
     * The hand-off cannot be carried out, as the request went async: the real response becomes an empty 500,
     * which the application's own completion then sends.
     */
    void refuseAsync() {
        if (refused) {
            return;
        }
        refused = true;
        LOG.warning("Sluice: X-Sluice-File " + LogText.quote(options.get(HandoffOption.FILE.header()))
                + " set by an application that answers asynchronously: not supported, answered 500");
        if (!getResponse().isCommitted()) {
            getResponse().reset();
            ((HttpServletResponse) getResponse()).setStatus(500);
            getResponse().setContentLength(0);
        }
    }

    private static boolean isSluiceHeader(String name) {
        String prefix = HandoffOption.HEADER_PREFIX;
        return name != null && name.regionMatches(true, 0, prefix, 0, prefix.length());
    }

    /** Keeps an X-Sluice-* header; the first X-Sluice-File decides whether a hand-off can still happen. */
    private void keep(String name, String value) {
        if (value == null) {
            options.remove(name); // a removed X-Sluice-File leaves the hand-off asked for: the filter answers 500
            return;
        }
        options.put(name, value);
        if (handoff || Handoff.byHeader(name) != HandoffOption.FILE) {
            return;
        }
        if (getResponse().isCommitted()) {
            LOG.warning("Sluice: X-Sluice-File " + LogText.quote(value) + " set after the response was committed:"
                    + " ignored, the application's response stands");
            return;
        }
        handoff = true;
        if (request.isAsyncStarted()) {
            refuseAsync();
        }
    }

    /** Whether a call changes the real response: not after a hand-off was asked for. */
    private boolean passes() {
        return !handoff;
    }

    @Override
    public void setHeader(String name, String value) {
        if (isSluiceHeader(name)) {
            keep(name, value);
        } else if (passes()) {
            super.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (isSluiceHeader(name)) {
            if (value != null) { // as the containers do: adding no value removes nothing
                String had = options.get(name);
                if (repeated == null && had != null && !had.equals(value)) {
                    repeated = name;
                }
                keep(name, value);
            }
        } else if (passes() || "Set-Cookie".equalsIgnoreCase(name)) {
            super.addHeader(name, value);
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        setHeader(name, Integer.toString(value));
    }

    @Override
    public void addIntHeader(String name, int value) {
        addHeader(name, Integer.toString(value));
    }

    @Override
    public void setDateHeader(String name, long date) {
        if (isSluiceHeader(name)) {
            keep(name, Long.toString(date));
        } else if (passes()) {
            super.setDateHeader(name, date);
        }
    }

    @Override
    public void addDateHeader(String name, long date) {
        if (isSluiceHeader(name)) {
            keep(name, Long.toString(date));
        } else if (passes()) {
            super.addDateHeader(name, date);
        }
    }

    @Override
    public boolean containsHeader(String name) {
        return isSluiceHeader(name) ? options.containsKey(name) : super.containsHeader(name);
    }

    @Override
    public String getHeader(String name) {
        return isSluiceHeader(name) ? options.get(name) : super.getHeader(name);
    }

    @Override
    public Collection<String> getHeaders(String name) {
        if (isSluiceHeader(name)) {
            String value = options.get(name);
            return value == null ? List.of() : List.of(value);
        }
        return super.getHeaders(name);
    }

    @Override
    public Collection<String> getHeaderNames() {
        List<String> names = new ArrayList<>(super.getHeaderNames());
        names.addAll(options.keySet());
        return names;
    }

    @Override
    public void setStatus(int sc) {
        if (passes()) {
            super.setStatus(sc);
        }
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        if (passes()) {
            super.sendError(sc, msg);
        }
    }

    @Override
    public void sendError(int sc) throws IOException {
        if (passes()) {
            super.sendError(sc);
        }
    }

    @Override
    public void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException {
        if (passes()) {
            super.sendRedirect(location, sc, clearBuffer);
        }
    }

    @Override
    public void sendRedirect(String location, int sc) throws IOException {
        if (passes()) {
            super.sendRedirect(location, sc);
        }
    }

    @Override
    public void sendRedirect(String location, boolean clearBuffer) throws IOException {
        if (passes()) {
            super.sendRedirect(location, clearBuffer);
        }
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        if (passes()) {
            super.sendRedirect(location);
        }
    }

    @Override
    public void setContentType(String type) {
        if (passes()) {
            super.setContentType(type);
        }
    }

    @Override
    public void setContentLength(int len) {
        if (passes()) {
            super.setContentLength(len);
        }
    }

    @Override
    public void setContentLengthLong(long len) {
        if (passes()) {
            super.setContentLengthLong(len);
        }
    }

    /** Trailers pass like headers, X-Sluice-* ones left out. */
    @Override
    public void setTrailerFields(Supplier<Map<String, String>> supplier) {
        if (passes()) {
            super.setTrailerFields(() -> {
                Map<String, String> given = supplier.get();
                Map<String, String> trailers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                trailers.putAll(given == null ? Map.of() : given);
                trailers.keySet().removeIf(HandoffResponse::isSluiceHeader);
                return trailers;
            });
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        if (passes()) {
            super.flushBuffer();
        }
    }

    @Override
    public void reset() {
        if (passes()) {
            super.reset();
            options.clear();
        }
    }

    @Override
    public void resetBuffer() {
        if (passes()) {
            super.resetBuffer();
        }
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (out == null) {
            out = new Out(passes() ? super.getOutputStream() : null);
        }
        return out;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            PrintWriter real = passes() ? super.getWriter() : null;
            writer = new PrintWriter(new Writer() {
                @Override
                public void write(char[] chars, int off, int len) {
                    if (real != null && passes()) {
                        real.write(chars, off, len);
                    }
                }

                @Override
                public void flush() {
                    if (real != null && passes()) {
                        real.flush();
                    }
                }

                @Override
                public void close() {
                    if (real != null && passes()) {
                        real.close();
                    }
                }
            });
        }
        return writer;
    }

    /** The real output stream until a hand-off is asked for, nowhere after ({@code real} null: nowhere at all). */
    private final class Out extends ServletOutputStream {

        private final ServletOutputStream real;

        Out(ServletOutputStream real) {
            this.real = real;
        }

        private boolean writes() {
            return real != null && passes();
        }

        @Override
        public void write(int b) throws IOException {
            if (writes()) {
                real.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (writes()) {
                real.write(b, off, len);
            }
        }

        @Override
        public void write(ByteBuffer buffer) throws IOException {
            if (writes()) {
                real.write(buffer);
            } else {
                buffer.position(buffer.limit());
            }
        }

        @Override
        public void flush() throws IOException {
            if (writes()) {
                real.flush();
            }
        }

        @Override
        public void close() throws IOException {
            if (writes()) {
                real.close();
            }
        }

        @Override
        public boolean isReady() {
            return !writes() || real.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            if (real == null) {
                throw new IllegalStateException("the application's output goes nowhere: it asked for a hand-off");
            }
            real.setWriteListener(listener);
        }
    }
}
