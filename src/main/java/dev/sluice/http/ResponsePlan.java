package dev.sluice.http;

import java.util.List;

/**
 * What to answer, decided without I/O: the status, the headers, and the body as parts of the file and literal
 * bytes. The servlet applies it; the transfer engine streams the parts.
 *
 * @param status the HTTP status
 * @param headers response headers in the order they should be set
 * @param body the body's parts in order; empty for responses without a body
 * @param contentLength exact body length, or -1 for responses that must not carry one (304)
 */
public record ResponsePlan(int status, List<Header> headers, List<Part> body, long contentLength) {

    public ResponsePlan {
        headers = List.copyOf(headers);
        body = List.copyOf(body);
    }

    /** One response header. */
    public record Header(String name, String value) {
    }

    /** A piece of the body. */
    public sealed interface Part {
        long length();
    }

    /** {@code length} bytes of the file from {@code first}. */
    public record FilePart(long first, long length) implements Part {
    }

    /** Literal bytes, such as multipart boundaries or a short error text. */
    public record Bytes(byte[] bytes) implements Part {
        @Override
        public long length() {
            return bytes.length;
        }
    }

    /** The value of the first header called {@code name} (case-insensitive), or null. */
    public String header(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).findFirst()
                .orElse(null);
    }
}
