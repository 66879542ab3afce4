package dev.sluice.servlet;

/**
 * What an application gives Sluice when it hands a file over without calling {@link SluiceSender} itself: as a
 * request attribute before it forwards to {@link SluiceServlet} ({@link #attribute()}), or as a response header
 * that {@link HandoffFilter} takes out of its response ({@link #header()}). Each is the {@link SendOptions} part
 * of the same name, and {@link #FILE} names the file under the {@code internalRoot} setting.
 *
 * <p>As attributes, values are Java objects: {@link #FILE} a {@link java.nio.file.Path} (relative to
 * {@code internalRoot}, or absolute under it) or a {@code String} (a relative path, not percent-encoded), rates
 * a {@code Long}/{@code Integer} or a size such as {@code "1MiB"}, {@link #PRECOMPRESSED} a {@code Boolean} or
 * {@code "true"}, {@link #USER_KEY} any object, the others strings. As headers, values are text:
 * {@link #FILE} a path relative to {@code internalRoot}, percent-encoded like a URL path and decoded exactly once,
 * {@link #FILENAME} percent-encoded UTF-8 (plain ASCII names as they are), rates sizes such as {@code 1MiB}.
 */
public enum HandoffOption {
    /** The file to send, under {@code internalRoot}; setting it is what asks for a hand-off. */
    FILE("file", "X-Sluice-File"),
    /** {@link SendOptions#filename()}. */
    FILENAME("filename", "X-Sluice-Filename"),
    /** {@link SendOptions#contentType()}. */
    CONTENT_TYPE("contentType", "X-Sluice-Content-Type"),
    /** {@link SendOptions#cacheControl()}. */
    CACHE_CONTROL("cacheControl", "X-Sluice-Cache-Control"),
    /** This download's {@code limitRate}; the {@code limitRateAfter} setting applies unless given too. */
    LIMIT_RATE("limitRate", "X-Sluice-Limit-Rate"),
    /** This download's {@code limitRateAfter}; the {@code limitRate} setting applies unless given too. */
    LIMIT_RATE_AFTER("limitRateAfter", "X-Sluice-Limit-Rate-After"),
    /** {@link SendOptions#userKey()}. */
    USER_KEY("userKey", "X-Sluice-User-Key"),
    /** {@link SendOptions#precompressed()}. */
    PRECOMPRESSED("precompressed", "X-Sluice-Precompressed");

    /** What every attribute name starts with. */
    public static final String ATTRIBUTE_PREFIX = "dev.sluice.";
    /** What every header name starts with; {@link HandoffFilter} never lets a header so named reach the client. */
    public static final String HEADER_PREFIX = "X-Sluice-";

    private final String key;
    private final String header;

    HandoffOption(String key, String header) {
        this.key = key;
        this.header = header;
    }

    /** The request attribute, such as {@code dev.sluice.file}. */
    public String attribute() {
        return ATTRIBUTE_PREFIX + key;
    }

    /** The response header, such as {@code X-Sluice-File}. */
    public String header() {
        return header;
    }
}
