package dev.sluice.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Answers with what {@link SluiceSender#endsWithoutBlocking} says of the container's own output stream for this
 * request, {@code true} or {@code false}: whether a body's last chunk would go whole on it.
 */
public final class ClosingWriteProbe extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        boolean whole = SluiceSender.endsWithoutBlocking(request, response.getOutputStream());
        byte[] body = Boolean.toString(whole).getBytes(StandardCharsets.US_ASCII);
        response.setContentType("text/plain");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
