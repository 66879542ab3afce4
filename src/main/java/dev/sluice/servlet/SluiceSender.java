package dev.sluice.servlet;

import dev.sluice.http.AcceptEncoding;
import dev.sluice.http.ConditionalHeaders;
import dev.sluice.http.ContentDisposition;
import dev.sluice.http.EntityTag;
import dev.sluice.http.FilePlanner;
import dev.sluice.http.MediaTypes;
import dev.sluice.http.MultipartByteranges;
import dev.sluice.http.ResponsePlan;
import dev.sluice.resource.FileCache;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.OpenedFile;
import dev.sluice.resource.PrecompressedVariants;
import dev.sluice.resource.Resolution;
import dev.sluice.resource.SharedFiles;
import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.FileChangedException;
import dev.sluice.stream.FileShrankException;
import dev.sluice.stream.FileVersion;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.Segment;
import dev.sluice.stream.StalledException;
import dev.sluice.stream.Transfer;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferLabel;
import dev.sluice.stream.TransferListener;
import dev.sluice.stream.TransferRequest;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletConnection;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends a file as Sluice sends its own: the public way for code in the same web application (a servlet, a
 * filter, a framework's controller) or an application that embeds Sluice to let Sluice answer a request with a
 * file it chose, typically after deciding who may have it.
 *
 * <pre>{@code
 * SluiceSender sender = SluiceSender.from(getServletContext());  // published by SluiceServlet
 * if (!allowed(request)) { response.sendError(403); return; }
 * sender.send(request, response, Path.of("/srv/private/report.pdf"),
 *         SendOptions.defaults().withFilename("Report 2024.pdf").withRate(new RateLimit(1 << 20, 0)));
 * return;  // the body goes on without this thread
 * }</pre>
 *
 * <p>{@link #send} does for the file what {@link SluiceServlet} does for a URL, by the same code: GET and HEAD,
 * ranges and {@code multipart/byteranges}, {@code If-Range} and every precondition (304, 412, 416), the strong
 * {@code ETag} and {@code Last-Modified} of the file as opened, {@code Content-Type}, precompressed variants when
 * asked, the body streamed by the {@link TransferEngine} without holding a thread (the request goes async), the
 * engine's counters and flight-recorder event. The forward and response-header hand-offs ({@link HandoffOption},
 * {@link HandoffFilter}) come here too.
 *
 * <p>{@link SluiceServlet} makes one in {@code init} and publishes it as the servlet-context attribute
 * {@value #CONTEXT_ATTRIBUTE}; an embedder makes its own over a {@link TransferEngine} it owns (and closes).
 * Instances are thread-safe.
 */
public final class SluiceSender {

    /** The servlet-context attribute under which {@link SluiceServlet} publishes its sender. */
    public static final String CONTEXT_ATTRIBUTE = "dev.sluice.servlet.SluiceSender";

    /** The message of the exception for a request that cannot go async. */
    static final String NOT_ASYNC = "request does not support async: a filter or servlet in the chain lacks"
            + " async-supported (Sluice streams the body after startAsync)";

    /**
     * Request attribute set once Sluice answers a request: a second call on it is refused before it harms. An
     * error dispatch (the container's error page, which Sluice may serve) is a new answer and may still come.
     */
    static final String ANSWERING = SluiceSender.class.getName() + ".answering";

    /** Request attribute that makes a dispatched request cut off its connection; see {@link #cutOff}. */
    static final String CUT_OFF = SluiceSender.class.getName() + ".cutOff";
    /**
     * Request attribute beside {@link #CUT_OFF}: the body failed before its first byte was written; its value is the
     * status to answer ({@link #statusOfAFailureBeforeTheFirstByte}).
     */
    static final String FAILED_UNSENT = SluiceSender.class.getName() + ".failedUnsent";

    private static final Logger LOG = Logger.getLogger(SluiceSender.class.getName());

    /** The piece an error page's body is written in. */
    private static final int ERROR_PAGE_PIECE = 16 * 1024;
    private static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
    private static final String RETRY_AFTER_SECONDS = "5";
    /**
     * How soon a client may ask again for a file that was changed in place before its first byte was sent: a copy
     * over a file takes milliseconds.
     */
    private static final String RETRY_CHANGED_AFTER_SECONDS = "1";
    /**
     * What an error page keeps of an error's plan: the range it could not satisfy, when to try again, what the
     * answer varies on.
     */
    private static final Set<String> ERROR_PAGE_HEADERS = Set.of("Content-Range", "Retry-After", "Vary");
    /**
     * Headers that say how the body's bytes are coded or cut, which only Sluice knows: a caller's, set before
     * {@link #send} ({@code Content-Encoding: gzip} over a plain file, a {@code Content-Range} on a 200), would make
     * clients decode or place the bytes wrongly. The plan sets them where they apply.
     */
    private static final List<String> BODY_CODING_HEADERS = List.of("Content-Encoding", "Content-Range");

    /**
     * How a sender answers, apart from what each call asks: the same choices as Sluice's settings of the same
     * names.
     *
     * @param acceptRanges whether Range requests are honoured ({@code acceptRanges})
     * @param maxRanges most ranges one request may ask for ({@code maxRanges})
     * @param cacheControl the Cache-Control value when a call gives none, or null ({@code cacheControl})
     * @param textCharset the charset announced for text types, or null ({@code textCharset})
     * @param precompressed content codings whose variants may be sent when a call allows them, in order of
     *        preference ({@code precompressed})
     * @param sendfile whether Tomcat's sendfile may send a body that needs no pacing ({@code sendfile}), where
     *        nothing of the application runs after the hand-off: Sluice's own URLs and the header hand-off, never a
     *        call of {@link SluiceSender#send}, after which an application's error would go out with the file as
     *        its body
     * @param internalRoot the directory whose files the forward and header hand-offs may send, or null: no
     *        hand-offs ({@code internalRoot})
     * @param symlinks which symlinks under {@code internalRoot} may be followed ({@code followSymlinks})
     * @param serveHidden whether dot-files under {@code internalRoot} may be sent ({@code serveHidden})
     * @param mediaTypes the types of files by extension, when a call gives none ({@code mimeTypes})
     */
    public record Settings(boolean acceptRanges, int maxRanges, String cacheControl, String textCharset,
            List<String> precompressed, boolean sendfile, Path internalRoot, SymlinkPolicy symlinks,
            boolean serveHidden, MediaTypes mediaTypes) {

        /** The settings without {@code mediaTypes}: the container's types over Sluice's own table. */
        public Settings(boolean acceptRanges, int maxRanges, String cacheControl, String textCharset,
                List<String> precompressed, boolean sendfile, Path internalRoot, SymlinkPolicy symlinks,
                boolean serveHidden) {
            this(acceptRanges, maxRanges, cacheControl, textCharset, precompressed, sendfile, internalRoot, symlinks,
                    serveHidden, MediaTypes.builtIn());
        }

        /**
         * @throws IllegalArgumentException if {@code cacheControl} has a character that is not visible ASCII, space
         *         or tab (it would split the head), a coding of {@code precompressed} is not one Sluice knows, or
         *         {@code maxRanges} is below 1
         */
        public Settings {
            precompressed = List.copyOf(precompressed);
            SendOptions.checkCacheControl(cacheControl);
            Set<String> known = new java.util.TreeSet<>(PrecompressedVariants.SUFFIXES.keySet());
            for (String coding : precompressed) {
                if (!known.contains(coding)) {
                    throw new IllegalArgumentException("not a coding Sluice has variants for (" + String.join(", ",
                            known) + "): " + LogText.quote(coding));
                }
            }
            Objects.requireNonNull(symlinks, "symlinks");
            Objects.requireNonNull(mediaTypes, "mediaTypes");
            if (maxRanges < 1) {
                throw new IllegalArgumentException("maxRanges must be at least 1: " + maxRanges);
            }
        }

        /**
         * Sluice's defaults, as {@link SluiceServlet} has them: ranges (16 at most), no Cache-Control, utf-8 text,
         * no variants, Tomcat's sendfile where the container offers it, no hand-offs, the container's media types
         * over Sluice's own.
         */
        public static Settings defaults() {
            return new Settings(true, 16, null, "utf-8", List.of(), true, null, SymlinkPolicy.INSIDE_ROOT, false,
                    MediaTypes.builtIn());
        }

        /** The settings of {@code config}, as {@link SluiceServlet} uses them. */
        static Settings of(SluiceConfig config) {
            SluiceConfig.Responses r = config.responses();
            return new Settings(r.acceptRanges(), r.maxRanges(), r.cacheControl(), r.textCharset(), r.precompressed(),
                    config.sendfile(), config.internalRoot(), config.symlinks(), config.serveHidden(), r.mediaTypes());
        }

        public Settings withCacheControl(String value) {
            return new Settings(acceptRanges, maxRanges, value, textCharset, precompressed, sendfile, internalRoot,
                    symlinks, serveHidden, mediaTypes);
        }

        public Settings withPrecompressed(List<String> codings) {
            return new Settings(acceptRanges, maxRanges, cacheControl, textCharset, codings, sendfile, internalRoot,
                    symlinks, serveHidden, mediaTypes);
        }

        public Settings withSendfile(boolean enabled) {
            return new Settings(acceptRanges, maxRanges, cacheControl, textCharset, precompressed, enabled,
                    internalRoot, symlinks, serveHidden, mediaTypes);
        }

        public Settings withInternalRoot(Path directory) {
            return new Settings(acceptRanges, maxRanges, cacheControl, textCharset, precompressed, sendfile,
                    directory, symlinks, serveHidden, mediaTypes);
        }
    }

    private final TransferEngine engine;
    private final Settings settings;
    private final FileResolver internal;
    private final Operations operations;
    /** What each keep-alive connection's downloads proved about its client, for the next one's first chunk. */
    private final ConnectionHistory history = new ConnectionHistory();
    /** One descriptor for all the responses sending the same version of a file at once. */
    private final SharedFiles files = new SharedFiles();
    private final AtomicBoolean containerTimeoutTold = new AtomicBoolean();
    private final LogLimit cannotOpenLines = LogLimit.perSecond();
    private final LogLimit failedLines = LogLimit.perSecond();

    /** A sender over {@code engine} with {@link Settings#defaults()}. */
    public SluiceSender(TransferEngine engine) {
        this(engine, Settings.defaults());
    }

    /**
     * A sender over {@code engine}, which the caller keeps owning (it closes it when the application stops).
     *
     * @throws IllegalArgumentException if {@code settings.internalRoot()} is not an existing, readable directory
     */
    public SluiceSender(TransferEngine engine, Settings settings) {
        this(engine, settings, null);
    }

    /** The servlet's sender: {@code operations} logs each body it sends ({@code accessLog}), when given. */
    SluiceSender(TransferEngine engine, Settings settings, Operations operations) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.operations = operations;
        this.internal = settings.internalRoot() == null ? null : internalRoot(settings);
    }

    private static FileResolver internalRoot(Settings settings) {
        try {
            return new FileResolver(settings.internalRoot(), settings.symlinks(), settings.serveHidden());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("internalRoot: " + e.getMessage(), e);
        }
    }

    /**
     * The sender {@link SluiceSender} published in {@code context}.
     *
     * @throws IllegalStateException if there is none: no {@link SluiceServlet} in this application has been
     *         initialised (give it {@code load-on-startup})
     */
    public static SluiceSender from(ServletContext context) {
        Objects.requireNonNull(context, "context");
        Object sender = context.getAttribute(CONTEXT_ATTRIBUTE);
        if (sender instanceof SluiceSender found) {
            return found;
        }
        throw new IllegalStateException("no SluiceSender in the servlet context attribute " + CONTEXT_ATTRIBUTE
                + ": is SluiceServlet in this application, with load-on-startup?");
    }

    public Settings settings() {
        return settings;
    }

    /** The descriptors this sender's responses share; {@link OpenAhead} opens files there for them. */
    SharedFiles sharedFiles() {
        return files;
    }

    /**
     * Whether Tomcat's sendfile may send this request's body (offered, {@code sendfile} on, no limit set for every
     * download; see {@link #sendfile}): then the request must not go async before it is answered, or Tomcat never
     * runs its sendfile.
     */
    boolean tomcatMaySendfile(HttpServletRequest request, HttpServletResponse response) {
        return settings.sendfile() && unthrottled(engine.settings()) && TomcatSendfile.offered(request, response);
    }

    EngineSettings engineSettings() {
        return engine.settings();
    }

    /** {@link #send(HttpServletRequest, HttpServletResponse, Path, SendOptions) send} with the default options. */
    public void send(HttpServletRequest request, HttpServletResponse response, Path file) throws IOException {
        send(request, response, file, SendOptions.defaults());
    }

    /**
     * Answers {@code request} with {@code file}, as Sluice answers a URL (see the class comment), on
     * {@code response}. The caller returns afterwards and writes nothing more: the head may be sent already and
     * the body follows without the calling thread. Headers the caller set before stay unless Sluice sets the same
     * ones (but {@code Content-Encoding} and {@code Content-Range}, which are Sluice's alone); a body it wrote and
     * did not flush is discarded. No exception should leave the servlet afterwards: the container takes one for
     * the request's failure, and the download ends (a bare 500 if nothing was sent). {@code file} is the caller's
     * choice, trusted like any path in its code: it need not be under Sluice's {@code root}, and nothing stops a
     * {@code dir.resolve(nameFromTheRequest)} with {@code ..} in the name from leaving {@code dir}; for names that
     * come from requests, the forward and header hand-offs check them under {@code internalRoot} as Sluice checks
     * URL paths.
     *
     * <p>What the client gets besides the file: 404 when {@code file} does not exist, is not a regular file or is
     * a symlink (it is opened without following one); 403 when it cannot be read; 304, 412 or 416 as the request's
     * headers ask; 503 with {@code Retry-After} when {@code maxTransfers} are running. Each of these errors but
     * the 503 shows the page the webapp's {@code WEB-INF/web.xml} has for its status (docs/http.md), if any. The
     * {@code NullPointerException}, {@code IllegalArgumentException} and {@code IllegalStateException} below are
     * thrown before the response is touched, so the caller may still answer otherwise; but for a second call on a
     * request Sluice answers already: that response is Sluice's, even while {@code isCommitted()} still says false
     * (its body starts once the servlet returns), and must be left alone.
     *
     * @param request the request being answered; it must be able to go async
     * @param response its response, not committed
     * @param file an absolute path
     * @param options how to send it
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code file} is a relative path
     * @throws IllegalStateException if the response is committed (e.g. closed or flushed), its writer is in use,
     *         the request cannot go async (a filter or servlet in its chain is not async-supported), is in async
     *         mode already (call this on the thread the container called the servlet on, before any
     *         {@code startAsync}: Sluice goes async itself), or is answered by Sluice already (a second call)
     * @throws IOException if the response cannot be written, or when this request is the dispatch that ends a
     *         download whose file shrank under it or whose client stalled: Sluice dispatches such a request once
     *         more to its URL, and the exception makes the container cut the connection (an application that
     *         answers that dispatch itself should let a call to this method do so). When the file failed before
     *         the body's first byte, that dispatch is answered 500 by this method instead, which then returns.
     */
    public void send(HttpServletRequest request, HttpServletResponse response, Path file, SendOptions options)
            throws IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(response, "response");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        if (!file.isAbsolute()) {
            throw new IllegalArgumentException("file must be an absolute path: " + LogText.quote(file));
        }
        if (checkExchange(request, response)) {
            return;
        }
        Path name = file.getFileName();
        sendSource(request, response, new Source(file, file.toString(), name == null ? "" : name.toString(),
                codings -> PrecompressedVariants.beside(file, codings), Optional::empty, null, null, null, false),
                options);
    }

    /**
     * A file {@link SluiceServlet} resolved from a URL path ({@code rawPath}) under its root through
     * {@code files}, which may hold the file's bytes; {@code opened}, when not null, is that file as
     * {@link OpenAhead} opened it for this request, still held by it.
     */
    void sendFound(HttpServletRequest request, HttpServletResponse response, Resolution.Found found,
            FileCache files, String rawPath, SendOptions options, OpenedFile opened) throws IOException {
        if (checkExchange(request, response)) {
            return;
        }
        sendSource(request, response, new Source(found.file(), found.decodedPath(), found.decodedPath(),
                codings -> PrecompressedVariants.fresh(files.resolver(), rawPath, found.file(), codings),
                () -> files.content(found), openedKey -> {
                    Resolution now = files.confirm(rawPath, found, openedKey);
                    return now == found ? null : now;
                }, () -> files.vanished(rawPath, found), opened, true), options);
    }

    /**
     * A hand-off: the file under {@code internalRoot} and the options that an application gave in
     * {@code handoff} ({@code via} says how, for the log). Files are resolved as Sluice resolves URL paths (decoded
     * exactly once, no dot segments, encoded separators, NUL or backslash, no symlink leading out): any refusal is a
     * 404 and a WARNING naming the value; bad option values and hand-offs with no {@code internalRoot} are a 500
     * and a WARNING.
     */
    void handOff(HttpServletRequest request, HttpServletResponse response, Function<Path, Handoff> handoff,
            String via) throws IOException {
        if (checkExchange(request, response)) {
            return;
        }
        boolean withBody = withBody(request);
        if (internal == null) {
            LOG.warning("Sluice: a hand-off by " + via + " with no internalRoot set: answered 500");
            internalServerError(request, response, withBody);
            return;
        }
        Handoff given;
        try {
            given = handoff.apply(internal.root());
        } catch (IllegalArgumentException e) {
            LOG.warning("Sluice: a hand-off by " + via + " refused (500): " + e.getMessage());
            internalServerError(request, response, withBody);
            return;
        }
        Resolution resolution = given.rawPath() == null ? new Resolution.NotFound(given.refusal())
                : internal.resolve(given.rawPath());
        if (!(resolution instanceof Resolution.Found found)) {
            LOG.warning("Sluice: a hand-off by " + via + " of " + LogText.quote(given.given()) + " refused (404): "
                    + reason(resolution));
            writeSmall(request, response, FilePlanner.text(404, "Not Found", List.of()), withBody);
            return;
        }
        sendSource(request, response, new Source(found.file(), found.decodedPath(), found.decodedPath(),
                codings -> PrecompressedVariants.fresh(internal, given.rawPath(), found.file(), codings),
                Optional::empty, null, null, null, request.getDispatcherType() != DispatcherType.FORWARD),
                given.options()); // after a forward, the application's code goes on when forward() returns
    }

    private static String reason(Resolution resolution) {
        if (resolution instanceof Resolution.NotFound notFound) {
            return notFound.reason();
        }
        if (resolution instanceof Resolution.BadRequest bad) {
            return bad.reason();
        }
        return "a directory";
    }

    /**
     * What every way in checks before touching the response. The cut-off dispatch comes first: its response is
     * committed on purpose, or answered there ({@link #answerCutOff}).
     *
     * @return whether the request is answered already: the dispatch of a body that failed before its first byte
     */
    private static boolean checkExchange(HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (answerCutOff(request, response)) {
            return true;
        }
        if (response.isCommitted()) {
            throw new IllegalStateException("response already committed: Sluice sends a file only on a response"
                    + " nothing has been sent on yet");
        }
        if (request.getAttribute(ANSWERING) != null && request.getDispatcherType() != DispatcherType.ERROR) {
            throw new IllegalStateException("Sluice already answers this request: send is called once per request");
        }
        if (request.isAsyncStarted()) {
            throw new IllegalStateException("the request is already in async mode: call send on the thread the"
                    + " container called the servlet on, before any startAsync (Sluice goes async itself)");
        }
        if (!request.isAsyncSupported()) {
            throw new IllegalStateException(NOT_ASYNC);
        }
        try {
            response.getOutputStream();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("the response's writer is in use (getWriter was called): Sluice writes"
                    + " bytes", e);
        }
        response.resetBuffer();
        request.setAttribute(ANSWERING, Boolean.TRUE);
        return false;
    }

    /**
     * A file someone checked: its path, its name in logs and events, the name its type is found by, its variants,
     * its bytes if a cache holds them, and, when a cache found it, how to confirm that the file opened at its path
     * (given its file key) is the one found there: {@code null} when it is, else what the path resolves to now
     * ({@link FileCache#confirm}); and {@code vanished}, what the path resolves to now when the file at the path
     * found is gone ({@link FileCache#vanished}). Both are {@code null} for a file checked just now.
     * {@code opened}: the file, opened for this request by {@link OpenAhead}, or null.
     *
     * @param lastWord whether nothing of the application runs on this request after Sluice answers it (Sluice's
     *        URLs; the header hand-off, after the application's chain returned), so that Tomcat's sendfile may take
     *        the body. Not after {@link #send}: Tomcat reads its sendfile attributes only when it commits the
     *        response, after the servlet returned, and sends the file as the body of whatever is answered then, so
     *        an exception or a {@code sendError} of the caller after {@code send} went out as the file's bytes under
     *        the error's status and Tomcat's {@code text/html} (a black-box run: an uploaded file with a script in it,
     *        sent by an application that threw after {@code send}). Sluice cannot see that answer coming, and
     *        removing the attributes is too late once the error page commits; the engine's download, which starts
     *        only after the servlet returned, ends at the container's error instead (a bare 500).
     */
    private record Source(Path file, String label, String name,
            Function<List<String>, List<PrecompressedVariants.Variant>> variants,
            Supplier<Optional<FileCache.Content>> cached, Function<Object, Resolution> confirm,
            Supplier<Resolution> vanished, OpenedFile opened, boolean lastWord) {
    }

    /**
     * The version of the file a response describes and sends: the file opened for it, or the bytes a cache holds
     * with the size and time they were read with. Exactly one of {@code file} and {@code bytes} is set.
     */
    private record Snapshot(OpenedFile file, ByteBuffer bytes, long size, long lastModifiedMillis) {

        static Snapshot of(OpenedFile file) {
            return new Snapshot(file, null, file.size(), file.lastModifiedMillis());
        }

        static Snapshot of(FileCache.Content content) {
            return new Snapshot(null, content.bytes(), content.size(), content.lastModifiedMillis());
        }

        void close() throws IOException {
            if (file != null) {
                file.close();
            }
        }
    }

    /** A file, or the precompressed variant of it chosen by Accept-Encoding. */
    private record Variant(Path path, String coding) {
    }

    /** Resolve is done: open, plan, and write the head or stream the body. */
    private void sendSource(HttpServletRequest request, HttpServletResponse response, Source source,
            SendOptions options) throws IOException {
        boolean withBody = withBody(request);
        boolean errorPage = request.getDispatcherType() == DispatcherType.ERROR;
        List<String> codings = options.precompressed() && !errorPage ? settings.precompressed() : List.of();
        Variant variant = variant(request, source, codings);
        Optional<FileCache.Content> cached = variant.coding() == null ? source.cached().get() : Optional.empty();
        Snapshot file;
        try {
            file = cached.isPresent() ? Snapshot.of(cached.get()) : Snapshot.of(open(source, variant));
        } catch (NoSuchFileException e) {
            writeSmall(request, response, FilePlanner.text(404, "Not Found", List.of()), withBody);
            return;
        } catch (AccessDeniedException e) {
            writeSmall(request, response, FilePlanner.text(403, "Forbidden", List.of()), withBody);
            return;
        } catch (FileSystemException e) {
            cannotOpen(request, response, e, withBody);
            return;
        }
        ResponsePlan plan;
        try {
            plan = FilePlanner.plan(errorPage ? errorPageRequest(withBody) : planRequest(request),
                    representation(request, source, variant, file, options, !codings.isEmpty()),
                    planOptions(options), MultipartByteranges::newBoundary);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        if (errorPage) {
            try (OpenedFile closed = file.file()) {
                writeErrorPage(response, plan, file, withBody);
            }
            return;
        }
        if ("".equals(options.cacheControl())) {
            ResponseHeaders.remove(response, List.of("Cache-Control")); // none: not the caller's either (SendOptions)
        }
        if (!withBody || plan.body().stream().noneMatch(p -> p instanceof ResponsePlan.FilePart)) {
            file.close();
            writeSmall(request, response, plan, withBody);
            if (withBody && plan.status() == HttpServletResponse.SC_OK && file.size() == 0) {
                operations.emptyFileAnswered(request, response);
            }
            return;
        }
        try {
            applyHead(response, plan);
            if (source.lastWord() && sendfile(request, response, plan, file, options)) {
                return;
            }
        } catch (IOException | RuntimeException e) {
            file.close(); // a second close (sendfile closed it before failing) does nothing
            throw e;
        }
        stream(request, response, file, plan, new TransferLabel(source.label(), describeRange(plan)), options);
    }

    /**
     * Opens the variant's file; for the file itself, as a cache found it, confirms that it is the file the cache
     * found at that path, and else opens what the path resolves to now, or answers as for a missing file.
     */
    private OpenedFile open(Source source, Variant variant) throws IOException {
        OpenedFile opened = variant.coding() == null && source.opened() != null
                ? files.another(source.opened()).orElse(null) : null;
        if (opened == null) {
            try {
                opened = files.open(variant.path());
            } catch (NoSuchFileException gone) {
                if (variant.coding() != null || source.vanished() == null) {
                    throw gone;
                }
                if (source.vanished().get() instanceof Resolution.Found fresh) {
                    return files.open(fresh.file()); // found anew, checked just now
                }
                throw gone;
            }
        }
        if (variant.coding() != null || source.confirm() == null) {
            return opened;
        }
        Resolution now;
        try {
            now = source.confirm().apply(opened.fileKey());
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
        if (now == null) {
            return opened;
        }
        opened.close();
        if (now instanceof Resolution.Found fresh) {
            return files.open(fresh.file());
        }
        throw new NoSuchFileException(variant.path().toString(), null, "not the file found there before");
    }

    /**
     * A file that is there but cannot be opened now: 503 with {@code Retry-After} when the process or the system has
     * no file descriptor left ({@code EMFILE}, {@code ENFILE}: it passes as downloads end), else 500. The reason
     * goes to the log, at most once a second (a server out of descriptors fails every open at once), never to the
     * client: it names the server's paths.
     */
    private void cannotOpen(HttpServletRequest request, HttpServletResponse response, FileSystemException e,
            boolean withBody) throws IOException {
        long heldBack = cannotOpenLines.admit();
        if (heldBack >= 0) {
            LOG.warning("Sluice: cannot open " + LogText.quote(e.getFile()) + ": " + e.getReason()
                    + LogLimit.heldBackNote(heldBack));
        }
        boolean noDescriptorLeft = e.getReason() != null && e.getReason().startsWith("Too many open files")
                || nearTheDescriptorLimit();
        if (noDescriptorLeft) {
            writeSmall(request, response, FilePlanner.text(HttpServletResponse.SC_SERVICE_UNAVAILABLE,
                    "Service Unavailable", List.of(new ResponsePlan.Header("Retry-After", RETRY_AFTER_SECONDS))),
                    withBody);
        } else {
            internalServerError(request, response, withBody);
        }
    }

    /**
     * Whether this process holds nearly as many file descriptors as it may: the reason's text is the C library's
     * and may be in another language.
     */
    private static boolean nearTheDescriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            return os.getOpenFileDescriptorCount() >= os.getMaxFileDescriptorCount() - 16;
        }
        return false;
    }

    private static boolean withBody(HttpServletRequest request) {
        return !FilePlanner.normalizeMethod(request.getMethod()).equals("HEAD");
    }

    private Variant variant(HttpServletRequest request, Source source, List<String> codings) {
        if (codings.isEmpty()) {
            return new Variant(source.file(), null);
        }
        AcceptEncoding accepted = AcceptEncoding.parse(request.getHeader("Accept-Encoding"));
        List<PrecompressedVariants.Variant> fresh = source.variants().apply(
                codings.stream().filter(accepted::accepts).toList());
        // identity is a choice too, last on a tie: a client that weighs it above a coding gets the file itself
        List<String> choices = new ArrayList<>(fresh.stream().map(PrecompressedVariants.Variant::coding).toList());
        choices.add("identity");
        return AcceptEncoding.choose(accepted, choices)
                .flatMap(chosen -> fresh.stream().filter(v -> v.coding().equals(chosen)).findFirst())
                .map(v -> new Variant(v.path(), v.coding()))
                .orElse(new Variant(source.file(), null));
    }

    private FilePlanner.Representation representation(HttpServletRequest request, Source source, Variant variant,
            Snapshot file, SendOptions options, boolean varies) {
        EntityTag etag = EntityTag.strong(file.size(), file.lastModifiedMillis());
        if (variant.coding() != null) {
            etag = new EntityTag(etag.opaque() + "-" + variant.coding(), false);
        }
        String type = options.contentType() != null ? options.contentType()
                : contentType(request.getServletContext(), source.name());
        return new FilePlanner.Representation(file.size(), file.lastModifiedMillis(), etag, type, variant.coding(),
                varies, options.filename() == null ? null : ContentDisposition.attachment(options.filename()));
    }

    private FilePlanner.Options planOptions(SendOptions options) {
        return new FilePlanner.Options(settings.acceptRanges(), settings.maxRanges(),
                options.cacheControl() != null ? options.cacheControl() : settings.cacheControl());
    }

    private static FilePlanner.Request planRequest(HttpServletRequest request) {
        return new FilePlanner.Request(FilePlanner.normalizeMethod(request.getMethod()),
                new ConditionalHeaders(field(request, "If-Match"), field(request, "If-None-Match"),
                        field(request, "If-Modified-Since"), field(request, "If-Unmodified-Since"),
                        field(request, "If-Range")),
                field(request, "Range"));
    }

    /**
     * A field's value with all its lines joined by commas, as RFC 9110 (Section 5.3) lets a recipient combine
     * them; {@code null} when absent. {@code getHeader} gives the first line only: {@code If-None-Match} on two
     * lines lost the second's tags. A field that allows one member (a date, {@code If-Range}, {@code Range}) thus
     * becomes invalid on two lines and is ignored as such, which RFC 9110 requires for {@code If-Modified-Since}.
     */
    static String field(HttpServletRequest request, String name) {
        java.util.Enumeration<String> lines = request.getHeaders(name);
        if (lines == null || !lines.hasMoreElements()) {
            return null;
        }
        String first = lines.nextElement();
        if (!lines.hasMoreElements()) {
            return first;
        }
        StringBuilder joined = new StringBuilder(first);
        while (lines.hasMoreElements()) {
            joined.append(", ").append(lines.nextElement());
        }
        return joined.toString();
    }

    private String contentType(ServletContext context, String name) {
        String type = settings.mediaTypes().of(name, context == null ? n -> null : context::getMimeType);
        return type == null ? DEFAULT_CONTENT_TYPE : MediaTypes.withCharset(type, name, settings.textCharset());
    }

    /** The part of the file a plan sends, in words, for the flight recorder and the log. */
    private static String describeRange(ResponsePlan plan) {
        long parts = plan.body().stream().filter(p -> p instanceof ResponsePlan.FilePart).count();
        if (parts > 1) {
            return "multipart " + parts + " ranges";
        }
        String range = plan.header("Content-Range");
        return range == null ? "full" : range;
    }

    /**
     * Whether no setting of {@code engine} needs it to see each transfer: no speed limit to pace it and no cap on
     * running transfers to count it. Only then may a body be handed to the container to send by itself.
     */
    static boolean unthrottled(EngineSettings engine) {
        return engine.limitRate() == 0 && engine.maxTransfers() == 0 && engine.globalRate() == 0
                && engine.limitRatePerClient() == 0 && engine.limitRatePerUser() == 0;
    }

    /**
     * Lets Tomcat send the body itself (see {@link TomcatSendfile}) when it offers to, the settings allow it, no
     * limit needs the engine to see the transfer, and the body is one file region of a known length. The head is
     * already set; on success the file is closed here and no body is written.
     */
    private boolean sendfile(HttpServletRequest request, HttpServletResponse response, ResponsePlan plan,
            Snapshot snapshot, SendOptions options) throws IOException {
        OpenedFile file = snapshot.file();
        if (file == null || !settings.sendfile() || options.rate() != null && options.rate().bytesPerSecond() > 0
                || !unthrottled(engine.settings()) || plan.body().size() != 1
                || !(plan.body().get(0) instanceof ResponsePlan.FilePart part) || plan.contentLength() != part.length()
                || !TomcatSendfile.offered(request, response)
                || !TomcatSendfile.handOff(request, file, part.first(), part.length())) {
            return false;
        }
        file.close();
        engine.countHandedOff(part.length());
        if (operations != null) {
            operations.handedOff(request, response, part.length());
        }
        return true;
    }

    /** The plan's body for the engine: file parts as regions of the open file, or slices of the cached bytes. */
    private static List<Segment> segments(ResponsePlan plan, ByteBuffer cached) {
        List<Segment> segments = new ArrayList<>(plan.body().size());
        for (ResponsePlan.Part part : plan.body()) {
            if (part instanceof ResponsePlan.FilePart file && cached != null) {
                segments.add(new Segment.Literal(cached.slice(Math.toIntExact(file.first()),
                        Math.toIntExact(file.length()))));
            } else if (part instanceof ResponsePlan.FilePart file) {
                segments.add(new Segment.FileRegion(file.first(), file.length()));
            } else if (part instanceof ResponsePlan.Bytes bytes) {
                segments.add(Segment.Literal.of(bytes.bytes()));
            }
        }
        return segments;
    }

    static void applyHead(HttpServletResponse response, ResponsePlan plan) {
        response.setStatus(plan.status());
        ResponseHeaders.remove(response, BODY_CODING_HEADERS); // a caller's would describe bytes Sluice does not send
        if (plan.status() == HttpServletResponse.SC_NOT_MODIFIED) {
            // No representation metadata on a 304 (RFC 9110 15.4.5): a cache would store a type the caller set
            // before send, which the 200 does not carry. Tomcat drops it itself; Jetty sent it.
            response.setContentType(null);
        }
        for (ResponsePlan.Header header : plan.headers()) {
            if (header.name().equals("Content-Type")) {
                setContentType(response, header.value());
            } else {
                setHeader(response, header);
            }
        }
        if (plan.contentLength() >= 0) {
            response.setContentLengthLong(plan.contentLength());
        }
    }

    private static void setHeader(HttpServletResponse response, ResponsePlan.Header header) {
        if (header.name().equals("Vary")) {
            response.setHeader("Vary", vary(response.getHeaders("Vary"), header.value()));
        } else {
            response.setHeader(header.name(), header.value());
        }
    }

    /** Sets {@code type} as it is: with its own charset, or with none. */
    private static void setContentType(HttpServletResponse response, String type) {
        response.setContentType(type);
        if (!type.toLowerCase(Locale.ROOT).contains("charset=")) {
            // Jetty adds a charset it infers for some types (text/plain: iso-8859-1, text/html: utf-8) unless told
            // there is none: textCharset=none, or a type an application gave without one.
            response.setCharacterEncoding((String) null);
        }
    }

    /**
     * The {@code Vary} of a response: what the application set (a list field, RFC 9110 12.5.5: a cache must see
     * every request field the response depends on, {@code Cookie} as much as {@code Accept-Encoding}) with Sluice's
     * own added once; {@code *} stays {@code *}.
     */
    static String vary(java.util.Collection<String> set, String sluices) {
        List<String> members = new ArrayList<>();
        for (String line : set == null ? List.<String>of() : set) {
            for (String member : line.split(",")) {
                String name = member.trim();
                if (name.equals("*")) {
                    return "*";
                }
                if (!name.isEmpty() && members.stream().noneMatch(name::equalsIgnoreCase)) {
                    members.add(name);
                }
            }
        }
        if (members.stream().noneMatch(sluices::equalsIgnoreCase)) {
            members.add(sluices);
        }
        return String.join(", ", members);
    }

    /**
     * Sends a plan whose body, if any, is literal bytes only: small enough to write on this thread. An error whose
     * status has a page in the application's descriptor ({@link ErrorPages}) goes to that page instead, with the
     * plan's headers that say what was wrong ({@link #ERROR_PAGE_HEADERS}; a caller's {@code Allow} is set
     * already), not those that describe the file (validators, type), nor its text. Not from an include, which
     * cannot set a status. An error while an error page is being answered (its own dispatch, or a forward from
     * it), a page that is missing, say, writes nothing: the answer keeps the error's own status and has no body, as
     * from Tomcat's {@code DefaultServlet}, rather than the page's 404 in its place.
     */
    static void writeSmall(HttpServletRequest request, HttpServletResponse response, ResponsePlan plan,
            boolean withBody) throws IOException {
        DispatcherType dispatch = request.getDispatcherType();
        if (plan.status() >= 400 && answeringAnError(request)) {
            return;
        }
        if (plan.status() >= 400 && dispatch != DispatcherType.INCLUDE
                && ErrorPages.of(request.getServletContext()).cover(plan.status())) {
            for (ResponsePlan.Header header : plan.headers()) {
                if (ERROR_PAGE_HEADERS.contains(header.name())) {
                    setHeader(response, header);
                }
            }
            response.sendError(plan.status());
            return;
        }
        writePlain(response, plan, withBody);
    }

    /** Sluice's plain 500, or the webapp's page for 500 ({@link #writeSmall}). */
    private static void internalServerError(HttpServletRequest request, HttpServletResponse response,
            boolean withBody) throws IOException {
        writeSmall(request, response, FilePlanner.text(500, "Internal Server Error", List.of()), withBody);
    }

    /**
     * Whether {@code request} is the container's showing of an error page: its error dispatch, or a forward or
     * include from it (Tomcat includes the page in a response already under way).
     */
    static boolean answeringAnError(HttpServletRequest request) {
        return request.getDispatcherType() == DispatcherType.ERROR
                || request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) != null;
    }

    /** Sends a plan whose body, if any, is literal bytes only, as it is. */
    private static void writePlain(HttpServletResponse response, ResponsePlan plan, boolean withBody)
            throws IOException {
        applyHead(response, plan);
        if (withBody) {
            for (ResponsePlan.Part part : plan.body()) {
                response.getOutputStream().write(((ResponsePlan.Bytes) part).bytes());
            }
        }
    }

    /** What an error page is planned for: the whole file, whatever the request's conditions and ranges. */
    private static FilePlanner.Request errorPageRequest(boolean withBody) {
        return new FilePlanner.Request(withBody ? "GET" : "HEAD",
                new ConditionalHeaders(null, null, null, null, null), null);
    }

    /**
     * The container's error page, when its location is a file Sluice serves: the file's bytes and type (the file
     * itself, never a precompressed variant) under the error's own status (Servlet 6.1, 10.9.2), with none of the
     * validators or ranges that describe the file
     * rather than the error, written on this thread. Why not streamed: Tomcat forwards to an error page and ends
     * the response when the forward returns, so a body handed to a {@code WriteListener} was cut after its head
     * (a 200 with a {@code Content-Length} and no bytes); every container writes its own error pages this way.
     * Error pages are small; a large file as one holds a container thread while a slow client reads it.
     */
    private static void writeErrorPage(HttpServletResponse response, ResponsePlan plan, Snapshot file,
            boolean withBody) throws IOException {
        String type = plan.header("Content-Type");
        if (type != null) {
            setContentType(response, type);
        }
        String sniffing = plan.header("X-Content-Type-Options");
        if (sniffing != null) {
            response.setHeader("X-Content-Type-Options", sniffing);
        }
        response.setContentLengthLong(file.size());
        if (!withBody) {
            return;
        }
        ServletOutputStream out = response.getOutputStream();
        if (file.bytes() != null) {
            ByteBuffer bytes = file.bytes().duplicate();
            byte[] piece = new byte[Math.min(bytes.remaining(), ERROR_PAGE_PIECE)];
            while (bytes.hasRemaining()) {
                int length = Math.min(piece.length, bytes.remaining());
                bytes.get(piece, 0, length);
                out.write(piece, 0, length);
            }
            return;
        }
        ByteBuffer piece = ByteBuffer.allocate((int) Math.min(Math.max(file.size(), 1), ERROR_PAGE_PIECE));
        long position = 0;
        while (position < file.size()) {
            piece.clear().limit((int) Math.min(piece.capacity(), file.size() - position));
            int read = file.file().channel().read(piece, position);
            if (read < 0) {
                throw new FileShrankException(position);
            }
            out.write(piece.array(), 0, read);
            position += read;
        }
    }

    /**
     * maxTransfers are running: tell the client to come back rather than queue it. Nothing is committed yet. The
     * headers the caller set go, but for its cookies, as in the header way's refusals. Plain text whatever the
     * error pages: the request is asynchronous by now, and a refusal under load should cost little.
     */
    private static void busy(HttpServletResponse response) throws IOException {
        HandoffFilter.resetKeepingCookies(response);
        response.setHeader("Retry-After", RETRY_AFTER_SECONDS);
        writePlain(response, FilePlanner.text(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Service Unavailable",
                List.of()), true);
    }

    /**
     * Goes async and hands the body to the engine, with {@code startAsync(request, response)}: the objects Sluice
     * was called with, wrappers included, which a dispatch ({@link #cutOff}) then carries. That dispatch goes to
     * the request's URI: the application's URL after a forward by name or a call of {@link #send}.
     */
    private void stream(HttpServletRequest request, HttpServletResponse response, Snapshot snapshot,
            ResponsePlan plan, TransferLabel label, SendOptions options) throws IOException {
        OpenedFile file = snapshot.file();
        try {
            AsyncContext async = request.startAsync(request, response);
            async.setTimeout(0); // a wall-clock limit kills long downloads that are progressing; stalls end them
            FileVersion version = file == null || file.fileKey() == null ? null
                    : new FileVersion(file.fileKey(), file.size(), file.lastModified());
            long total = plan.contentLength();
            ServletOutputStream out = response.getOutputStream();
            // The status the head took: the plan's, or the including request's (an include sets none).
            int headStatus = response.getStatus();
            boolean tomcatHttp2 = isTomcatsHttp2(request);
            AsyncEnd end = new AsyncEnd(async, cutsWaitForSentBytes(request) ? out : null);
            ContainerEnds containerEnds = new ContainerEnds(end);
            async.addListener(containerEnds);
            TransferListener listener = new TransferListener() {
                @Override
                public void ended(Outcome outcome, long bytes, Throwable cause) {
                    if (outcome == Outcome.ABORTED) {
                        noteContainerTimeout(cause);
                    }
                    SluiceSender.this.ended(end, label, outcome, bytes, total, cause, tomcatHttp2);
                }

                @Override
                public void containerEnding(Throwable cause) {
                    end.containerEnding();
                }

                @Override
                public void writePossibleAfterEnd() {
                    end.writePossible();
                }

                @Override
                public void beforeFirstWrite() throws IOException {
                    int status = response.getStatus();
                    if (status != headStatus) {
                        throw new AnsweredAfterSend(status);
                    }
                }
            };
            if (operations != null) {
                listener = operations.accessLogged(request, response, label, listener);
            }
            String connection = ConnectionHistory.key(request);
            listener = history.recording(connection, listener);
            Object user = options.userKey() != null ? options.userKey() : request.getRemoteUser();
            TransferRequest transfer = TransferRequest.of(out,
                            file == null ? null : file.channel(), segments(plan, snapshot.bytes()), listener)
                    .withFile(version, file == null ? null : file.path()).withClientKey(request.getRemoteAddr())
                    .withUserKey(user).withRate(options.rate()).withLabel(label)
                    .withStartChunk(history.startChunk(connection));
            if (!writesAsGiven(request, transfer.out())) {
                transfer = transfer.withoutMappedChunks();
            }
            if (endsWithoutBlocking(request, transfer.out())) {
                transfer = transfer.withLastByteInItsChunk();
            }
            Optional<Transfer> started = engine.start(transfer);
            if (started.isEmpty()) {
                snapshot.close();
                busy(response);
                async.complete();
            } else {
                containerEnds.started(started.get());
            }
        } catch (IOException | RuntimeException e) {
            snapshot.close();
            throw e;
        }
    }

    /**
     * Whether {@code out} hands a written buffer to the kernel as it is, so that it may get slices of a file's
     * mapping ({@link TransferRequest#mappedChunks}): Jetty's own output stream, on clear text. Tomcat copies the
     * part of a write its socket did not take into buffers of its own (every write over HTTP/2), TLS encrypts it, a
     * filter's stream (a wrapped response's) may copy it (Servlet 6.1's default {@code write(ByteBuffer)} copies a
     * direct buffer into an array), and a container not known here may do any of these: a copy in user space from
     * pages that a truncation of the file took away is a fault the JVM reports later, in whatever that thread does
     * next. (Jetty's HTTP/2 copies the few bytes of a write smaller than 128 into its frame; what is left there.)
     */
    static boolean writesAsGiven(HttpServletRequest request, ServletOutputStream out) {
        return !request.isSecure() && isJettys(out);
    }

    /**
     * Whether {@code out}'s write that reaches the Content-Length ends the response without blocking the writing
     * thread, so that a body's last chunk may go whole ({@link TransferRequest#lastByteAlone}). Jetty's closing write
     * in async mode is as asynchronous as any other, on HTTP/1.1 and HTTP/2, clear or TLS. Tomcat's closes the
     * response in that write: on HTTP/1.1 its end flushes without blocking once a {@code WriteListener} is set
     * ({@code Http11OutputBuffer}), but its HTTP/2 stream ends with a blocking flush ({@code StreamOutputBuffer}) and
     * AJP with a blocking write of its end message ({@code AjpProcessor.finishResponse}). A container not known
     * here may do the same.
     */
    static boolean endsWithoutBlocking(HttpServletRequest request, ServletOutputStream out) {
        if (isJettys(out)) {
            return true;
        }
        if (!out.getClass().getName().startsWith("org.apache.catalina.")) {
            return false;
        }
        ServletConnection connection = request.getServletConnection();
        return connection != null && "http/1.1".equals(connection.getProtocol()) && !isHttp2(request);
    }

    /**
     * Whether {@code request} is an HTTP/2 stream, by its own protocol: Tomcat keeps the {@code ServletConnection} of
     * the connection's first request, so the streams of a connection upgraded to h2c later say {@code http/1.1}
     * there (found by review: {@code curl --http1.1 /a --next --http2 /b}).
     */
    static boolean isHttp2(HttpServletRequest request) {
        return request.getProtocol().startsWith("HTTP/2");
    }

    /**
     * Whether a cut of this request must wait until the container has sent what it holds ({@link AsyncEnd}):
     * Tomcat's HTTP/1.1 and AJP, whose blocking writes after the cut go ahead of the socket's queue of non-blocking
     * ones. Not its HTTP/2, which keeps them in order, and whose {@code isReady()} only reports (a stream that waits
     * for its flow-control window would wait for ever).
     */
    private static boolean cutsWaitForSentBytes(HttpServletRequest request) {
        return isTomcats(request) && !isHttp2(request);
    }

    /**
     * Whether {@code request} came over Tomcat's HTTP/2, where a download whose write failed (the client reset its
     * stream or went) is ended by a cut ({@link #cutOff}) rather than {@code complete()}. Why: after a
     * {@code complete()} from another thread, Tomcat 11.0.24 flushes the stream in its {@code asyncPostProcess},
     * which throws {@code CloseNowException} on the reset stream; the processor's error path then left the request's
     * state behind, and a later stream that got that pooled request was answered an empty 500 ("Mapping was already
     * done on this request"): 9 of 1,800 requests of clients that gave up after a second, five at a time, against 0
     * of 3,000 with the cut: its exception makes Tomcat turn the stream's I/O off ({@code CLOSE_NOW}), so that
     * {@code asyncPostProcess} no longer flushes. Any such failure, also a first write's (its head may be committed
     * and its bytes buffered).
     */
    private static boolean isTomcatsHttp2(HttpServletRequest request) {
        return isTomcats(request) && isHttp2(request);
    }

    /** Whether the container is Tomcat, by its own request class. */
    private static boolean isTomcats(HttpServletRequest request) {
        return containersRequest(request).getClass().getName().startsWith("org.apache.catalina.");
    }

    /** The container's own request object, under the application's wrappers. */
    private static ServletRequest containersRequest(ServletRequest request) {
        ServletRequest container = request;
        while (container instanceof ServletRequestWrapper wrapper) {
            container = wrapper.getRequest();
        }
        return container;
    }

    /** Whether {@code cause} is Tomcat's report of a failed write ({@code ClientAbortException} and the like). */
    private static boolean isTomcatsWriteFailure(Throwable cause) {
        String name = cause == null ? "" : cause.getClass().getName();
        return name.equals("org.apache.catalina.connector.ClientAbortException")
                || name.equals("org.apache.coyote.CloseNowException");
    }

    private static boolean isJettys(ServletOutputStream out) {
        return out.getClass().getName().startsWith("org.eclipse.jetty.");
    }

    /**
     * Says once, at {@code WARNING}, that the container's own timeout ended a download. Tomcat's
     * {@code connectionTimeout} (20 s in its {@code server.xml}) and Jetty's connector idle timeout (30 s) end a
     * connection whose socket took no byte for that long, as {@code stallTimeout} does, but a client that reads
     * slowly keeps its socket unwritable that long while it still reads: the kernel's buffers hold megabytes, and
     * the socket takes data again only once half of them have drained. Such a timeout, shorter than
     * {@code stallTimeout}, cuts downloads that make progress, which the operator can only learn from this line.
     * Never from the launcher ({@link #containerTimeoutsAreSluices}), whose idle timeout is {@code stallTimeout}
     * + 5 s.
     */
    private void noteContainerTimeout(Throwable cause) {
        if (!containerTimeoutTold.get() && isContainerTimeout(cause) && containerTimeoutTold.compareAndSet(false, true)) {
            LOG.warning("Sluice: the container's own timeout ended a download (" + cause + ") before stallTimeout ("
                    + engine.settings().stallTimeout().toSeconds() + " s) could: clients that read slowly are cut"
                    + " while they still read. Set Tomcat's Connector connectionTimeout (over HTTP/2, also its"
                    + " Http2Protocol's writeTimeout and streamWriteTimeout) or Jetty's jetty.http.idleTimeout above"
                    + " stallTimeout (docs/containers.md, \"Timeouts\"), unless the"
                    + " container was stopping (Jetty's graceful stop lowers every idle timeout to one second)."
                    + " Said once.");
        }
    }

    /**
     * The container's timeouts are set for Sluice (the launcher's): one that ends a download is not worth the
     * warning of {@link #noteContainerTimeout}.
     */
    void containerTimeoutsAreSluices() {
        containerTimeoutTold.set(true);
    }

    /** Whether {@code cause} is a container's timeout: Tomcat's {@code SocketTimeoutException}, Jetty's idle timeout. */
    static boolean isContainerTimeout(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private void ended(AsyncEnd end, TransferLabel label, Outcome outcome, long bytes, long total,
            Throwable cause, boolean tomcatHttp2) {
        if (outcome != Outcome.COMPLETED) {
            logEnd(label, outcome, bytes, total, cause);
        }
        if (outcome == Outcome.FAILED) {
            end.endOnceSent(async -> {
                if (bytes == 0) {
                    async.getRequest().setAttribute(FAILED_UNSENT, statusOfAFailureBeforeTheFirstByte(cause));
                }
                cutOff(async, "its file could not be read as announced");
            });
        } else if (cause instanceof StalledException) {
            end.endOnceSent(async -> cutOff(async, "its client accepted nothing for stallTimeout"));
        } else if (cause instanceof AnsweredAfterSend answered) {
            end.end(async -> completeEmpty(async, answered.status()));
        } else if (outcome == Outcome.ABORTED && tomcatHttp2 && isTomcatsWriteFailure(cause)) {
            end.end(async -> cutOff(async, "its stream failed (" + cause + ")"));
        } else if (outcome == Outcome.ABORTED) {
            end.end(async -> completeEmpty(async, HttpServletResponse.SC_INTERNAL_SERVER_ERROR));
        } else {
            end.end(AsyncContext::complete);
        }
    }

    /**
     * Completes a download that sent nothing, with {@code status} and no body where the response is not committed
     * yet: Sluice's headers dropped, the application's cookies kept. An aborted one gets a bare 500 rather than
     * Sluice's head, with its {@code Content-Length}, over no body (the container failed the request before the
     * first write: Tomcat, when the application's servlet threw after handing the file over, see
     * {@link ContainerEnds}); one whose application answered otherwise after {@link #send}
     * ({@link AnsweredAfterSend}) gets that status. A container that committed its own answer already keeps it:
     * Tomcat 11 does, for a {@code sendError} after {@code send}, before the first {@code onWritePossible}: its
     * status and error page over Sluice's headers, {@code Content-Length} included, so its client waits for the
     * rest until Tomcat's timeout (a cut cannot help: Tomcat no longer dispatches a request in error to the
     * application). No byte of the file goes, which is what matters. The transfer has ended, so nothing writes to
     * the response any more.
     */
    private static void completeEmpty(AsyncContext async, int status) {
        try {
            if (async.getResponse() instanceof HttpServletResponse response && !response.isCommitted()) {
                HandoffFilter.emptyAnswer(response, status);
            }
        } catch (IllegalStateException e) {
            LOG.fine("Sluice: response committed meanwhile: " + e.getMessage());
        }
        async.complete();
    }

    /**
     * Why a download did not start: by its first write, the response's status was no longer its own (the
     * application called {@code sendError}, or {@code setStatus}, after {@link #send}), so the body is not what the
     * client was answered. Tomcat let the body go under the new status, after its own error page's head, where
     * it carried a file the application meant to refuse.
     */
    static final class AnsweredAfterSend extends IOException {

        private final int status;

        AnsweredAfterSend(int status) {
            super("the application answered " + status + " after handing the body over");
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /**
     * The status a client is answered when its body failed before its first byte: 503 with {@code Retry-After} when
     * its file was changed in place (a copy over the file was under way: asked again a moment later, the file is
     * whole), else 500 (the disk failed).
     */
    static int statusOfAFailureBeforeTheFirstByte(Throwable cause) {
        boolean changed = cause instanceof FileChangedException || cause instanceof FileShrankException;
        return changed ? HttpServletResponse.SC_SERVICE_UNAVAILABLE : HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
    }

    /**
     * One line per transfer that did not complete; nothing per chunk. An abort is the client's doing and normal
     * for a file server, so it is {@code FINE}; a failure is the server breaking a promise (read error, file
     * changed), so it is {@code WARNING}, at most one a second ({@link LogLimit}: a file rewritten in a loop
     * fails every download of it). The cause's stack trace only at {@code FINE}, where someone asked for it.
     */
    private void logEnd(TransferLabel label, Outcome outcome, long bytes, long total, Throwable cause) {
        Level level = outcome == Outcome.FAILED ? Level.WARNING : Level.FINE;
        if (!LOG.isLoggable(level)) {
            return;
        }
        long heldBack = level == Level.WARNING ? failedLines.admit() : 0;
        if (heldBack < 0) {
            return;
        }
        String line = "Sluice: " + label.file() + " (" + label.range() + ") " + outcome.name().toLowerCase(Locale.ROOT)
                + " after " + bytes + " of " + total + " bytes: " + cause + LogLimit.heldBackNote(heldBack);
        LOG.log(level, line, LOG.isLoggable(Level.FINE) ? cause : null);
    }

    /**
     * Ends a response whose body will not be sent as its headers promised (its file failed, or its client stalled),
     * so the client sees a broken download rather than a short body it might take as whole, and its connection is
     * closed now. Completing normally would not do: Tomcat ends such a response "cleanly" and keeps the connection,
     * so the client waits for bytes that never come, and a stalled client's connection, with its buffers, stays
     * until Tomcat's own timeout. A dispatch that throws after the response is committed makes both Tomcat and
     * Jetty close the connection: the dispatch goes to the URL the request came in by, or after a forward to its
     * target, whose way in (SluiceServlet, HandoffFilter, {@link #send}) throws there ({@link #answerCutOff}).
     */
    private static void cutOff(AsyncContext async, String why) {
        async.getRequest().setAttribute(CUT_OFF, why);
        async.dispatch();
    }

    /**
     * Answers, when {@code request} is the dispatch of a response cut off ({@link #cutOff}): a body that failed
     * before its first byte, its response not committed, gets a plain 500 (or the webapp's page for 500), as any
     * error, or a 503 with {@code Retry-After} when its file was changed in place
     * ({@link #statusOfAFailureBeforeTheFirstByte}); otherwise this throws the container's own exception for a lost connection, chosen by the container's
     * own request class and loaded by its class loader (Tomcat's {@code ClientAbortException}, Jetty's
     * {@code EofException}), which both close the connection on and log at debug level only, as for a client gone:
     * Sluice's own line has said why. Elsewhere a plain {@code IOException}, which the container logs as a
     * servlet's failure. Every way in calls it first.
     *
     * <p>Why not throw for the first case too: nothing is sent yet, so the container answered the exception itself,
     * Jetty with its page naming the exception and its message, while the access log said 200.
     *
     * @return whether the request was such a dispatch, now answered; false for any other request
     */
    static boolean answerCutOff(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getAttribute(CUT_OFF) == null) {
            return false;
        }
        if (!(request.getAttribute(FAILED_UNSENT) instanceof Integer status) || response.isCommitted()) {
            throw cutOffException(request);
        }
        // Answered here once: the webapp's error page for 500, if Sluice serves it, comes by a dispatch of this very
        // request, which must then serve the page, not answer again (a reset there made it an empty 200).
        request.removeAttribute(CUT_OFF);
        request.removeAttribute(FAILED_UNSENT);
        response.reset();
        List<ResponsePlan.Header> headers = status == HttpServletResponse.SC_SERVICE_UNAVAILABLE
                ? List.of(new ResponsePlan.Header("Retry-After", RETRY_CHANGED_AFTER_SECONDS)) : List.of();
        // Jetty's stream stays non-blocking after reset (Tomcat's reset drops the listener): a write needs isReady()
        // first, which is true on a response nothing was written to. Tomcat closes the connection after a 500.
        if (response.getOutputStream().isReady()) {
            writeSmall(request, response, FilePlanner.text(status, status == HttpServletResponse.SC_SERVICE_UNAVAILABLE
                    ? "Service Unavailable" : "Internal Server Error", headers), true);
        } else {
            response.setStatus(status);
            headers.forEach(header -> response.setHeader(header.name(), header.value()));
            response.setContentLength(0);
        }
        return true;
    }

    private static IOException cutOffException(HttpServletRequest request) {
        String why = "Sluice cut off the response: " + request.getAttribute(CUT_OFF);
        ServletRequest container = containersRequest(request);
        String name = container.getClass().getName();
        String quiet = name.startsWith("org.apache.catalina.") ? "org.apache.catalina.connector.ClientAbortException"
                : name.startsWith("org.eclipse.jetty.") ? "org.eclipse.jetty.io.EofException" : null;
        if (quiet != null) {
            try {
                Class<?> type = Class.forName(quiet, false, container.getClass().getClassLoader());
                if (IOException.class.isAssignableFrom(type)) {
                    return (IOException) type.getConstructor(String.class).newInstance(why);
                }
            } catch (ReflectiveOperationException | LinkageError | RuntimeException notThere) {
                // a plain IOException, below
            }
        }
        return new IOException(why);
    }
}
