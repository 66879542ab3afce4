package dev.sluice.launcher;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The launcher's answer to {@code OPTIONS *}, a question about the server as a whole (RFC 9110, 9.3.7): 200 with
 * the methods Sluice serves in {@code Allow}, as Jetty's distribution answers it (its {@code DefaultHandler};
 * Tomcat answers 200 too, with its own list). The launcher's one context, at {@code /}, takes only targets that
 * start with {@code /}, so without this Jetty answered 404. Set as the server's default handler: it sees only what
 * no context took.
 */
final class ServerWideOptions extends Handler.Abstract.NonBlocking {

    /** The methods Sluice's servlet answers, as its own {@code Allow} says them. */
    static final String ALLOW = "GET, HEAD, OPTIONS";

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (!HttpMethod.OPTIONS.is(request.getMethod()) || !"*".equals(request.getHttpURI().getPath())) {
            return false;
        }
        response.setStatus(HttpStatus.OK_200);
        response.getHeaders().put(HttpHeader.ALLOW, ALLOW);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
        callback.succeeded();
        return true;
    }
}
