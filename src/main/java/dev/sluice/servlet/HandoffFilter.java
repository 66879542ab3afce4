package dev.sluice.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The response-header hand-off, for applications that cannot call {@link SluiceSender} (another framework, a
 * proxied application in the same container): mapped in front of the application, it lets the application answer,
 * and when its response carries {@code X-Sluice-File} (a path under {@code internalRoot}, percent-encoded) with any
 * other {@link HandoffOption#header() X-Sluice-* option}, it drops the application's answer and sends that file
 * with the {@link SluiceSender} that {@link SluiceServlet} published, as Sluice sends its own.
 *
 * <p>No {@code X-Sluice-*} header ever reaches the client, hand-off or not. The application's status, headers and
 * body are dropped, its cookies kept. An exception it throws after {@code X-Sluice-File} sends no file (it may be
 * the application's refusal): the response is reset, and the exception goes on to the container; removing the
 * header again ({@code setHeader} with {@code null}) is a 500. A file Sluice refuses (outside {@code internalRoot}
 * in any encoding, a symlink leading out, a directory, missing) is a 404, a bad option value or an unknown
 * {@code X-Sluice-*} name a 500; each is logged at WARNING with the value. Only an application that answers on
 * the request thread can hand off (one that goes async gets a 500, see {@link HandoffResponse}).
 *
 * <p>Map it, async-supported, to the application's paths only (never in front of {@link SluiceServlet}: it would
 * see every download through a wrapper), with the {@code REQUEST} and {@code ASYNC} dispatcher types: Sluice ends a
 * download whose file shrank, or whose client stalled, by dispatching the request once more, which this filter then
 * fails, so that the container cuts the connection.
 */
public final class HandoffFilter implements Filter {

    private static final Logger LOG = Logger.getLogger(HandoffFilter.class.getName());

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        if (!(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)) {
            chain.doFilter(req, res);
            return;
        }
        if (SluiceSender.answerCutOff(request, response)) {
            return;
        }
        HandoffResponse answer = new HandoffResponse(request, response);
        try {
            chain.doFilter(new AsyncThroughFilter(request, answer), answer);
        } catch (IOException | ServletException | RuntimeException e) {
            // Fails closed: an exception may be the application's refusal (an authorization check, a failed
            // commit), so no file goes; what it wrote before X-Sluice-File must not go either, and the container
            // answers the exception as it would have (its error page, the outer filters' handling).
            if (answer.handoffRequested() && !request.isAsyncStarted() && !response.isCommitted()) {
                resetKeepingCookies(response);
            }
            throw e;
        }
        if (!answer.handoffRequested()) {
            if (!answer.options().isEmpty() && !answer.options().containsKey(HandoffOption.FILE.header())) {
                LOG.warning("Sluice: " + String.join(", ", answer.options().keySet().stream().map(LogText::quote)
                        .toList()) + " without " + HandoffOption.FILE.header() + ": dropped, no hand-off");
            }
            return;
        }
        if (request.isAsyncStarted()) {
            answer.refuseAsync();
            return;
        }
        if (!answer.options().containsKey(HandoffOption.FILE.header())) {
            LOG.warning("Sluice: X-Sluice-File set, then removed: a hand-off cannot be taken back once asked for"
                    + " (what the application wrote meanwhile went nowhere): answered 500");
            emptyInternalServerError(response);
            return;
        }
        if (answer.repeatedOption() != null) {
            LOG.warning("Sluice: " + LogText.quote(answer.repeatedOption()) + " added twice, with different values:"
                    + " which one the application meant is not known: answered 500");
            emptyInternalServerError(response);
            return;
        }
        Object sender = request.getServletContext().getAttribute(SluiceSender.CONTEXT_ATTRIBUTE);
        if (!(sender instanceof SluiceSender sluice)) {
            LOG.warning("Sluice: X-Sluice-File " + LogText.quote(answer.options().get(HandoffOption.FILE.header()))
                    + " but no " + SluiceSender.CONTEXT_ATTRIBUTE + " in the servlet context (is SluiceServlet"
                    + " deployed, with load-on-startup?): answered 500");
            emptyInternalServerError(response);
            return;
        }
        resetKeepingCookies(response);
        sluice.handOff(request, response, internalRoot -> Handoff.fromHeaders(answer.options(),
                sluice.engineSettings()), "header " + HandoffOption.FILE.header());
    }

    /**
     * Gives an application that calls {@code startAsync()} without arguments the filter's response, not the
     * container's own, which that method would otherwise hand it (Servlet 6.1, {@code ServletRequest.startAsync}).
     * Without this, an {@code X-Sluice-File} the application set on its async context's response went past the
     * filter to the client, path and all.
     */
    private static final class AsyncThroughFilter extends HttpServletRequestWrapper {

        private final HandoffResponse answer;

        AsyncThroughFilter(HttpServletRequest request, HandoffResponse answer) {
            super(request);
            this.answer = answer;
        }

        @Override
        public AsyncContext startAsync() {
            return startAsync(this, answer);
        }
    }

    /** The application's answer dropped, its cookies kept, and an empty 500 in its place. */
    static void emptyInternalServerError(HttpServletResponse response) {
        emptyAnswer(response, HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
    }

    /**
     * The application's answer dropped, its cookies kept, and {@code status} with no body in its place. Also what a
     * download that sent nothing gets when it ends aborted or refused ({@link SluiceSender}).
     */
    static void emptyAnswer(HttpServletResponse response, int status) {
        resetKeepingCookies(response);
        response.setStatus(status);
        response.setContentLength(0);
    }

    /**
     * Drops the application's status, headers and unsent body; its cookies stay. Also what the sender's 503 does
     * ({@link SluiceSender}, {@code maxTransfers}).
     */
    static void resetKeepingCookies(HttpServletResponse response) {
        List<String> cookies = new ArrayList<>(response.getHeaders("Set-Cookie"));
        response.reset();
        cookies.removeAll(response.getHeaders("Set-Cookie")); // a container may keep its session cookie itself
        for (String cookie : cookies) {
            response.addHeader("Set-Cookie", cookie);
        }
    }
}
