package dev.sluice.servlet;

import dev.sluice.resource.OpenedFile;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Tomcat's sendfile: a servlet that sets three request attributes and writes no body makes Tomcat send that region
 * of the file itself after {@code service} returns, from the kernel's page cache to the socket, without copying it
 * through the JVM and without an async request. Tomcat offers it (the attribute {@value #SUPPORT} is
 * {@code Boolean.TRUE}) when its connector has {@code useSendfile} on (the default for NIO, also HTTP/2).
 *
 * <p>Tomcat opens the file again <em>by name</em>, when the servlet has returned. So the snapshot promise (headers
 * and bytes from one open file) is kept by a check instead: the region is handed off only while the name still
 * denotes the opened file, unchanged (same file key, size and modification time). Between that check and
 * Tomcat's open (the same request thread, a few microseconds later) the file can still be replaced; then Tomcat
 * sends the new file's bytes under the old file's headers: a shorter file makes Tomcat's sendfile fail and close
 * the connection (the client sees a broken download), a file at least as long is sent truncated to the announced
 * length, and a symlink renamed over the file is followed by Tomcat. Deleting the file after Tomcat opened it
 * is harmless; deleting it in that window cuts the connection after the headers.
 *
 * <p>Tomcat needs a {@code Content-Length} (without one it would announce chunked encoding and send raw bytes),
 * so only a body of one known length is handed off; the caller sets it with the other headers.
 */
final class TomcatSendfile {

    static final String SUPPORT = "org.apache.tomcat.sendfile.support";
    static final String FILENAME = "org.apache.tomcat.sendfile.filename";
    static final String START = "org.apache.tomcat.sendfile.start";
    static final String END = "org.apache.tomcat.sendfile.end";

    private TomcatSendfile() {
    }

    /**
     * Whether the container offers sendfile for this exchange. A wrapped request or response (a filter's) is
     * refused, as Tomcat's own {@code DefaultServlet} does: a wrapper may mean to see or change the body, and a
     * sendfile body passes it by.
     */
    static boolean offered(HttpServletRequest request, HttpServletResponse response) {
        return Boolean.TRUE.equals(request.getAttribute(SUPPORT)) && !(request instanceof ServletRequestWrapper)
                && !(response instanceof ServletResponseWrapper);
    }

    /**
     * Hands the region {@code [first, first + length)} of {@code file} to Tomcat, if the file on disk is still
     * the one opened. Returns false, and changes nothing, otherwise. After true, the caller closes its own channel
     * and writes no body.
     */
    static boolean handOff(HttpServletRequest request, OpenedFile file, long first, long length) {
        if (!fits(request, length) || !file.unchangedOnDisk()) {
            return false;
        }
        request.setAttribute(FILENAME, file.path().toAbsolutePath().toString());
        request.setAttribute(START, first);
        request.setAttribute(END, first + length);
        return true;
    }

    /**
     * Whether Tomcat can send a region of {@code length} bytes on this request's protocol. Over HTTP/2 Tomcat maps
     * the whole region at once ({@code Http2AsyncUpgradeHandler.processSendfile}), and one mapping holds at most
     * {@link Integer#MAX_VALUE} bytes: a larger region fails there, after the head has gone out, with no byte of
     * the body, and takes the connection's other streams with it (GOAWAY, INTERNAL_ERROR), while Tomcat logs
     * nothing. HTTP/1.1's sendfile sends a region of any length. A larger region over HTTP/2 goes by Sluice's
     * engine.
     */
    static boolean fits(HttpServletRequest request, long length) {
        return length <= Integer.MAX_VALUE || !SluiceSender.isHttp2(request);
    }
}
