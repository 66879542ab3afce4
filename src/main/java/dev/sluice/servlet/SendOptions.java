package dev.sluice.servlet;

import dev.sluice.stream.TransferRequest;
import java.util.regex.Pattern;

/**
 * How one file is sent by {@link SluiceSender#send}: what the response says about it and how fast it goes. Every
 * part is optional; {@link #defaults()} sends the file as Sluice sends its own files, and each {@code with...}
 * method returns a copy with one part changed.
 *
 * @param filename the name a browser should save the file as: the response says
 *        {@code Content-Disposition: attachment} with it (RFC 6266; any characters, encoded as needed); empty:
 *        {@code attachment} with no name (a browser takes the URL's); {@code null}: no {@code Content-Disposition}
 * @param contentType the {@code Content-Type}, such as {@code application/pdf} or {@code text/csv;charset=utf-8};
 *        {@code null}: from the file's name, as for Sluice's own files (the container's MIME types, the
 *        {@code textCharset} for text)
 * @param cacheControl the {@code Cache-Control} value; {@code null}: the sender's ({@code cacheControl} setting);
 *        empty: none, not even one the caller set before
 * @param rate this download's own speed limit, in place of the {@code limitRate} and {@code limitRateAfter}
 *        settings; {@code null}: those settings
 * @param userKey the rate group this download belongs to: downloads with equal keys share one
 *        {@code limitRatePerUser} budget (compared with {@code equals}, e.g. a user name or an account id);
 *        {@code null}: the container's authenticated user ({@code getRemoteUser()}), if any
 * @param precompressed whether a precompressed variant beside the file ({@code file.br}, {@code file.gz},
 *        {@code file.zst}, for the codings of the {@code precompressed} setting) may be sent to a client that
 *        accepts it
 */
public record SendOptions(String filename, String contentType, String cacheControl, TransferRequest.RateLimit rate,
        Object userKey, boolean precompressed) {

    private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
    /**
     * type/subtype, then any parameters of visible ASCII, spaces and tabs: what every container sends as given
     * (Tomcat drops a header with a character above U+00FF without a word, Jetty mangles one above U+007F).
     */
    private static final Pattern MEDIA_TYPE = Pattern.compile(TOKEN + "/" + TOKEN
            + "([ \\t]*;[\\t\\x20-\\x7e]*)?");

    private static final SendOptions DEFAULTS = new SendOptions(null, null, null, null, null, false);

    /**
     * @throws IllegalArgumentException if {@code contentType} is not a media type, or either holds a character
     *         other than visible ASCII, a space or a tab (a control character would break the response's head,
     *         and containers drop or mangle the others: Tomcat sent no {@code Cache-Control} at all)
     */
    public SendOptions {
        checkContentType(contentType);
        checkCacheControl(cacheControl);
    }

    static void checkContentType(String contentType) {
        if (contentType != null && !MEDIA_TYPE.matcher(contentType).matches()) {
            throw new IllegalArgumentException("not a media type such as text/csv;charset=utf-8: "
                    + LogText.quote(contentType));
        }
    }

    static void checkCacheControl(String cacheControl) {
        if (cacheControl != null && cacheControl.chars().anyMatch(c -> (c < 0x20 || c > 0x7e) && c != '\t')) {
            throw new IllegalArgumentException("a character other than visible ASCII, space or tab in Cache-Control: "
                    + LogText.quote(cacheControl));
        }
    }

    /** No filename, the content type from the name, the sender's Cache-Control, the settings' rates, no user. */
    public static SendOptions defaults() {
        return DEFAULTS;
    }

    public SendOptions withFilename(String name) {
        return new SendOptions(name, contentType, cacheControl, rate, userKey, precompressed);
    }

    public SendOptions withContentType(String type) {
        return new SendOptions(filename, type, cacheControl, rate, userKey, precompressed);
    }

    public SendOptions withCacheControl(String value) {
        return new SendOptions(filename, contentType, value, rate, userKey, precompressed);
    }

    /** This download's own {@code limitRate} and {@code limitRateAfter}, e.g. {@code new RateLimit(1 << 20, 0)}. */
    public SendOptions withRate(TransferRequest.RateLimit limit) {
        return new SendOptions(filename, contentType, cacheControl, limit, userKey, precompressed);
    }

    public SendOptions withUserKey(Object key) {
        return new SendOptions(filename, contentType, cacheControl, rate, key, precompressed);
    }

    public SendOptions withPrecompressed(boolean allowed) {
        return new SendOptions(filename, contentType, cacheControl, rate, userKey, allowed);
    }
}
