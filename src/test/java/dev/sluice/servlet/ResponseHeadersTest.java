package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Removing headers where a null value removes them (Servlet 6.1) and where it is ignored (Tomcat 10.1). */
class ResponseHeadersTest {

    /** A response's headers, status and type, as a container keeps them; {@code nullRemoves} as Servlet 6.1. */
    private static HttpServletResponse response(boolean nullRemoves, Map<String, List<String>> headers,
            int[] status, String[] type) {
        return (HttpServletResponse) Proxy.newProxyInstance(ResponseHeadersTest.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "containsHeader" -> headers.containsKey((String) args[0]);
                    case "getHeaders" -> new ArrayList<>(headers.getOrDefault((String) args[0], List.of()));
                    case "getHeaderNames" -> new ArrayList<>(headers.keySet());
                    case "setHeader" -> {
                        if (args[1] != null) {
                            headers.put((String) args[0], new ArrayList<>(List.of((String) args[1])));
                        } else if (nullRemoves) {
                            headers.remove((String) args[0]);
                        }
                        yield null;
                    }
                    case "addHeader" -> {
                        headers.computeIfAbsent((String) args[0], k -> new ArrayList<>()).add((String) args[1]);
                        yield null;
                    }
                    case "reset" -> {
                        headers.clear();
                        status[0] = 200;
                        type[0] = null;
                        yield null;
                    }
                    case "getStatus" -> status[0];
                    case "setStatus" -> {
                        status[0] = (int) args[0];
                        yield null;
                    }
                    case "getContentType" -> type[0];
                    case "setContentType" -> {
                        type[0] = (String) args[0];
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void removesTheNamedHeadersAndKeepsEverythingElse(boolean nullRemoves) {
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.put("Content-Encoding", new ArrayList<>(List.of("gzip")));
        headers.put("Set-Cookie", new ArrayList<>(List.of("a=1", "b=2")));
        headers.put("X-App", new ArrayList<>(List.of("kept")));
        int[] status = {206};
        String[] type = {"text/csv;charset=utf-8"};
        HttpServletResponse response = response(nullRemoves, headers, status, type);

        ResponseHeaders.remove(response, List.of("content-encoding", "Content-Range"));

        assertFalse(response.containsHeader("Content-Encoding"));
        assertEquals(List.of("a=1", "b=2"), response.getHeaders("Set-Cookie"));
        assertEquals(List.of("kept"), response.getHeaders("X-App"));
        assertEquals(206, status[0]);
        assertEquals("text/csv;charset=utf-8", type[0]);
        assertEquals(3 - 1, headers.size());
    }
}
