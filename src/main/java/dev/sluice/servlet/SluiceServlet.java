package dev.sluice.servlet;

import dev.sluice.http.EntityTag;
import dev.sluice.http.HttpDate;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.OpenedFile;
import dev.sluice.resource.Resolution;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.Segment;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferMetrics;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.MappingMatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Serves the files under the configured root, without ever making a container thread wait for a disk or a
 * slow client: headers are written here, the body is handed to the {@link TransferEngine} after
 * {@code startAsync()}.
 *
 * <p>This class is glue. Path safety lives in {@link FileResolver}, HTTP rules in {@code dev.sluice.http}, and
 * streaming in {@code dev.sluice.stream}.
 */
public class SluiceServlet extends HttpServlet {

    private static final Logger LOG = Logger.getLogger(SluiceServlet.class.getName());
    private static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
    private static final String WELCOME_FILE = "index.html";

    /** Request attribute that makes a dispatched request cut off its connection; see {@link #cutOff}. */
    static final String CUT_OFF = SluiceServlet.class.getName() + ".cutOff";

    private transient SluiceConfig config;
    private transient FileResolver resolver;
    private transient TransferEngine engine;

    @Override
    public void init(ServletConfig servletConfig) throws ServletException {
        super.init(servletConfig);
        try {
            config = readConfig(servletConfig);
        } catch (ConfigException e) {
            LOG.severe(e.getMessage());
            servletConfig.getServletContext().log(e.getMessage());
            // Not UnavailableException: Jetty would keep the webapp running with the servlet unavailable.
            throw new ServletException(e.getMessage(), e);
        }
        resolver = new FileResolver(config.root(), config.symlinks(), config.serveHidden());
        engine = new TransferEngine(config.engine());
        getServletContext().log("Sluice serving " + config.root() + " with " + config.engine());
    }

    static SluiceConfig readConfig(ServletConfig servletConfig) {
        Set<String> names = new HashSet<>(Collections.list(servletConfig.getInitParameterNames()));
        return SluiceConfig.from(servletConfig::getInitParameter, names);
    }

    @Override
    public void destroy() {
        if (engine != null) {
            engine.close();
        }
    }

    /** The engine's counters. */
    public TransferMetrics metrics() {
        return engine.metrics();
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, true);
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, false);
    }

    private void serve(HttpServletRequest request, HttpServletResponse response, boolean withBody)
            throws IOException {
        if (request.getAttribute(CUT_OFF) != null) {
            throw new IOException("Sluice cut off a response whose file could not be read as announced");
        }
        String rawPath = rawPath(request);
        Resolution resolution = resolver.resolve(rawPath);
        if (resolution instanceof Resolution.Directory directory) {
            if (!directory.hasTrailingSlash()) {
                redirectToDirectory(request, response);
                return;
            }
            resolution = resolver.resolve(rawPath + WELCOME_FILE);
        }
        if (resolution instanceof Resolution.BadRequest) {
            plainError(response, HttpServletResponse.SC_BAD_REQUEST, "Bad Request");
            return;
        }
        if (!(resolution instanceof Resolution.Found found)) {
            plainError(response, HttpServletResponse.SC_NOT_FOUND, "Not Found");
            return;
        }
        OpenedFile file;
        try {
            file = OpenedFile.open(found.file());
        } catch (NoSuchFileException e) {
            plainError(response, HttpServletResponse.SC_NOT_FOUND, "Not Found");
            return;
        } catch (AccessDeniedException e) {
            plainError(response, HttpServletResponse.SC_FORBIDDEN, "Forbidden");
            return;
        }
        try {
            String contentType = getServletContext().getMimeType(found.decodedPath());
            response.setContentType(contentType == null ? DEFAULT_CONTENT_TYPE : contentType);
            response.setContentLengthLong(file.size());
            response.setHeader("Last-Modified", HttpDate.format(file.lastModifiedMillis()));
            response.setHeader("ETag", EntityTag.strong(file.size(), file.lastModifiedMillis()).toHeaderValue());
            response.setHeader("Accept-Ranges", "bytes");
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        if (!withBody || file.size() == 0) {
            file.close();
            return;
        }
        stream(request, response, file, List.of(new Segment.FileRegion(0, file.size())));
    }

    private void stream(HttpServletRequest request, HttpServletResponse response, OpenedFile file,
            List<Segment> body) throws IOException {
        AsyncContext async;
        try {
            async = request.startAsync();
            async.setTimeout(0); // a wall-clock limit kills long downloads that are progressing; stalls end them
            engine.start(response.getOutputStream(), file.channel(), body,
                    (outcome, bytes, cause) -> ended(async, file, outcome, bytes, cause));
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private void ended(AsyncContext async, OpenedFile file, Outcome outcome, long bytes, Throwable cause) {
        if (outcome == Outcome.FAILED) {
            LOG.log(Level.WARNING, "Sluice: sending " + file.path() + " failed after " + bytes + " bytes: " + cause);
            cutOff(async);
            return;
        }
        if (outcome == Outcome.ABORTED && LOG.isLoggable(Level.FINE)) {
            LOG.fine("Sluice: download of " + file.path() + " aborted after " + bytes + " bytes: " + cause);
        }
        async.complete();
    }

    /**
     * Ends a response whose body cannot be sent as its headers promised, so the client sees a broken download
     * rather than a short body it might take as whole. Completing normally would not do: Tomcat ends such a
     * response "cleanly" and keeps the connection, so the client waits for bytes that never come. A dispatch
     * that throws after the response is committed makes both Tomcat and Jetty close the connection.
     */
    private static void cutOff(AsyncContext async) {
        async.getRequest().setAttribute(CUT_OFF, Boolean.TRUE);
        async.dispatch();
    }

    /** The request's path below this servlet, still percent-encoded, for the resolver to decode exactly once. */
    static String rawPath(HttpServletRequest request) {
        String uri = request.getRequestURI();
        String contextPath = request.getContextPath();
        String path = uri.startsWith(contextPath) ? uri.substring(contextPath.length()) : uri;
        HttpServletMapping mapping = request.getHttpServletMapping();
        if (mapping != null && mapping.getMappingMatch() == MappingMatch.PATH) {
            int segments = (int) request.getServletPath().chars().filter(c -> c == '/').count();
            int cut = 0;
            for (int i = 0; i < segments && cut >= 0; i++) {
                cut = path.indexOf('/', cut + 1);
            }
            path = cut < 0 ? "" : path.substring(cut);
        }
        return path;
    }

    /** A directory named without its trailing slash: send the client to it, so relative links resolve. */
    private static void redirectToDirectory(HttpServletRequest request, HttpServletResponse response) {
        String query = request.getQueryString();
        response.setStatus(HttpServletResponse.SC_FOUND);
        response.setHeader("Location", request.getRequestURI() + "/" + (query == null ? "" : "?" + query));
        response.setContentLength(0);
    }

    private static void plainError(HttpServletResponse response, int status, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("text/plain;charset=utf-8");
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
