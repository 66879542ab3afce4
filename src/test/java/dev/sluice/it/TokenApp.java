package dev.sluice.it;

import dev.sluice.servlet.HandoffOption;
import dev.sluice.servlet.SendOptions;
import dev.sluice.servlet.SluiceSender;
import dev.sluice.stream.TransferRequest;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * An example application servlet, as a user of Sluice would write one: it authorizes a download by a token, then
 * lets Sluice send the file from the internal root one of three ways, chosen by the first segment of the path:
 * {@code /api} calls {@link SluiceSender#send}, {@code /forward} sets request attributes and forwards to the
 * servlet named {@code sluice}, {@code /header} answers with {@code X-Sluice-*} headers for {@code HandoffFilter}.
 *
 * <p>Query parameters: {@code token} (must be {@value #TOKEN}), {@code f} the file under the internal root, and the
 * options {@code filename}, {@code type}, {@code cache}, {@code rate}, {@code after}, {@code user},
 * {@code precompressed}. Test-only ones make the bad calls: {@code how=relative|none} for the API's path,
 * {@code how=path|absolute} for a forward's Path attribute (under the internal root, or as given),
 * {@code commit=1}/{@code close=1} for a response already committed or closed before the call,
 * {@code raw=NAME:VALUE} for one more header or attribute as is, {@code cookie=VALUE} for a cookie of the app;
 * after {@code send}, {@code fail=1} throws, {@code errorafter=STATUS} calls {@code sendError} and
 * {@code statusafter=STATUS} {@code setStatus}.
 */
final class TokenApp extends HttpServlet {

    static final String TOKEN = "let-me-in";

    private final Path internalRoot;
    private final Supplier<SluiceSender> sender;
    /** What the API threw, in order, for the tests to look at. */
    final List<Throwable> errors = new CopyOnWriteArrayList<>();

    /** With the sender SluiceServlet published in the servlet context. */
    TokenApp(Path internalRoot) {
        this.internalRoot = internalRoot;
        this.sender = () -> SluiceSender.from(getServletContext());
    }

    /** With a sender of its own, as an application that embeds Sluice. */
    TokenApp(Path internalRoot, SluiceSender own) {
        this.internalRoot = internalRoot;
        this.sender = () -> own;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        if (!TOKEN.equals(request.getParameter("token"))) {
            response.setStatus(403);
            response.setContentType("text/plain");
            response.getWriter().write("the app says: no\n");
            return;
        }
        String way = request.getPathInfo() == null ? "" : request.getPathInfo();
        switch (way) {
            case "/api" -> api(request, response);
            case "/api-dispatched" -> apiAfterDispatch(request, response);
            case "/forward" -> forward(request, response);
            case "/header" -> header(request, response);
            case "/header-async" -> headerAsync(request);
            default -> response.sendError(404);
        }
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        doGet(request, response);
    }

    private void api(HttpServletRequest request, HttpServletResponse response) throws IOException {
        SendOptions options = SendOptions.defaults()
                .withFilename(request.getParameter("filename"))
                .withContentType(request.getParameter("type"))
                .withCacheControl(request.getParameter("cache"))
                .withUserKey(request.getParameter("user"))
                .withPrecompressed("true".equals(request.getParameter("precompressed")));
        if (request.getParameter("rate") != null) {
            options = options.withRate(new TransferRequest.RateLimit(Long.parseLong(request.getParameter("rate")),
                    request.getParameter("after") == null ? 0 : Long.parseLong(request.getParameter("after"))));
        }
        if (request.getParameter("stale") != null) { // headers an application set, wrongly, before send
            response.setHeader("Content-Encoding", "gzip");
            response.setHeader("Content-Range", "bytes 0-4/5");
            response.setHeader("Cache-Control", "private, max-age=7");
        }
        if (request.getParameter("apptype") != null) { // set by the application itself before send
            response.setContentType(request.getParameter("apptype"));
        }
        String f = request.getParameter("f");
        Path file = switch (String.valueOf(request.getParameter("how"))) {
            case "relative" -> Path.of(f);
            case "none" -> null;
            default -> internalRoot.resolve(f);
        };
        if (request.getParameter("commit") != null) {
            byte[] text = "committed by the app\n".getBytes(StandardCharsets.US_ASCII);
            response.setContentLength(text.length);
            response.getOutputStream().write(text);
            response.flushBuffer();
        }
        if (request.getParameter("close") != null) {
            response.setContentLength(0);
            response.getOutputStream().close();
        }
        try {
            sender.get().send(request, response, file, options);
            if (request.getParameter("twice") != null) {
                try {
                    sender.get().send(request, response, file, options);
                } catch (IllegalStateException e) {
                    errors.add(e); // and the first answer goes on
                }
            }
        } catch (IllegalStateException e) {
            errors.add(e);
            if (!response.isCommitted()) {
                throw e; // the container answers 500
            }
        } catch (RuntimeException | IOException e) {
            errors.add(e);
            throw e;
        }
        if (request.getParameter("fail") != null) { // the application's own failure after the hand-over
            throw new IllegalStateException("the app failed after send");
        }
        if (request.getParameter("errorafter") != null) { // the application refuses, too late
            response.sendError(Integer.parseInt(request.getParameter("errorafter")));
        }
        if (request.getParameter("statusafter") != null) {
            response.setStatus(Integer.parseInt(request.getParameter("statusafter")));
        }
        if (request.getParameter("closeafter") != null) {
            response.getOutputStream().close();
        }
        if (request.getParameter("writeafter") != null) {
            response.getOutputStream().write('x');
        }
    }

    /**
     * The API called on the request's async dispatch, as by an application that checked something without a
     * container thread (its own store, another service) and then dispatched the request back to itself.
     */
    private void apiAfterDispatch(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getDispatcherType() == DispatcherType.ASYNC) {
            api(request, response);
        } else {
            request.startAsync().dispatch();
        }
    }

    private void forward(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        String f = request.getParameter("f");
        request.setAttribute(HandoffOption.FILE.attribute(), switch (String.valueOf(request.getParameter("how"))) {
            case "path" -> internalRoot.resolve(f);
            case "absolute" -> Path.of(f);
            default -> f;
        });
        set(request, HandoffOption.FILENAME, "filename");
        set(request, HandoffOption.CONTENT_TYPE, "type");
        set(request, HandoffOption.CACHE_CONTROL, "cache");
        set(request, HandoffOption.LIMIT_RATE, "rate");
        set(request, HandoffOption.LIMIT_RATE_AFTER, "after");
        set(request, HandoffOption.USER_KEY, "user");
        set(request, HandoffOption.PRECOMPRESSED, "precompressed");
        String raw = request.getParameter("raw");
        if (raw != null) {
            request.setAttribute(raw.substring(0, raw.indexOf(':')), raw.substring(raw.indexOf(':') + 1));
        }
        getServletContext().getNamedDispatcher("sluice").forward(request, response);
    }

    private static void set(HttpServletRequest request, HandoffOption option, String parameter) {
        String value = request.getParameter(parameter);
        if (value != null) {
            request.setAttribute(option.attribute(), value);
        }
    }

    private void header(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/html");
        response.setHeader("X-App", "seen");
        if (request.getParameter("cookie") != null) {
            response.addCookie(new jakarta.servlet.http.Cookie("app", request.getParameter("cookie")));
        }
        response.getWriter().write("<p>the app's own body, which Sluice must discard</p>\n");
        response.setHeader(HandoffOption.FILE.header(), request.getParameter("f"));
        String filename = request.getParameter("filename");
        if (filename != null) {
            response.setHeader(HandoffOption.FILENAME.header(),
                    URLEncoder.encode(filename, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        header(request, response, HandoffOption.CONTENT_TYPE, "type");
        header(request, response, HandoffOption.CACHE_CONTROL, "cache");
        header(request, response, HandoffOption.LIMIT_RATE, "rate");
        header(request, response, HandoffOption.LIMIT_RATE_AFTER, "after");
        header(request, response, HandoffOption.USER_KEY, "user");
        header(request, response, HandoffOption.PRECOMPRESSED, "precompressed");
        String raw = request.getParameter("raw");
        if (raw != null) {
            response.addHeader(raw.substring(0, raw.indexOf(':')), raw.substring(raw.indexOf(':') + 1));
        }
        response.getWriter().write("<p>more of it, after the headers</p>\n");
        switch (String.valueOf(request.getParameter("then"))) {
            case "throw" -> throw new IllegalStateException("the app failed after choosing the file");
            case "cancel" -> { // setHeader with null removes a header: too late for a hand-off
                response.setHeader(HandoffOption.FILE.header(), null);
                response.setStatus(409);
                response.getWriter().write("the app's own answer\n");
            }
            default -> {
            }
        }
    }

    /**
     * The header hand-off from an application that answers asynchronously with {@code startAsync()} (no
     * arguments), on a thread of its own.
     */
    private static void headerAsync(HttpServletRequest request) {
        jakarta.servlet.AsyncContext async = request.startAsync();
        String file = request.getParameter("f");
        new Thread(() -> {
            try {
                HttpServletResponse response = (HttpServletResponse) async.getResponse();
                response.setHeader(HandoffOption.FILE.header(), file);
                response.setContentType("text/plain");
                response.getWriter().write("the app's own body\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                async.complete();
            }
        }, "app-async").start();
    }

    private static void header(HttpServletRequest request, HttpServletResponse response, HandoffOption option,
            String parameter) {
        String value = request.getParameter(parameter);
        if (value != null) {
            response.setHeader(option.header(), value);
        }
    }
}
