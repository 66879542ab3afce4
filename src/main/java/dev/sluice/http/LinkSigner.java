package dev.sluice.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints signed, expiring links in the format {@link SignedLinks} verifies:
 * {@code LinkSigner.of(key).sign("/dir/file.iso", expires)} gives
 * {@code /dir/file.iso?expires=1767225600&sig=...}, the path percent-encoded, ready to append to the URL of the
 * servlet's mount point.
 *
 * <p>Immutable and thread-safe; {@link #toString()} shows no key.
 */
public final class LinkSigner {

    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    private LinkSigner(SecretKeySpec key) {
        this.key = key;
    }

    /**
     * A signer with {@code key} (copied).
     *
     * @throws IllegalArgumentException if the key is shorter than {@link SignedLinks#MIN_KEY_BYTES}
     */
    public static LinkSigner of(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length < SignedLinks.MIN_KEY_BYTES) {
            throw new IllegalArgumentException("a signing key needs at least " + SignedLinks.MIN_KEY_BYTES
                    + " bytes, this one has " + key.length);
        }
        return new LinkSigner(new SecretKeySpec(key, ALGORITHM));
    }

    /** A link to {@code path} (decoded, such as {@code /dir/my file.iso}) served until {@code expires}. */
    public String sign(String path, long expiresEpochSeconds) {
        return sign(path, expiresEpochSeconds, null, null);
    }

    /**
     * A link to {@code path} served until {@code expires}; with a {@code prefix} (decoded, such as {@code /dir})
     * the same link, its path changed, opens every file under the prefix; with an {@code ip} it is served to that
     * client address only. {@code prefix} and {@code ip} may be null.
     *
     * @throws IllegalArgumentException if the path or prefix has a {@code .} or {@code ..} segment, a backslash or
     *     a control character, if the path is not under the prefix, if {@code ip} is not an IP address literal, or
     *     if {@code expires} is not from 1 to {@link SignedLinks#MAX_EXPIRES}
     */
    public String sign(String path, long expiresEpochSeconds, String prefix, String ip) {
        String canonicalPath = canonical("path", path);
        if (expiresEpochSeconds < 1 || expiresEpochSeconds > SignedLinks.MAX_EXPIRES) {
            throw new IllegalArgumentException("expires must be a Unix time in seconds from 1 to "
                    + SignedLinks.MAX_EXPIRES + ", not " + expiresEpochSeconds);
        }
        String canonicalPrefix = null;
        if (prefix != null) {
            canonicalPrefix = canonical("prefix", prefix);
            if (!SignedLinks.isUnder(canonicalPath, canonicalPrefix)) {
                throw new IllegalArgumentException("path '" + canonicalPath + "' is not under the prefix '"
                        + canonicalPrefix + "'");
            }
        }
        if (ip != null && SignedLinks.ipLiteral(ip) == null) {
            throw new IllegalArgumentException("'" + ip + "' is not an IP address");
        }
        String message = SignedLinks.stringToSign(expiresEpochSeconds, prefix != null,
                prefix != null ? canonicalPrefix : canonicalPath, ip == null ? "" : ip);
        StringBuilder link = new StringBuilder(PathEncoding.encode(canonicalPath)).append('?')
                .append(SignedLinks.EXPIRES).append('=').append(expiresEpochSeconds);
        if (prefix != null) {
            link.append('&').append(SignedLinks.PREFIX).append('=').append(PathEncoding.encode(canonicalPrefix));
        }
        if (ip != null) {
            link.append('&').append(SignedLinks.IP).append('=').append(PathEncoding.encode(ip));
        }
        return link.append('&').append(SignedLinks.SIGNATURE).append('=').append(signature(message)).toString();
    }

    private static String canonical(String what, String decoded) {
        Objects.requireNonNull(decoded, what);
        String canonical = decoded.startsWith("/") ? SignedLinks.canonical(decoded) : null;
        if (canonical == null) {
            throw new IllegalArgumentException("the " + what + " '" + decoded + "' is not a decoded path starting "
                    + "with '/' without '.' or '..' segments, backslashes or control characters");
        }
        return canonical;
    }

    /** The base64url (unpadded) HMAC-SHA256 of {@code message}'s UTF-8 bytes. */
    public String signature(String message) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] digest = mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "LinkSigner[HmacSHA256]";
    }
}
