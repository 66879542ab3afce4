package dev.sluice.servlet;

import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Removing headers from a response that is not committed, on every container Sluice runs on. */
final class ResponseHeaders {

    private ResponseHeaders() {
    }

    /**
     * Removes the headers {@code names} (any case). Servlet 6.1 removes a header set to {@code null}; Tomcat 10.1
     * (Servlet 6.0) ignores a {@code null} value, so there the response is reset and its status, content type and
     * every other header put back (cookies are headers too).
     */
    static void remove(HttpServletResponse response, List<String> names) {
        List<String> present = names.stream().filter(response::containsHeader).toList();
        if (present.isEmpty()) {
            return;
        }
        for (String name : present) {
            response.setHeader(name, null);
        }
        if (present.stream().noneMatch(response::containsHeader)) {
            return;
        }
        List<String> gone = present.stream().map(name -> name.toLowerCase(Locale.ROOT)).toList();
        Map<String, List<String>> kept = new LinkedHashMap<>();
        for (String name : response.getHeaderNames()) {
            if (!gone.contains(name.toLowerCase(Locale.ROOT))) {
                kept.putIfAbsent(name, new ArrayList<>(response.getHeaders(name)));
            }
        }
        int status = response.getStatus();
        String type = response.getContentType();
        response.reset();
        response.setStatus(status);
        if (type != null) {
            response.setContentType(type);
        }
        kept.forEach((name, values) -> {
            List<String> there = new ArrayList<>(response.getHeaders(name)); // what the container kept or set anew
            for (String value : values) {
                if (!there.remove(value)) {
                    response.addHeader(name, value);
                }
            }
        });
    }
}
