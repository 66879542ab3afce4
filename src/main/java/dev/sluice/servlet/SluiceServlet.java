package dev.sluice.servlet;

import dev.sluice.http.ConditionalHeaders;
import dev.sluice.http.DirectoryListing;
import dev.sluice.http.FilePlanner;
import dev.sluice.http.MediaTypes;
import dev.sluice.http.MethodRegistry;
import dev.sluice.http.PathEncoding;
import dev.sluice.http.Preconditions;
import dev.sluice.http.ResponsePlan;
import dev.sluice.http.SignedLinks;
import dev.sluice.resource.DirectoryEntries;
import dev.sluice.resource.FileCache;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.Resolution;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferMetrics;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.MappingMatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
 * ({@link FilePlanner} decides every status and header), and streaming in {@code dev.sluice.stream}. A file found
 * for a URL is sent by the {@link SluiceSender} this servlet makes in {@code init} and publishes as the
 * servlet-context attribute {@value SluiceSender#CONTEXT_ATTRIBUTE}, the same sender applications call; a
 * {@code FORWARD} dispatch that carries {@link HandoffOption#FILE} sends that file from {@code internalRoot}.
 */
public class SluiceServlet extends HttpServlet {

    /** Values of {@code ?download} that ask for no attachment. */
    private static final Set<String> NO_DOWNLOAD = Set.of("0", "false", "no", "off");
    private static final Logger LOG = Logger.getLogger(SluiceServlet.class.getName());
    private static final String ALLOW = "GET, HEAD, OPTIONS";

    private transient SluiceConfig config;
    private transient FileResolver resolver;
    private transient FileCache files;
    private transient TransferEngine engine;
    private transient SluiceSender sender;
    private transient TransfersJmx jmx;
    private transient Operations operations;
    private transient OpenAhead openAhead;

    @Override
    public void init(ServletConfig servletConfig) throws ServletException {
        super.init(servletConfig);
        try {
            config = readConfig(servletConfig);
        } catch (ConfigException e) {
            LOG.severe(e.getMessage());
            servletConfig.getServletContext().log(e.getMessage());
            // Not UnavailableException: Jetty would keep the webapp running with the servlet unavailable.
            ServletException failure = new ServletException(e.getMessage(), e);
            failure.setStackTrace(new StackTraceElement[0]); // the message says it all (see ConfigException)
            throw failure;
        }
        resolver = new FileResolver(config.root(), config.symlinks(), config.serveHidden(), config.internalRoot());
        files = FileCache.of(resolver, config.cache());
        engine = new TransferEngine(config.engine());
        operations = Operations.start(config, engine, getServletContext(), getServletName());
        sender = new SluiceSender(engine, SluiceSender.Settings.of(config), operations);
        if (Boolean.TRUE.equals(getServletContext().getAttribute(OWN_TIMEOUTS_ATTRIBUTE))) {
            sender.containerTimeoutsAreSluices();
        }
        publish(sender);
        openAhead = new OpenAhead(files, sender, config.engine().maxReadThreads());
        try {
            jmx = TransfersJmx.register(engine::metrics, getServletContext().getContextPath(), getServletName());
        } catch (javax.management.JMException | RuntimeException e) {
            // The counters stay readable through the status path and metrics(); serving files does not need JMX.
            LOG.log(Level.WARNING, "Sluice: could not register its MBean: " + e);
        }
        getServletContext().log("Sluice serving " + config.root() + " with " + config.engine() + "; chunks go by "
                + engine.writeMode(getServletContext().getServerInfo().toLowerCase(Locale.ROOT).startsWith("jetty"))
                + (jmx == null ? "" : "; counters in JMX as " + jmx.name())
                + (files.enabled() ? "; file cache of " + config.cache().maxMemory() + " bytes (files up to "
                + config.cache().maxFileSize() + " bytes), revalidated every " + config.cache().revalidate() : "")
                + (config.internalRoot() == null ? "" : "; hand-offs from " + config.internalRoot())
                + (config.signedLinks() == null ? "" : "; files only for signed links"
                + (config.signedLinks().rotating() ? " (current or previous key)" : "")));
    }

    /** Publishes the sender for the application, unless another Sluice servlet of the context did first. */
    private void publish(SluiceSender mine) {
        var context = getServletContext();
        if (context.getAttribute(SluiceSender.CONTEXT_ATTRIBUTE) == null) {
            context.setAttribute(SluiceSender.CONTEXT_ATTRIBUTE, mine);
        } else {
            LOG.info("Sluice: servlet " + getServletName() + " leaves " + SluiceSender.CONTEXT_ATTRIBUTE
                    + " to the Sluice servlet that set it first");
        }
    }

    /** The sender this servlet sends its files with, also published as {@value SluiceSender#CONTEXT_ATTRIBUTE}. */
    public SluiceSender sender() {
        return sender;
    }

    /**
     * A servlet-context attribute the launcher sets to {@code Boolean.TRUE}: its connector's idle timeout is
     * {@code stallTimeout} + 5 s, so a container timeout that ends a download there is its graceful stop's (Jetty
     * lowers every connection's idle timeout to a second when a stop begins), never a misconfiguration to warn of.
     */
    public static final String OWN_TIMEOUTS_ATTRIBUTE = "dev.sluice.launcher.ownTimeouts";

    /**
     * Context attribute the Jetty module sets to its {@code jetty.base}, so that Sluice can check the names of the
     * {@code sluice.*} properties given to {@code start.jar} (see {@link JettyStartProperties}).
     */
    public static final String JETTY_BASE_ATTRIBUTE = "dev.sluice.jetty.base";

    /** Prefix of context init-params that set Sluice settings, as the Jetty module's properties are named. */
    public static final String CONTEXT_PREFIX = "sluice.";

    /**
     * Reads the settings: a context init-param {@code sluice.<name>} (where a deployment puts it: a Tomcat
     * context file, the Jetty module) wins over the servlet's own init-param {@code <name>} (the WAR's
     * {@code web.xml}), which wins over the default. A name that is no setting's stops start-up wherever it is
     * given: an init-param, a context init-param or context attribute {@code sluice.<name>} (Jetty's deployer makes
     * one of each property in {@code webapps/sluice.properties}), or a property of the Jetty module; and so does a
     * name there that was meant for Sluice but misspells the prefix; a setting's bare name gets a warning
     * ({@link Setting#checkUnprefixed}).
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
            } else {
                // a lambda, not LOG::warning, whose record would name Optional as its source
                Setting.checkUnprefixed(name, "context init-param " + name).ifPresent(warning -> LOG.warning(warning));
            }
        }
        Object jettyBase = context.getAttribute(JETTY_BASE_ATTRIBUTE);
        Path deployerProperties = jettyBase instanceof String base ? Path.of(base, "webapps", "sluice.properties") : null;
        java.util.Set<String> deployerKeys = JettyStartProperties.keysIn(deployerProperties);
        for (String name : Collections.list(context.getAttributeNames())) {
            String where = deployerKeys.contains(name)
                    ? "property " + name + " in " + deployerProperties : "context attribute " + name;
            if (name.startsWith(CONTEXT_PREFIX)) {
                given.putIfAbsent(name.substring(CONTEXT_PREFIX.length()), where);
            } else if (name.indexOf('.') > 0 || deployerKeys.contains(name)) { // bare ones are the container's own
                // a lambda, not LOG::warning, whose record would name Optional as its source
                Setting.checkUnprefixed(name, where).ifPresent(warning -> LOG.warning(warning));
            }
        }
        if (jettyBase instanceof String base) {
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
        if (sender != null && getServletContext().getAttribute(SluiceSender.CONTEXT_ATTRIBUTE) == sender) {
            getServletContext().removeAttribute(SluiceSender.CONTEXT_ATTRIBUTE);
        }
        if (openAhead != null) {
            openAhead.close();
        }
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
        if (files != null) {
            files.close();
        }
    }

    /** What this servlet remembers of the files under its root ({@code cacheMaxMemory}). */
    public FileCache fileCache() {
        return files;
    }

    /** The engine's counters. */
    public TransferMetrics metrics() {
        return engine.metrics();
    }

    /**
     * GET, HEAD and OPTIONS go to their {@code doXxx} methods, which are declared because Tomcat builds the
     * {@code Allow} header of the 405s it answers itself (TRACE) from them; every other registered method is a 405
     * here, and a method HTTP does not know a 501 (RFC 9110 Section 9.1, {@link MethodRegistry}), both with
     * {@code Allow}. A forward that hands a file over ({@link HandoffOption#FILE}) is sent whatever its method, and
     * so is an error page (the container's error dispatch; Jetty's ee10 keeps the failed request's method).
     */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        if (SluiceSender.answerCutOff(request, response)) {
            return;
        }
        if (response.isCommitted() && SluiceSender.answeringAnError(request)) {
            // An error page for a response already under way (Tomcat includes one after a download failed midway):
            // nothing can be added to it, and throwing would only log the failure again.
            return;
        }
        if (request.getDispatcherType() == DispatcherType.FORWARD
                && request.getAttribute(HandoffOption.FILE.attribute()) != null) {
            sender.handOff(request, response, internalRoot -> Handoff.fromAttributes(request, internalRoot,
                    config.engine()), "forward (request attribute " + HandoffOption.FILE.attribute() + ")");
            return;
        }
        String method = request.getMethod();
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            serve(request, response, !method.equals("HEAD")); // the error page of a request of any method
            return;
        }
        if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
            super.service(request, response);
            return;
        }
        response.setHeader("Allow", ALLOW);
        if (MethodRegistry.isRegistered(method)) {
            send(request, response, FilePlanner.text(HttpServletResponse.SC_METHOD_NOT_ALLOWED, "Method Not Allowed",
                    List.of()), true);
        } else {
            send(request, response, FilePlanner.text(HttpServletResponse.SC_NOT_IMPLEMENTED, "Not Implemented",
                    List.of()), true);
        }
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
        OpenAhead.Hop hop = OpenAhead.claim(request);
        try {
            serve(request, response, withBody, hop);
        } finally {
            if (hop != null) {
                hop.release();
            }
        }
    }

    /**
     * Answers a GET or HEAD for a URL under the root; {@code hop} is what {@link OpenAhead} left when this is the
     * dispatch back after it made the request's storage calls, else null.
     */
    private void serve(HttpServletRequest request, HttpServletResponse response, boolean withBody,
            OpenAhead.Hop hop) throws IOException {
        String rawPath = rawPath(request);
        var admin = operations.answer(rawPath, request);
        if (admin.isPresent()) {
            send(request, response, admin.get(), withBody);
            return;
        }
        String signedPath = null;
        // An error page is the webapp's answer to a request already checked, at a location of the webapp's choosing:
        // it needs no signature of its own (asked for one, a 404 behind a genuine link became a 403).
        if (config.signedLinks() != null && request.getDispatcherType() != DispatcherType.ERROR) {
            signedPath = hop != null ? hop.signedPath() : checkSignature(request, response, rawPath, withBody);
            if (signedPath == null) {
                return;
            }
        }
        if (hop == null && openAhead.wanted(request, response, rawPath)) {
            openAhead.hop(request, rawPath, signedPath);
            return;
        }
        Resolution resolution = hop != null && hop.resolution() != null ? hop.resolution() : files.resolve(rawPath);
        if (signedPath != null && !signedPath.equals(decodedPath(resolution))
                && (resolution instanceof Resolution.Found || resolution instanceof Resolution.Directory)) {
            // Never expected (both decode alike); should they ever disagree, the file is not the one signed.
            LOG.warning("Sluice: a signed path resolved to another path: " + signedPath + " / "
                    + decodedPath(resolution));
            forbidden(request, response, withBody);
            return;
        }
        if (resolution instanceof Resolution.Directory directory) {
            if (!directory.hasTrailingSlash()) {
                redirectToDirectory(request, response, directory);
                return;
            }
            String welcome = welcomeFile(rawPath);
            if (welcome == null) {
                directoryWithoutWelcome(directory, rawPath, request, response, withBody);
                return;
            }
            rawPath = welcome;
            resolution = files.resolve(rawPath);
        }
        if (resolution instanceof Resolution.BadRequest) {
            send(request, response, FilePlanner.text(HttpServletResponse.SC_BAD_REQUEST, "Bad Request", List.of()),
                    withBody);
            return;
        }
        if (!(resolution instanceof Resolution.Found found)) {
            notFound(request, response, withBody);
            return;
        }
        sender.sendFound(request, response, found, files, rawPath, urlOptions(request, found),
                hop == null ? null : hop.held());
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
            send(request, response, FilePlanner.text(HttpServletResponse.SC_GONE, "Gone", List.of()), withBody);
        } else {
            if (LOG.isLoggable(Level.FINE)) {
                LOG.fine("Sluice: signed link refused: " + ((SignedLinks.Verdict.Forbidden) verdict).reason());
            }
            forbidden(request, response, withBody);
        }
        return null;
    }

    private static String decodedPath(Resolution resolution) {
        if (resolution instanceof Resolution.Found found) {
            return found.decodedPath();
        }
        return resolution instanceof Resolution.Directory directory ? directory.decodedPath() : null;
    }

    private static void forbidden(HttpServletRequest request, HttpServletResponse response,
            boolean withBody) throws IOException {
        send(request, response, FilePlanner.text(HttpServletResponse.SC_FORBIDDEN, "Forbidden", List.of()), withBody);
    }

    /**
     * How a file found for a URL is sent: its precompressed variants allowed, as an attachment when the URL or the
     * file's extension asks (see {@link #attachmentName}).
     */
    private SendOptions urlOptions(HttpServletRequest request, Resolution.Found found) {
        String name = found.decodedPath().substring(found.decodedPath().lastIndexOf('/') + 1);
        return SendOptions.defaults().withPrecompressed(true).withFilename(attachmentName(request, name));
    }

    /** The name to send the file as an attachment by: when {@code ?download} or its extension asks; else null. */
    private String attachmentName(HttpServletRequest request, String name) {
        String extension = MediaTypes.extension(name);
        if (hasDownloadFlag(request.getQueryString())
                || extension != null && config.responses().attachmentExtensions().contains(extension)) {
            return name;
        }
        return null;
    }

    /**
     * {@code ?download} asks for the file as an attachment, with any value but {@code 0}, {@code false}, {@code no}
     * or {@code off} (in any case), which ask for nothing, as applications write the flag's absence. Name and value
     * are read percent-decoded, as a form's are ({@code %66alse} is {@code false}, {@code +} a space).
     */
    static boolean hasDownloadFlag(String query) {
        if (query == null) {
            return false;
        }
        for (String pair : query.split("&")) {
            int equals = pair.indexOf('=');
            String key = formDecoded(equals < 0 ? pair : pair.substring(0, equals));
            if (key.equals("download")) {
                String value = equals < 0 ? "" : formDecoded(pair.substring(equals + 1)).toLowerCase(Locale.ROOT);
                return !NO_DOWNLOAD.contains(value);
            }
        }
        return false;
    }

    /** A query's name or value as a form encodes it; a malformed escape leaves it as it came. */
    private static String formDecoded(String raw) {
        String decoded = PathEncoding.decodeOrNull(raw.replace('+', ' '));
        return decoded != null ? decoded : raw;
    }

    /** The raw path of the directory's first existing welcome file, or null. */
    private String welcomeFile(String rawDirectoryPath) {
        for (String name : config.responses().welcomeFiles()) {
            String candidate = rawDirectoryPath + PathEncoding.encode(name);
            if (files.resolve(candidate) instanceof Resolution.Found) {
                return candidate;
            }
        }
        return null;
    }

    private void directoryWithoutWelcome(Resolution.Directory directory, String rawPath,
            HttpServletRequest request, HttpServletResponse response, boolean withBody) throws IOException {
        if (!config.responses().dirListing()) {
            send(request, response, FilePlanner.text(HttpServletResponse.SC_FORBIDDEN, "Forbidden", List.of()),
                    withBody);
            return;
        }
        if (!directory.decodedPath().equals("/")) {
            Resolution now;
            try {
                now = files.confirm(rawPath, directory, Files.readAttributes(directory.dir(),
                        BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey());
            } catch (IOException e) {
                now = new Resolution.NotFound("cannot read the directory: " + e);
            }
            if (!(now instanceof Resolution.Directory looked)) {
                notFound(request, response, withBody);
                return;
            }
            // Not the one the cache found when renamed since: what the path leads to now, looked at just now.
            directory = looked;
        }
        // A listing has no ETag and no Last-Modified: only If-Match and If-None-Match "*" can decide (listings
        // answer GET and HEAD only).
        switch (Preconditions.evaluateWithoutValidators(new ConditionalHeaders(SluiceSender.field(request,
                "If-Match"), SluiceSender.field(request, "If-None-Match"), null, null, null), true)) {
            case NOT_MODIFIED -> {
                send(request, response, new ResponsePlan(HttpServletResponse.SC_NOT_MODIFIED, List.of(), List.of(),
                        -1), false);
                return;
            }
            case PRECONDITION_FAILED -> {
                send(request, response, FilePlanner.text(HttpServletResponse.SC_PRECONDITION_FAILED,
                        "Precondition Failed", List.of()), withBody);
                return;
            }
            case CONTINUE -> {
                // the listing
            }
        }
        List<DirectoryListing.Entry> entries = DirectoryEntries.visible(resolver, directory).stream()
                .map(e -> new DirectoryListing.Entry(e.name(), e.directory(), e.size(), e.lastModifiedMillis()))
                .toList();
        String base = directory.decodedPath().endsWith("/") ? directory.decodedPath() : directory.decodedPath() + "/";
        byte[] html = DirectoryListing.html(base, entries).getBytes(StandardCharsets.UTF_8);
        send(request, response, new ResponsePlan(200, List.of(
                new ResponsePlan.Header("Content-Type", "text/html;charset=utf-8"),
                new ResponsePlan.Header("X-Content-Type-Options", "nosniff")),
                List.of(new ResponsePlan.Bytes(html)), html.length), withBody);
    }

    /** Sends a plan whose body, if any, is literal bytes only: small enough to write on this thread. */
    private static void send(HttpServletRequest request, HttpServletResponse response, ResponsePlan plan,
            boolean withBody) throws IOException {
        SluiceSender.writeSmall(request, response, plan, withBody);
    }

    private static void notFound(HttpServletRequest request, HttpServletResponse response, boolean withBody)
            throws IOException {
        send(request, response, FilePlanner.text(HttpServletResponse.SC_NOT_FOUND, "Not Found", List.of()), withBody);
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
     * path would otherwise become a redirect to another site. The query goes along with what a URI may not hold
     * percent-encoded ({@link PathEncoding#encodeQuery}): a container may pass {@code <} or {@code "} through.
     */
    private static void redirectToDirectory(HttpServletRequest request, HttpServletResponse response,
            Resolution.Directory directory) {
        HttpServletMapping mapping = request.getHttpServletMapping();
        String servletPrefix = mapping != null && mapping.getMappingMatch() == MappingMatch.PATH
                ? PathEncoding.encode(request.getServletPath()) : "";
        String query = request.getQueryString();
        response.setStatus(HttpServletResponse.SC_FOUND);
        response.setHeader("Location", request.getContextPath() + servletPrefix
                + PathEncoding.encode(directory.decodedPath()) + "/"
                + (query == null ? "" : "?" + PathEncoding.encodeQuery(query)));
        response.setContentLength(0);
    }
}
