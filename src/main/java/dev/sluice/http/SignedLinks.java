package dev.sluice.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Signed, expiring links: verifies a request path and query against the current key and, during a rotation, the
 * previous one. Links are minted with the current key by {@link #signer()} (a {@link LinkSigner}).
 *
 * <p>The format, which any language can mint (README "Signed links" has it in Python):
 * <pre>
 * PATH?expires=E[&amp;prefix=P][&amp;ip=A]&amp;sig=S
 * S = base64url, unpadded (43 characters), of HMAC-SHA256(key, E + "\n" + KIND + "\n" + SCOPE + "\n" + A)
 * </pre>
 * <ul>
 *   <li>{@code E}: Unix time in seconds, plain decimal, no sign or leading zero, at most 12 digits. The link is
 *       served up to and including that second, then answered 410.</li>
 *   <li>{@code KIND} is {@code path} and {@code SCOPE} the path, or, with {@code prefix}, {@code KIND} is
 *       {@code prefix} and {@code SCOPE} the prefix's decoded value: the link then opens the prefix itself and
 *       every path under it at a {@code /} boundary. The kind line keeps a file link from ever being read as a
 *       directory link.</li>
 *   <li>The path signed is the decoded, canonical path below the servlet, the one Sluice resolves: it starts with
 *       {@code /}, its segments are joined by single slashes, with no empty, {@code .} or {@code ..} segment and no
 *       trailing slash (the root is {@code /}). A request path is decoded exactly as the file resolver decodes it
 *       (once, strictly UTF-8, {@code +} is a plus); {@code ;}, {@code %2F}, {@code %5C}, a backslash, a control
 *       character or a dot segment make it unverifiable (403), so no path that resolves to another file can carry
 *       a signature, while re-encodings of the same path ({@code %41} for {@code A}, {@code //}) verify.</li>
 *   <li>{@code A}, with {@code ip}: the client address the link is bound to, as written in the parameter
 *       (compared as an address with the request's remote address); empty without {@code ip}.</li>
 *   <li>{@code prefix} and {@code ip} are percent-decoded once; {@code expires} and {@code sig} are taken
 *       literally. Each of the four parameters may appear once; other parameters (such as {@code download}) are
 *       not signed and are left alone.</li>
 * </ul>
 *
 * <p>Checks, in order: the form of every parameter and of the path, the prefix scope and the client address
 * (403), the signature compared in constant time against each key (403), then the expiry (410). A 403 never
 * depends on whether a file exists: callers check before they resolve anything.
 *
 * <p>Instances are immutable and thread-safe; {@link #toString()} shows no key.
 */
public final class SignedLinks {

    public static final String EXPIRES = "expires";
    public static final String SIGNATURE = "sig";
    public static final String PREFIX = "prefix";
    public static final String IP = "ip";

    /** The shortest key accepted. */
    public static final int MIN_KEY_BYTES = 16;
    /** The latest expiry a link may carry (12 digits, in the year 33658). */
    public static final long MAX_EXPIRES = 999_999_999_999L;
    /** Longer raw paths are never resolved (as in the file resolver), so they are never verified either. */
    static final int MAX_RAW_LENGTH = 64 * 1024;
    /** Longest raw prefix or ip parameter value. */
    private static final int MAX_VALUE_LENGTH = 8 * 1024;

    private static final Pattern EXPIRES_FORM = Pattern.compile("[1-9][0-9]{0,11}");
    private static final Pattern SIGNATURE_FORM = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    /** What a request's link is worth. */
    public sealed interface Verdict {

        /** Serve: {@code path} is the canonical decoded path that was verified. */
        record Valid(String path) implements Verdict {
        }

        /** Answer 403: no valid signature for this path from this client. {@code reason} is for logs only. */
        record Forbidden(String reason) implements Verdict {
        }

        /** Answer 410: a genuine link whose time is up. */
        record Expired(long expires) implements Verdict {
        }
    }

    private final LinkSigner current;
    private final LinkSigner previous;

    private SignedLinks(LinkSigner current, LinkSigner previous) {
        this.current = current;
        this.previous = previous;
    }

    /**
     * Verifies with {@code currentKey} and, unless it is {@code null}, {@code previousKey}; mints with the current.
     *
     * @throws IllegalArgumentException if a key is shorter than {@link #MIN_KEY_BYTES}
     */
    public static SignedLinks of(byte[] currentKey, byte[] previousKey) {
        return new SignedLinks(LinkSigner.of(currentKey), previousKey == null ? null : LinkSigner.of(previousKey));
    }

    /** Mints links with the current key. */
    public LinkSigner signer() {
        return current;
    }

    /** Whether a previous key is accepted too. */
    public boolean rotating() {
        return previous != null;
    }

    /**
     * Checks a request.
     *
     * @param rawPath the path below the servlet, still percent-encoded, as the file resolver gets it
     * @param rawQuery the query string, still percent-encoded, or null
     * @param clientAddress the request's remote address (checked only for a link bound to an address)
     * @param nowEpochSeconds the current time
     */
    public Verdict verify(String rawPath, String rawQuery, String clientAddress, long nowEpochSeconds) {
        Map<String, String> params = new HashMap<>();
        if (rawQuery != null) {
            if (rawQuery.length() > MAX_RAW_LENGTH) {
                return forbidden("query too long");
            }
            for (String pair : rawQuery.split("&", -1)) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                if (name.equals(EXPIRES) || name.equals(SIGNATURE) || name.equals(PREFIX) || name.equals(IP)) {
                    if (params.put(name, eq < 0 ? "" : pair.substring(eq + 1)) != null) {
                        return forbidden("duplicate parameter " + name);
                    }
                }
            }
        }
        String expiresText = params.get(EXPIRES);
        String sig = params.get(SIGNATURE);
        if (expiresText == null || sig == null) {
            return forbidden("no " + (expiresText == null ? EXPIRES : SIGNATURE) + " parameter");
        }
        if (!EXPIRES_FORM.matcher(expiresText).matches()) {
            return forbidden("malformed expires");
        }
        long expires = Long.parseLong(expiresText); // at most 12 digits: cannot overflow
        if (!SIGNATURE_FORM.matcher(sig).matches()) {
            return forbidden("malformed sig");
        }
        Optional<String> path = canonicalPath(rawPath);
        if (path.isEmpty()) {
            return forbidden("path cannot be verified");
        }
        String scope = path.get();
        String prefix = null;
        if (params.containsKey(PREFIX)) {
            prefix = decodeValue(params.get(PREFIX));
            String canonicalPrefix = prefix == null || !prefix.startsWith("/") ? null : canonical(prefix);
            if (canonicalPrefix == null) {
                return forbidden("malformed prefix");
            }
            if (!isUnder(scope, canonicalPrefix)) {
                return forbidden("path outside the prefix");
            }
            scope = prefix;
        }
        String ip = "";
        if (params.containsKey(IP)) {
            ip = decodeValue(params.get(IP));
            InetAddress bound = ip == null ? null : ipLiteral(ip);
            if (bound == null) {
                return forbidden("malformed ip");
            }
            InetAddress client = clientAddress == null ? null : ipLiteral(clientAddress);
            if (!bound.equals(client)) {
                return forbidden("another client address");
            }
        }
        byte[] given = sig.getBytes(StandardCharsets.US_ASCII);
        String message = stringToSign(expires, prefix != null, scope, ip);
        boolean genuine = MessageDigest.isEqual(current.signature(message).getBytes(StandardCharsets.US_ASCII), given);
        if (previous != null) {
            genuine |= MessageDigest.isEqual(previous.signature(message).getBytes(StandardCharsets.US_ASCII), given);
        }
        if (!genuine) {
            return forbidden("bad signature");
        }
        if (nowEpochSeconds > expires) {
            return new Verdict.Expired(expires);
        }
        return new Verdict.Valid(path.get());
    }

    private static Verdict forbidden(String reason) {
        return new Verdict.Forbidden(reason);
    }

    /** Whether {@code path} is {@code prefix} or under it at a {@code /} boundary; both canonical. */
    static boolean isUnder(String path, String prefix) {
        return prefix.equals("/") || path.equals(prefix)
                || (path.startsWith(prefix) && path.charAt(prefix.length()) == '/');
    }

    /** The exact text signed: four lines, without a newline at the end. */
    public static String stringToSign(long expires, boolean prefix, String scope, String ip) {
        return expires + "\n" + (prefix ? "prefix" : "path") + "\n" + scope + "\n" + ip;
    }

    /**
     * The canonical decoded form of a raw (percent-encoded) request path, as the file resolver will look it up,
     * or empty when the resolver would refuse it for its form or it has a dot segment.
     */
    public static Optional<String> canonicalPath(String rawPath) {
        if (rawPath == null || rawPath.length() > MAX_RAW_LENGTH || rawPath.indexOf(';') >= 0) {
            return Optional.empty();
        }
        for (int i = rawPath.indexOf('%'); i >= 0; i = rawPath.indexOf('%', i + 1)) {
            if (rawPath.regionMatches(true, i, "%2f", 0, 3) || rawPath.regionMatches(true, i, "%5c", 0, 3)) {
                return Optional.empty();
            }
        }
        String decoded = PathEncoding.decodeOrNull(rawPath);
        return decoded == null ? Optional.empty() : Optional.ofNullable(canonical(decoded));
    }

    /**
     * The canonical form of a decoded path: empty segments dropped, joined by single slashes after a leading one;
     * null if it has a control character, a backslash or a {@code .} or {@code ..} segment.
     */
    static String canonical(String decoded) {
        if (decoded.length() > MAX_RAW_LENGTH) {
            return null;
        }
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\') {
                return null;
            }
        }
        List<String> segments = new ArrayList<>();
        for (String segment : decoded.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                return null;
            }
            if (!segment.isEmpty()) {
                segments.add(segment);
            }
        }
        return "/" + String.join("/", segments);
    }

    private static String decodeValue(String raw) {
        if (raw.length() > MAX_VALUE_LENGTH) {
            return null;
        }
        String decoded = PathEncoding.decodeOrNull(raw);
        if (decoded == null || decoded.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return null;
        }
        return decoded;
    }

    /**
     * An IP address literal (IPv4 dotted quad, or IPv6 with or without brackets, no zone), or null. Never looks a
     * name up: anything but a literal is refused before the JDK sees it.
     */
    static InetAddress ipLiteral(String text) {
        String t = text.length() > 2 && text.startsWith("[") && text.endsWith("]")
                ? text.substring(1, text.length() - 1) : text;
        try {
            if (IPV4.matcher(t).matches()) {
                String[] parts = t.split("\\.");
                byte[] address = new byte[4];
                for (int i = 0; i < 4; i++) {
                    address[i] = (byte) Integer.parseInt(parts[i]);
                }
                return InetAddress.getByAddress(address);
            }
            if (t.indexOf(':') >= 0 && IPV6_CHARS.matcher(t).matches()) {
                return InetAddress.getByName("[" + t + "]"); // bracketed: parsed as a literal or refused
            }
        } catch (UnknownHostException e) {
            return null;
        }
        return null;
    }

    @Override
    public String toString() {
        return "SignedLinks[" + (previous == null ? "one key" : "current and previous key") + "]";
    }
}
