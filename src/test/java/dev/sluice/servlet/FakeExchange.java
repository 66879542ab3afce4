package dev.sluice.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A request and its response without a container, for unit tests of what Sluice does to them: the request answers
 * from fields, the response records every call that would change what the client gets (in {@link #calls}) and keeps
 * its status, headers and body. Any other method of either throws, so that a test notices an unexpected use.
 */
final class FakeExchange {

    String method = "GET";
    boolean asyncSupported = true;
    boolean asyncStarted;
    DispatcherType dispatcherType = DispatcherType.REQUEST;
    final Map<String, Object> attributes = new LinkedHashMap<>();
    final Map<String, String> requestHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    /** The webapp's {@code /WEB-INF/web.xml}, or null for a webapp without one. */
    String descriptor;
    boolean secure;
    private final Map<String, Object> contextAttributes = new LinkedHashMap<>();

    boolean committed;
    boolean writerUsed;
    /** A response call (as recorded, e.g. {@code "setStatus 200"}) that throws, as a container's might. */
    String failingCall;
    int status = 200;
    final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final List<String> calls = new ArrayList<>();

    private final ServletOutputStream out = new ServletOutputStream() {
        @Override
        public void write(int b) {
            calls.add("write");
            body.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            calls.add("write");
            body.write(b, off, len);
        }

        @Override
        public void flush() {
            calls.add("flush");
            committed = true;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            throw new UnsupportedOperationException("setWriteListener");
        }
    };

    HttpServletRequest request() {
        return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "isAsyncSupported" -> asyncSupported;
                    case "isAsyncStarted" -> asyncStarted;
                    case "getDispatcherType" -> dispatcherType;
                    case "getAttribute" -> attributes.get((String) args[0]);
                    case "setAttribute" -> attributes.put((String) args[0], args[1]);
                    case "removeAttribute" -> attributes.remove((String) args[0]);
                    case "getAttributeNames" -> Collections.enumeration(new ArrayList<>(attributes.keySet()));
                    case "getHeader" -> requestHeaders.get((String) args[0]);
                    case "getHeaders" -> Collections.enumeration(requestHeaders.containsKey((String) args[0])
                            ? List.of(requestHeaders.get((String) args[0])) : List.<String>of());
                    case "getServletContext" -> context();
                    case "getRemoteAddr" -> "127.0.0.1";
                    case "isSecure" -> secure;
                    case "toString" -> "FakeExchange.request";
                    default -> throw new UnsupportedOperationException("request." + m.getName());
                });
    }

    private ServletContext context() {
        return (ServletContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServletContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getResourceAsStream" -> descriptor == null || !args[0].equals("/WEB-INF/web.xml") ? null
                            : new ByteArrayInputStream(descriptor.getBytes(StandardCharsets.UTF_8));
                    case "getAttribute" -> contextAttributes.get((String) args[0]);
                    case "setAttribute" -> contextAttributes.put((String) args[0], args[1]);
                    case "getMimeType" -> null;
                    case "toString" -> "FakeExchange.context";
                    default -> throw new UnsupportedOperationException("context." + m.getName());
                });
    }

    HttpServletResponse response() {
        return (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "isCommitted" -> committed;
                    case "getOutputStream" -> {
                        if (writerUsed) {
                            throw new IllegalStateException("getWriter() has already been called");
                        }
                        yield out;
                    }
                    case "setStatus" -> record("setStatus " + args[0], () -> status = (int) args[0]);
                    case "setHeader" -> record("setHeader " + args[0], () -> {
                        if (args[1] == null) { // Servlet 6.1: a null value removes the header
                            headers.remove((String) args[0]);
                        } else {
                            headers.put((String) args[0], new ArrayList<>(List.of((String) args[1])));
                        }
                    });
                    case "addHeader" -> record("addHeader " + args[0], () -> headers.computeIfAbsent((String) args[0],
                            k -> new ArrayList<>()).add((String) args[1]));
                    case "setContentType" -> record("setContentType", () -> {
                        if (args[0] == null) { // as a container: no type
                            headers.remove("Content-Type");
                        } else {
                            headers.put("Content-Type", new ArrayList<>(List.of((String) args[0])));
                        }
                    });
                    case "setCharacterEncoding" -> record("setCharacterEncoding " + args[0], () -> {
                        if (args[0] == null && headers.containsKey("Content-Type")) { // as a container: no charset
                            headers.put("Content-Type", new ArrayList<>(List.of(
                                    headers.get("Content-Type").get(0).replaceAll("(?i);\\s*charset=[^;]*", ""))));
                        }
                    });
                    case "setContentLength", "setContentLengthLong" -> record("setContentLength", () ->
                            headers.put("Content-Length", new ArrayList<>(List.of(args[0].toString()))));
                    case "getHeader" -> headers.containsKey((String) args[0]) ? headers.get((String) args[0]).get(0)
                            : null;
                    case "getHeaders" -> headers.getOrDefault((String) args[0], List.of());
                    case "containsHeader" -> headers.containsKey((String) args[0]);
                    case "getHeaderNames" -> new ArrayList<>(headers.keySet());
                    case "getStatus" -> status;
                    case "flushBuffer" -> record("flushBuffer", () -> committed = true);
                    case "resetBuffer" -> record("resetBuffer", body::reset);
                    case "reset" -> record("reset", () -> {
                        body.reset();
                        headers.clear();
                        status = 200;
                    });
                    case "sendError" -> record("sendError " + args[0], () -> committed = true);
                    case "toString" -> "FakeExchange.response";
                    default -> throw new UnsupportedOperationException("response." + m.getName());
                });
    }

    private Object record(String call, Runnable effect) {
        if (call.equals(failingCall)) {
            throw new IllegalStateException("failing on purpose: " + call);
        }
        calls.add(call);
        effect.run();
        return null;
    }

    String header(String name) {
        List<String> values = headers.get(name);
        return values == null ? null : values.get(0);
    }
}
