package dev.sluice.servlet;

import dev.sluice.http.AcceptEncoding;
import dev.sluice.http.ConditionalHeaders;
import dev.sluice.http.ContentDisposition;
import dev.sluice.http.DirectoryListing;
import dev.sluice.http.EntityTag;
import dev.sluice.http.FilePlanner;
import dev.sluice.http.MultipartByteranges;
import dev.sluice.http.ResponsePlan;
import dev.sluice.http.SignedLinks;
import dev.sluice.resource.DirectoryEntries;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.OpenedFile;
import dev.sluice.http.PathEncoding;
import dev.sluice.resource.PrecompressedVariants;
import dev.sluice.resource.Resolution;
import dev.sluice.stream.FileVersion;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.Segment;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferLabel;
import dev.sluice.stream.TransferMetrics;
import dev.sluice.stream.TransferRequest;
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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Serves the files under the configured root, without ever making a container thread wait for a disk or a
 * slow client: headers are written here, the body is handed to the {@link TransferEngine} after
 * {@code startAsync()}.
 *
 * <p>This class is glue. Path safety lives in {@link FileResolver}, HTTP rules in {@code dev.sluice.http}
 * ({@link FilePlanner} decides every status and header), and streaming in {@code dev.sluice.stream}.
 */
public class SluiceServlet extends HttpServlet {

    private static final Logger LOG = Logger.getLogger(SluiceServlet.class.getName());
    private static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
    private static final String ALLOW = "GET, HEAD, OPTIONS";
    private static final String RETRY_AFTER_SECONDS = "5";
    private static final Set<String> TEXT_LIKE = Set.of("application/javascript", "application/json",
            "application/xml", "image/svg+xml");

    /** Request attribute that makes a dispatched request cut off its connection; see {@link #cutOff}. */
    static final String CUT_OFF = SluiceServlet.class.getName() + ".cutOff";

    private transient SluiceConfig config;
    private transient FileResolver resolver;
    private transient TransferEngine engine;
    private transient TransfersJmx jmx;
    private transient Operations operations;

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
        try {
            jmx = TransfersJmx.register(engine::metrics, getServletContext().getContextPath(), getServletName());
        } catch (javax.management.JMException | RuntimeException e) {
            // The counters stay readable through the status path and metrics(); serving files does not need JMX.
            LOG.log(Level.WARNING, "Sluice: could not register its MBean: " + e);
        }
        operations = Operations.start(config, engine, getServletContext(), getServletName());
        getServletContext().log("Sluice serving " + config.root() + " with " + config.engine() + "; chunks go by "
                + engine.writeMode() + (jmx == null ? "" : "; counters in JMX as " + jmx.name())
                + (config.signedLinks() == null ? "" : "; files only for signed links"
                + (config.signedLinks().rotating() ? " (current or previous key)" : "")));
    }

    /** Prefix of context init-params that set Sluice settings, as the Jetty module's properties are named. */
    public static final String CONTEXT_PREFIX = "sluice.";

    /**
     * Context attribute the Jetty module sets to its {@code jetty.base}, so that Sluice can check the names of the
     * {@code sluice.*} properties given to {@code start.jar} (see {@link JettyStartProperties}).
     */
    public static final String JETTY_BASE_ATTRIBUTE = "dev.sluice.jetty.base";

    /**
     * Reads the settings: a context init-param {@code sluice.<name>} (where a deployment puts it: a Tomcat
     * context file, the Jetty module) wins over the servlet's own init-param {@code <name>} (the WAR's
     * {@code web.xml}), which wins over the default. A name that is no setting's stops start-up wherever it is
     * given: an init-param, a context init-param or context attribute {@code sluice.<name>} (Jetty's deployer makes
     * one of each property in {@code webapps/sluice.properties}), or a property of the Jetty module.
     */
    static SluiceConfig readConfig(ServletConfig servletConfig) {
        var context = servletConfig.getServletContext();
        Map<String, String> given = new LinkedHashMap<>();
        for (String name : Collections.list(servletConfig.getInitParameterNames())) {
            given.put(name, "init-param " + name + " of servlet " + servletConfig.getServletName());
        }
        for (String name : Collections.list(context.getInitParameterNames())) {
            if (name.startsWith(CONTEXT_PREFIX)) {
                given.putIfAbsent(name.substring(CONTEXT_PREFIX.length()), "context init-param " + name);
            }
        }
        for (String name : Collections.list(context.getAttributeNames())) {
            if (name.startsWith(CONTEXT_PREFIX)) {
                given.putIfAbsent(name.substring(CONTEXT_PREFIX.length()), "context attribute " + name);
            }
        }
        if (context.getAttribute(JETTY_BASE_ATTRIBUTE) instanceof String base) {
            List<String> arguments = ProcessHandle.current().info().arguments().map(List::of).orElse(List.of());
            JettyStartProperties.names(Path.of(base), arguments).forEach(given::putIfAbsent);
        }
        return SluiceConfig.from(name -> {
            String deployed = context.getInitParameter(CONTEXT_PREFIX + name);
            return deployed != null ? deployed : servletConfig.getInitParameter(name);
        }, given);
    }

    @Override
    public void destroy() {
        if (operations != null) {
            operations.close();
        }
        if (jmx != null) {
            jmx.unregister();
            jmx = null;
        }
        if (engine != null) {
            engine.close();
        }
    }

    /** The engine's counters. */
    public TransferMetrics metrics() {
        return engine.metrics();
    }

    /**
     * GET, HEAD and OPTIONS go to their {@code doXxx} methods, which are declared because Tomcat builds the
     * {@code Allow} header of the 405s it answers itself (TRACE) from them; every other method is a 405 here.
     */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        if (request.getAttribute(CUT_OFF) != null) {
            throw new IOException("Sluice cut off a response whose file could not be read as announced");
        }
        String method = request.getMethod();
        if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
            super.service(request, response);
            return;
        }
        response.setHeader("Allow", ALLOW);
        send(response, FilePlanner.text(HttpServletResponse.SC_METHOD_NOT_ALLOWED, "Method Not Allowed",
                List.of()), true);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, true);
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, false);
    }

    @Override
    protected void doOptions(HttpServletRequest request, HttpServletResponse response) {
        response.setHeader("Allow", ALLOW);
        response.setContentLength(0);
    }

    private void serve(HttpServletRequest request, HttpServletResponse response, boolean withBody)
            throws IOException {
        String rawPath = rawPath(request);
        var admin = operations.answer(rawPath, request);
        if (admin.isPresent()) {
            send(response, admin.get(), withBody);
            return;
        }
        String signedPath = null;
        if (config.signedLinks() != null) {
            signedPath = checkSignature(request, response, rawPath, withBody);
            if (signedPath == null) {
                return;
            }
        }
        Resolution resolution = resolver.resolve(rawPath);
        if (signedPath != null && !signedPath.equals(decodedPath(resolution))
                && (resolution instanceof Resolution.Found || resolution instanceof Resolution.Directory)) {
            // Never expected (both decode alike); should they ever disagree, the file is not the one signed.
            LOG.warning("Sluice: a signed path resolved to another path: " + signedPath + " / "
                    + decodedPath(resolution));
            forbidden(response, withBody);
            return;
        }
        if (resolution instanceof Resolution.Directory directory) {
            if (!directory.hasTrailingSlash()) {
                redirectToDirectory(request, response, directory);
                return;
            }
            rawPath = welcomeFile(rawPath);
            if (rawPath == null) {
                directoryWithoutWelcome(directory, response, withBody);
                return;
            }
            resolution = resolver.resolve(rawPath);
        }
        if (resolution instanceof Resolution.BadRequest) {
            send(response, FilePlanner.text(HttpServletResponse.SC_BAD_REQUEST, "Bad Request", List.of()), withBody);
            return;
        }
        if (!(resolution instanceof Resolution.Found found)) {
            notFound(response, withBody);
            return;
        }
        Variant variant = variant(request, rawPath, found);
        OpenedFile file;
        try {
            file = OpenedFile.open(variant.path());
        } catch (NoSuchFileException e) {
            notFound(response, withBody);
            return;
        } catch (AccessDeniedException e) {
            send(response, FilePlanner.text(HttpServletResponse.SC_FORBIDDEN, "Forbidden", List.of()), withBody);
            return;
        }
        ResponsePlan plan;
        try {
            plan = FilePlanner.plan(planRequest(request), representation(request, found, variant, file),
                    new FilePlanner.Options(config.responses().acceptRanges(), config.responses().maxRanges(),
                            config.responses().cacheControl()), MultipartByteranges::newBoundary);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        if (!withBody || plan.body().isEmpty() || plan.body().stream().noneMatch(
                p -> p instanceof ResponsePlan.FilePart)) {
            file.close();
            send(response, plan, withBody);
            return;
        }
        applyHead(response, plan);
        if (sendfile(request, response, plan, file)) {
            return;
        }
        stream(request, response, file, segments(plan), plan.contentLength(),
                new TransferLabel(found.decodedPath(), describeRange(plan)));
    }

    /**
     * With signing keys set, checks the request's signed link before anything is resolved, so that a refusal says
     * nothing about whether a file exists: 403 for a missing or bad signature, 410 for a genuine link past its
     * expiry. Checked once, when the request arrives: a download that started in time runs to its end.
     *
     * @return the verified canonical path, or null when the refusal has been sent
     */
    private String checkSignature(HttpServletRequest request, HttpServletResponse response, String rawPath,
            boolean withBody) throws IOException {
        SignedLinks.Verdict verdict = config.signedLinks().verify(rawPath, request.getQueryString(),
                request.getRemoteAddr(), Math.floorDiv(System.currentTimeMillis(), 1000L));
        if (verdict instanceof SignedLinks.Verdict.Valid valid) {
            return valid.path();
        }
        if (verdict instanceof SignedLinks.Verdict.Expired) {
            send(response, FilePlanner.text(HttpServletResponse.SC_GONE, "Gone", List.of()), withBody);
        } else {
            if (LOG.isLoggable(Level.FINE)) {
                LOG.fine("Sluice: signed link refused: " + ((SignedLinks.Verdict.Forbidden) verdict).reason());
            }
            forbidden(response, withBody);
        }
        return null;
    }

    private static String decodedPath(Resolution resolution) {
        if (resolution instanceof Resolution.Found found) {
            return found.decodedPath();
        }
        return resolution instanceof Resolution.Directory directory ? directory.decodedPath() : null;
    }

    private static void forbidden(HttpServletResponse response, boolean withBody) throws IOException {
        send(response, FilePlanner.text(HttpServletResponse.SC_FORBIDDEN, "Forbidden", List.of()), withBody);
    }

    /** The part of the file a plan sends, in words, for the flight recorder and the log. */
    private static String describeRange(ResponsePlan plan) {
        long parts = plan.body().stream().filter(p -> p instanceof ResponsePlan.FilePart).count();
        if (parts > 1) {
            return "multipart " + parts + " ranges";
        }
        return plan.headers().stream().filter(h -> h.name().equals("Content-Range")).map(ResponsePlan.Header::value)
                .findFirst().orElse("full");
    }

    /**
     * Lets Tomcat send the body itself (see {@link TomcatSendfile}) when it offers to, the setting allows it, no
     * limit needs the engine to see the transfer, and the body is one file region of a known length. The head is
     * already set; on success the file is closed here and no body is written.
     */
    private boolean sendfile(HttpServletRequest request, HttpServletResponse response, ResponsePlan plan,
            OpenedFile file) throws IOException {
        if (!config.sendfile() || !config.unthrottled() || plan.body().size() != 1
                || !(plan.body().get(0) instanceof ResponsePlan.FilePart part) || plan.contentLength() != part.length()
                || !TomcatSendfile.offered(request, response)
                || !TomcatSendfile.handOff(request, file, part.first(), part.length())) {
            return false;
        }
        file.close();
        engine.countHandedOff(part.length());
        operations.handedOff(request, response, part.length());
        return true;
    }

    /** A file, or the precompressed variant of it chosen by Accept-Encoding. */
    private record Variant(Path path, String coding) {
    }

    private Variant variant(HttpServletRequest request, String rawPath, Resolution.Found found) {
        List<String> codings = config.responses().precompressed();
        if (codings.isEmpty()) {
            return new Variant(found.file(), null);
        }
        AcceptEncoding accepted = AcceptEncoding.parse(request.getHeader("Accept-Encoding"));
        List<PrecompressedVariants.Variant> fresh = PrecompressedVariants.fresh(resolver, rawPath, found.file(),
                codings.stream().filter(accepted::accepts).toList());
        return AcceptEncoding.choose(accepted, fresh.stream().map(PrecompressedVariants.Variant::coding).toList())
                .flatMap(chosen -> fresh.stream().filter(v -> v.coding().equals(chosen)).findFirst())
                .map(v -> new Variant(v.path(), v.coding()))
                .orElse(new Variant(found.file(), null));
    }

    private FilePlanner.Representation representation(HttpServletRequest request, Resolution.Found found,
            Variant variant, OpenedFile file) {
        EntityTag etag = EntityTag.strong(file.size(), file.lastModifiedMillis());
        if (variant.coding() != null) {
            etag = new EntityTag(etag.opaque() + "-" + variant.coding(), false);
        }
        String name = found.decodedPath().substring(found.decodedPath().lastIndexOf('/') + 1);
        return new FilePlanner.Representation(file.size(), file.lastModifiedMillis(), etag,
                contentType(found.decodedPath()), variant.coding(), !config.responses().precompressed().isEmpty(),
                disposition(request, name));
    }

    private static FilePlanner.Request planRequest(HttpServletRequest request) {
        return new FilePlanner.Request(FilePlanner.normalizeMethod(request.getMethod()),
                new ConditionalHeaders(request.getHeader("If-Match"), request.getHeader("If-None-Match"),
                        request.getHeader("If-Modified-Since"), request.getHeader("If-Unmodified-Since"),
                        request.getHeader("If-Range")),
                request.getHeader("Range"));
    }

    private String contentType(String decodedPath) {
        String type = getServletContext().getMimeType(decodedPath);
        if (type == null) {
            return DEFAULT_CONTENT_TYPE;
        }
        String charset = config.responses().textCharset();
        String base = type.toLowerCase(Locale.ROOT);
        if (charset != null && !base.contains("charset=") && (base.startsWith("text/") || TEXT_LIKE.contains(base))) {
            return type + ";charset=" + charset;
        }
        return type;
    }

    private String disposition(HttpServletRequest request, String name) {
        int dot = name.lastIndexOf('.');
        String extension = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        if (hasDownloadFlag(request.getQueryString()) || config.responses().attachmentExtensions().contains(extension)) {
            return ContentDisposition.attachment(name);
        }
        return null;
    }

    /** {@code ?download} (with or without a value) asks for the file as an attachment. */
    static boolean hasDownloadFlag(String query) {
        if (query == null) {
            return false;
        }
        for (String pair : query.split("&")) {
            String key = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
            if (key.equals("download")) {
                return true;
            }
        }
        return false;
    }

    /** The raw path of the directory's first existing welcome file, or null. */
    private String welcomeFile(String rawDirectoryPath) {
        for (String name : config.responses().welcomeFiles()) {
            String candidate = rawDirectoryPath + PathEncoding.encode(name);
            if (resolver.resolve(candidate) instanceof Resolution.Found) {
                return candidate;
            }
        }
        return null;
    }

    private void directoryWithoutWelcome(Resolution.Directory directory, HttpServletResponse response,
            boolean withBody) throws IOException {
        if (!config.responses().dirListing()) {
            send(response, FilePlanner.text(HttpServletResponse.SC_FORBIDDEN, "Forbidden", List.of()), withBody);
            return;
        }
        List<DirectoryListing.Entry> entries = DirectoryEntries.visible(resolver, directory).stream()
                .map(e -> new DirectoryListing.Entry(e.name(), e.directory(), e.size(), e.lastModifiedMillis()))
                .toList();
        String base = directory.decodedPath().endsWith("/") ? directory.decodedPath() : directory.decodedPath() + "/";
        byte[] html = DirectoryListing.html(base, entries).getBytes(StandardCharsets.UTF_8);
        send(response, new ResponsePlan(200, List.of(
                new ResponsePlan.Header("Content-Type", "text/html;charset=utf-8"),
                new ResponsePlan.Header("X-Content-Type-Options", "nosniff")),
                List.of(new ResponsePlan.Bytes(html)), html.length), withBody);
    }

    private static List<Segment> segments(ResponsePlan plan) {
        List<Segment> segments = new ArrayList<>(plan.body().size());
        for (ResponsePlan.Part part : plan.body()) {
            if (part instanceof ResponsePlan.FilePart file) {
                segments.add(new Segment.FileRegion(file.first(), file.length()));
            } else if (part instanceof ResponsePlan.Bytes bytes) {
                segments.add(Segment.Literal.of(bytes.bytes()));
            }
        }
        return segments;
    }

    private static void applyHead(HttpServletResponse response, ResponsePlan plan) {
        response.setStatus(plan.status());
        for (ResponsePlan.Header header : plan.headers()) {
            if (header.name().equals("Content-Type")) {
                response.setContentType(header.value());
            } else {
                response.setHeader(header.name(), header.value());
            }
        }
        if (plan.contentLength() >= 0) {
            response.setContentLengthLong(plan.contentLength());
        }
    }

    /** Sends a plan whose body, if any, is literal bytes only: small enough to write on this thread. */
    private static void send(HttpServletResponse response, ResponsePlan plan, boolean withBody) throws IOException {
        applyHead(response, plan);
        if (withBody) {
            for (ResponsePlan.Part part : plan.body()) {
                response.getOutputStream().write(((ResponsePlan.Bytes) part).bytes());
            }
        }
    }

    /** maxTransfers are running: tell the client to come back rather than queue it. Nothing is committed yet. */
    private static void busy(HttpServletResponse response) throws IOException {
        response.reset();
        response.setHeader("Retry-After", RETRY_AFTER_SECONDS);
        send(response, FilePlanner.text(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Service Unavailable",
                List.of()), true);
    }

    private static void notFound(HttpServletResponse response, boolean withBody) throws IOException {
        send(response, FilePlanner.text(HttpServletResponse.SC_NOT_FOUND, "Not Found", List.of()), withBody);
    }

    private void stream(HttpServletRequest request, HttpServletResponse response, OpenedFile file,
            List<Segment> body, long total, TransferLabel label) throws IOException {
        AsyncContext async;
        try {
            async = request.startAsync();
            async.setTimeout(0); // a wall-clock limit kills long downloads that are progressing; stalls end them
            FileVersion version = file.fileKey() == null ? null
                    : new FileVersion(file.fileKey(), file.size(), file.lastModifiedMillis());
            TransferRequest transfer = TransferRequest.of(response.getOutputStream(), file.channel(), body,
                            operations.accessLogged(request, response, label,
                                    (outcome, bytes, cause) -> ended(async, label, outcome, bytes, total, cause)))
                    .withFile(version, file.path()).withClientKey(request.getRemoteAddr())
                    .withUserKey(request.getRemoteUser()).withLabel(label);
            if (engine.start(transfer).isEmpty()) {
                file.close();
                busy(response);
                async.complete();
            }
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private void ended(AsyncContext async, TransferLabel label, Outcome outcome, long bytes, long total,
            Throwable cause) {
        if (outcome != Outcome.COMPLETED) {
            logEnd(label, outcome, bytes, total, cause);
        }
        try {
            if (outcome == Outcome.FAILED) {
                cutOff(async);
            } else {
                async.complete();
            }
        } catch (IllegalStateException e) {
            // The container already ended the request (Tomcat does after an onError left uncompleted).
            LOG.fine("Sluice: request already ended by the container: " + e.getMessage());
        }
    }

    /**
     * One line per transfer that did not complete; nothing per chunk. An abort is the client's doing and normal
     * for a file server, so it is {@code FINE}; a failure is the server breaking a promise (read error, file
     * shrank), so it is {@code WARNING}. The cause's stack trace only at {@code FINE}, where someone asked for it.
     */
    private static void logEnd(TransferLabel label, Outcome outcome, long bytes, long total, Throwable cause) {
        Level level = outcome == Outcome.FAILED ? Level.WARNING : Level.FINE;
        if (!LOG.isLoggable(level)) {
            return;
        }
        String line = "Sluice: " + label.file() + " (" + label.range() + ") " + outcome.name().toLowerCase(Locale.ROOT)
                + " after " + bytes + " of " + total + " bytes: " + cause;
        LOG.log(level, line, LOG.isLoggable(Level.FINE) ? cause : null);
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

    /**
     * A directory named without its trailing slash: send the client to it, so relative links resolve. The
     * location is rebuilt from the normalized path, never copied from the request: {@code //host} as a request
     * path would otherwise become a redirect to another site.
     */
    private static void redirectToDirectory(HttpServletRequest request, HttpServletResponse response,
            Resolution.Directory directory) {
        HttpServletMapping mapping = request.getHttpServletMapping();
        String servletPrefix = mapping != null && mapping.getMappingMatch() == MappingMatch.PATH
                ? PathEncoding.encode(request.getServletPath()) : "";
        String query = request.getQueryString();
        response.setStatus(HttpServletResponse.SC_FOUND);
        response.setHeader("Location", request.getContextPath() + servletPrefix
                + PathEncoding.encode(directory.decodedPath()) + "/" + (query == null ? "" : "?" + query));
        response.setContentLength(0);
    }
}
