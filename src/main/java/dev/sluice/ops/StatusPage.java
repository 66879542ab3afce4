package dev.sluice.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The live status page a browser gets at the status path: one HTML file with its style and script inline, which
 * fetches the status JSON from its own address every second and draws it. Nothing else is loaded, from the server
 * or the internet, and its {@link #CONTENT_SECURITY_POLICY} lets the browser run only that script and style (by
 * their hashes) and connect only to the page's own origin.
 */
public final class StatusPage {

    private static final String RESOURCE = "status.html";

    /** The page, as sent. */
    private static final byte[] HTML;

    /** Allows the page's own inline script and style, fetches from its origin, nothing else. */
    public static final String CONTENT_SECURITY_POLICY;

    static {
        String html;
        try (InputStream in = StatusPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HTML = html.getBytes(StandardCharsets.UTF_8);
        CONTENT_SECURITY_POLICY = "default-src 'none'; script-src '" + hash(inner(html, "script")) + "'; style-src '"
                + hash(inner(html, "style")) + "'; connect-src 'self'; img-src data:; base-uri 'none';"
                + " form-action 'none'; frame-ancestors 'none'";
    }

    private StatusPage() {
    }

    /** The page's bytes (UTF-8); a fresh copy. */
    public static byte[] html() {
        return HTML.clone();
    }

    /** The text between the one {@code <tag>} and its {@code </tag>}. */
    static String inner(String html, String tag) {
        int open = html.indexOf("<" + tag + ">");
        int close = html.indexOf("</" + tag + ">");
        if (open < 0 || close < open || html.indexOf("<" + tag + ">", open + 1) >= 0) {
            throw new IllegalStateException(RESOURCE + " must hold exactly one <" + tag + ">");
        }
        return html.substring(open + tag.length() + 2, close);
    }

    private static String hash(String content) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
