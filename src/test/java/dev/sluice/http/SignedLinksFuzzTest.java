package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.http.SignedLinks.Verdict;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.Resolution;
import dev.sluice.resource.SymlinkPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of seeded mutations of genuine signed links: a link verifies only when it still means exactly the
 * genuine link (same decoded canonical path, expiry, signature, prefix and address, as an independent decoder here
 * reads them), an expiry is reported only for a genuine link, and nothing throws. The mutations known to keep the
 * meaning (re-encoding unreserved characters, doubled slashes, reordered or unrelated parameters) must verify.
 */
class SignedLinksFuzzTest {

    private static final long SEED = 0x5167_2026L;
    private static final int LINKS = 20_000;
    private static final byte[] KEY = "fuzz-signing-key-with-32-bytes!!".getBytes(StandardCharsets.US_ASCII);
    private static final long NOW = 1_760_000_000L;
    private static final String CLIENT = "127.0.0.1";
    private static final String[] SEGMENTS = {"a", "b", "dir", "sub", "file.iso", "my file.txt", "r\u00e9sum\u00e9",
        "a+b", "x&y=z", "q?r", "100%", "~t", "_-.", "\u65e5\u672c", "\ud83d\ude00", "A", ".hidden", "x.", "CON",
        "semi;colon", "tab"};
    private static final String SIG_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=%.~ ";
    private static final String NOISE = "/.%;\\?&=#+ aA0\u00e9\u0000\n";

    private final SignedLinks links = SignedLinks.of(KEY, null);

    /** A link as parts, so that mutations can aim at one part; {@code query} keeps the raw pairs in order. */
    private static final class Link {
        String rawPath;
        final List<String[]> query = new ArrayList<>();

        String text() {
            StringBuilder text = new StringBuilder(rawPath).append('?');
            for (int i = 0; i < query.size(); i++) {
                text.append(i == 0 ? "" : "&").append(query.get(i)[0]);
                if (query.get(i)[1] != null) {
                    text.append('=').append(query.get(i)[1]);
                }
            }
            return text.toString();
        }
    }

    /** What a link means, read by this test's own decoder; null fields for absent parameters. */
    private record Meaning(String path, String expires, String sig, String prefix, String ip) {
    }

    @Test
    void mutatedLinksNeverVerifyUnlessTheyMeanTheGenuineLink() {
        Random random = new Random(SEED);
        Map<String, Integer> outcomes = new TreeMap<>();
        int preservedValid = 0;
        SignedLinks other = SignedLinks.of("another-key-of-at-least-16-bytes".getBytes(StandardCharsets.US_ASCII),
                null);
        for (int n = 0; n < LINKS; n++) {
            String path = randomPath(random);
            String prefix = random.nextInt(4) == 0 ? parentOf(path) : null;
            String ip = random.nextInt(5) == 0 ? (random.nextBoolean() ? CLIENT : "::ffff:127.0.0.1") : null;
            long expires = NOW + 1 + random.nextInt(100_000);
            String genuineText = links.signer().sign(path, expires, prefix, ip);
            Meaning genuine = meaning(genuineText);
            Link link = parse(genuineText);
            boolean preserving = true;
            int mutations = 1 + random.nextInt(3);
            StringBuilder applied = new StringBuilder();
            for (int m = 0; m < mutations; m++) {
                int kind = random.nextInt(24);
                applied.append(kind).append(' ');
                preserving &= mutate(link, kind, random);
            }
            String text = link.text();
            Verdict verdict = verifyText(text, NOW);
            Verdict late = verifyText(text, expires + 1 + random.nextInt(1000));
            outcomes.merge(verdict.getClass().getSimpleName(), 1, Integer::sum);
            Meaning meant = meaning(text);
            boolean same = sameLink(genuine, meant);
            String context = "link " + text + " from " + genuineText + " by mutations " + applied;
            if (verdict instanceof Verdict.Valid valid) {
                assertTrue(same, "verified although it means " + meant + ": " + context);
                assertEquals(meant.path(), valid.path(), context);
            }
            if (late instanceof Verdict.Expired || verdict instanceof Verdict.Expired) {
                assertTrue(same, "told 'expired' although not genuine: " + context);
            }
            if (preserving) {
                assertEquals(new Verdict.Valid(canonical(path)), verdict, "a re-encoding must verify: " + context);
                assertEquals(new Verdict.Expired(expires), late, context);
                preservedValid++;
            } else if (!same) {
                assertInstanceOf(Verdict.Forbidden.class, verdict, context);
                assertInstanceOf(Verdict.Forbidden.class, late, context);
            }
            int q = text.indexOf('?');
            assertInstanceOf(Verdict.Forbidden.class, other.verify(text.substring(0, q), text.substring(q + 1),
                    CLIENT, NOW), "another key: " + context);
        }
        System.out.println("SignedLinksFuzzTest: " + LINKS + " mutated links, verdicts " + outcomes
                + ", of which meaning-preserving and verified " + preservedValid);
        assertTrue(outcomes.getOrDefault("Forbidden", 0) > LINKS / 2, outcomes.toString());
        assertTrue(preservedValid > LINKS / 20, "too few meaning-preserving mutations: " + preservedValid);
    }

    /** Garbage around and in place of every part never throws and never verifies. */
    @Test
    void randomGarbageNeverVerifiesAndNeverThrows() {
        Random random = new Random(SEED + 1);
        for (int n = 0; n < 20_000; n++) {
            String path = noise(random, random.nextInt(30));
            String query = random.nextInt(10) == 0 ? null : noise(random, random.nextInt(120));
            if (random.nextBoolean() && query != null) {
                query = "expires=" + (NOW + random.nextInt(1000)) + "&sig=" + noise(random, 43) + "&" + query;
            }
            Verdict verdict = links.verify(path, query, random.nextBoolean() ? CLIENT : noise(random, 8), NOW);
            assertInstanceOf(Verdict.Forbidden.class, verdict, path + " ? " + query);
        }
    }

    /**
     * The path a signature is checked against is the path the file resolver serves: for raw paths assembled from
     * traversal and encoding tricks, whenever the resolver finds a file or directory its decoded path is the
     * canonical path that was verified, and whenever it calls the path malformed nothing can be verified.
     */
    @Test
    void theVerifiedPathIsAlwaysThePathTheResolverServes(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("dir/sub"));
        Files.createDirectories(root.resolve("r\u00e9sum\u00e9"));
        for (String file : new String[] {"a", "b", "dir/a", "dir/sub/file.iso", "my file.txt", "a+b",
            "r\u00e9sum\u00e9/x&y=z", "dir/100%"}) {
            Files.writeString(root.resolve(file), file);
        }
        FileResolver resolver = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, false);
        String[] pieces = {"/", "//", "a", "b", "dir", "sub", "file.iso", "my%20file.txt", "my file.txt", "a+b",
            "r%C3%A9sum%C3%A9", "r\u00e9sum\u00e9", "x%26y%3Dz", "100%25", ".", "..", "%2e", "%2E%2e", "%2f", "%5C",
            "\\", ";", "%3B", "%00", "%0a", "%C0%AE", "%ff", "%", "%2", "%61", "%41", "A", "%64ir", "~", "%7E"};
        Random random = new Random(SEED + 2);
        int found = 0;
        for (int n = 0; n < 20_000; n++) {
            StringBuilder raw = new StringBuilder(random.nextBoolean() ? "/" : "");
            for (int i = random.nextInt(7); i >= 0; i--) {
                raw.append(pieces[random.nextInt(pieces.length)]);
                if (random.nextInt(3) > 0) {
                    raw.append('/');
                }
            }
            Resolution resolution = resolver.resolve(raw.toString());
            var canonical = SignedLinks.canonicalPath(raw.toString());
            String served = resolution instanceof Resolution.Found f ? f.decodedPath()
                    : resolution instanceof Resolution.Directory d ? d.decodedPath() : null;
            if (served != null) {
                found++;
                assertEquals(served, canonical.orElse(null), raw + " is served as " + served);
            }
            if (resolution instanceof Resolution.BadRequest) {
                assertTrue(canonical.isEmpty(), raw + " is malformed for the resolver, verified as " + canonical);
            }
        }
        System.out.println("SignedLinksFuzzTest: 20000 raw paths, " + found + " served by the resolver");
        assertTrue(found > 200, "too few raw paths found a file: " + found);
    }

    private Verdict verifyText(String text, long now) {
        int q = text.indexOf('?');
        return links.verify(text.substring(0, q), text.substring(q + 1), CLIENT, now);
    }

    private static String randomPath(Random random) {
        StringBuilder path = new StringBuilder();
        for (int i = random.nextInt(4); i >= 0; i--) {
            path.append('/').append(SEGMENTS[random.nextInt(SEGMENTS.length)]);
        }
        return path.toString();
    }

    private static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash == 0 ? "/" : path.substring(0, slash);
    }

    private static String canonical(String decoded) {
        return SignedLinks.canonical(decoded);
    }

    private static String noise(Random random, int length) {
        StringBuilder noise = new StringBuilder();
        for (int i = 0; i < length; i++) {
            noise.append(random.nextInt(4) == 0 ? NOISE.charAt(random.nextInt(NOISE.length()))
                    : SIG_CHARS.charAt(random.nextInt(SIG_CHARS.length())));
        }
        return noise.toString();
    }

    private static Link parse(String text) {
        Link link = new Link();
        int q = text.indexOf('?');
        link.rawPath = text.substring(0, q);
        for (String pair : text.substring(q + 1).split("&")) {
            int eq = pair.indexOf('=');
            link.query.add(eq < 0 ? new String[] {pair, null} : new String[] {pair.substring(0, eq),
                pair.substring(eq + 1)});
        }
        return link;
    }

    private static int find(Link link, String name) {
        for (int i = 0; i < link.query.size(); i++) {
            if (link.query.get(i)[0].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** Applies mutation {@code kind}; true if it keeps the link's meaning (it must still verify). */
    private static boolean mutate(Link link, int kind, Random random) {
        if (link.query.isEmpty() && kind >= 8 && kind <= 10) {
            return true; // nothing to duplicate, drop or rename
        }
        int sig = find(link, "sig");
        int expires = find(link, "expires");
        switch (kind) {
            case 0 -> { // flip one character of the signature
                if (sig < 0 || link.query.get(sig)[1] == null || link.query.get(sig)[1].isEmpty()) {
                    return true;
                }
                String value = link.query.get(sig)[1];
                int at = random.nextInt(value.length());
                char other;
                do {
                    other = SIG_CHARS.charAt(random.nextInt(SIG_CHARS.length()));
                } while (other == value.charAt(at));
                link.query.get(sig)[1] = value.substring(0, at) + other + value.substring(at + 1);
                return false;
            }
            case 1 -> { // truncate or extend the signature
                if (sig < 0 || link.query.get(sig)[1] == null) {
                    return true;
                }
                String value = link.query.get(sig)[1];
                link.query.get(sig)[1] = random.nextBoolean() && !value.isEmpty()
                        ? value.substring(0, random.nextInt(value.length()))
                        : value + (random.nextBoolean() ? "=" : String.valueOf(SIG_CHARS.charAt(random.nextInt(64))));
                return false;
            }
            case 2 -> { // another expiry, in every form
                if (expires < 0) {
                    return true;
                }
                String value = link.query.get(expires)[1];
                long e = value == null ? NOW : parseOr(value, NOW);
                String[] forms = {Long.toString(e + 1), Long.toString(e - 1), Long.toString(e + 86_400), "0" + value,
                    "-" + value, "+" + value, value + "0", "", "abc", "1e10", "99999999999999999999",
                    "9223372036854775808", "1000000000000", Long.toString(NOW - 10), value + " ", "%3" + value,
                    value + ".0", "0x" + Long.toHexString(e)};
                link.query.get(expires)[1] = forms[random.nextInt(forms.length)];
                return false;
            }
            case 3, 4 -> { // percent-encode an unreserved character of the path (either hex case)
                String raw = link.rawPath;
                List<Integer> candidates = new ArrayList<>();
                for (int i = 0; i < raw.length(); i++) {
                    char c = raw.charAt(i);
                    if (c == '%') {
                        i += 2; // not inside an escape
                    } else if (Character.isLetterOrDigit(c) && c < 0x80 || c == '-' || c == '_' || c == '.'
                            || c == '~') {
                        candidates.add(i);
                    }
                }
                if (candidates.isEmpty()) {
                    return true;
                }
                int at = candidates.get(random.nextInt(candidates.size()));
                String hex = String.format("%02X", (int) raw.charAt(at));
                link.rawPath = raw.substring(0, at) + "%" + (random.nextBoolean() ? hex : hex.toLowerCase())
                        + raw.substring(at + 1);
                return true;
            }
            case 5 -> { // double a slash, or add one at the end
                String raw = link.rawPath;
                int at = raw.indexOf('/', random.nextInt(raw.length() + 1));
                link.rawPath = at < 0 ? raw + "/" : raw.substring(0, at) + "/" + raw.substring(at);
                return true;
            }
            case 6 -> { // reorder the parameters, or add an unrelated one
                if (random.nextBoolean()) {
                    java.util.Collections.shuffle(link.query, random);
                } else {
                    link.query.add(random.nextInt(link.query.size() + 1),
                            random.nextBoolean() ? new String[] {"download", null} : new String[] {"x", "1"});
                }
                return true;
            }
            case 7 -> { // a dot segment, in some encoding
                String[] dots = {"/..", "/.", "/%2e%2e", "/%2E.", "/.%2e", "/%2e", "/x/..", "/x/%2E%2E", "/../x"};
                String raw = link.rawPath;
                int at = raw.indexOf('/', random.nextInt(raw.length() + 1));
                String dot = dots[random.nextInt(dots.length)];
                link.rawPath = at < 0 ? raw + dot : raw.substring(0, at) + dot + raw.substring(at);
                return false;
            }
            case 8 -> { // duplicate a parameter, same or other value
                String[] pair = link.query.get(random.nextInt(link.query.size()));
                link.query.add(random.nextInt(link.query.size() + 1), new String[] {pair[0],
                    random.nextBoolean() ? pair[1] : pair[1] + "1"});
                return false;
            }
            case 9 -> { // drop a parameter
                link.query.remove(random.nextInt(link.query.size()));
                return false;
            }
            case 10 -> { // change a parameter name's case
                String[] pair = link.query.get(random.nextInt(link.query.size()));
                pair[0] = pair[0].toUpperCase();
                return false;
            }
            case 11 -> { // add, change or drop the prefix
                int prefix = find(link, "prefix");
                String[] prefixes = {"/", "/a", "/dir", "/dir/sub", "/b", "", "/%2e%2e", "/dir/..", "%2F"};
                if (prefix < 0) {
                    link.query.add(new String[] {"prefix", prefixes[random.nextInt(prefixes.length)]});
                } else if (random.nextBoolean()) {
                    link.query.remove(prefix);
                } else {
                    link.query.get(prefix)[1] = prefixes[random.nextInt(prefixes.length)];
                }
                return false;
            }
            case 12 -> { // add, change or drop the address
                int ip = find(link, "ip");
                String[] ips = {"127.0.0.1", "127.0.0.2", "::1", "%3A%3Affff%3A127.0.0.1", "localhost", "", "0"};
                if (ip < 0) {
                    link.query.add(new String[] {"ip", ips[random.nextInt(ips.length)]});
                } else if (random.nextBoolean()) {
                    link.query.remove(ip);
                } else {
                    link.query.get(ip)[1] = ips[random.nextInt(ips.length)];
                }
                return false;
            }
            case 13 -> { // point the path elsewhere
                String[] others = {"/b", "/dir/b", "/", "/a/b", "/dir", ""};
                link.rawPath = random.nextBoolean() ? others[random.nextInt(others.length)]
                        : link.rawPath + others[random.nextInt(others.length)].replace("/", "x");
                return false;
            }
            case 14 -> { // a separator or parameter trick in the path
                String[] tricks = {"%2F", "%2f", "%5C", "\\", ";", ";x=1", "%00", "%0A", "%C0%AE", "%ff", "%", "%G1"};
                String raw = link.rawPath;
                int at = Math.min(raw.length(), 1 + random.nextInt(raw.length() + 1));
                link.rawPath = raw.substring(0, at) + tricks[random.nextInt(tricks.length)] + raw.substring(at);
                return false;
            }
            case 15 -> { // percent-encode a character of the signature or the expiry (they are taken literally)
                int i = random.nextBoolean() ? sig : expires;
                if (i < 0 || link.query.get(i)[1] == null || link.query.get(i)[1].isEmpty()) {
                    return true;
                }
                String value = link.query.get(i)[1];
                int at = random.nextInt(value.length());
                link.query.get(i)[1] = value.substring(0, at) + "%" + String.format("%02X", (int) value.charAt(at))
                        + value.substring(at + 1);
                return false;
            }
            case 16 -> { // a space encoded as '+', or a plus as a space
                if (link.rawPath.contains("%20")) {
                    link.rawPath = link.rawPath.replaceFirst("%20", "+");
                } else if (link.rawPath.contains("%2B")) {
                    link.rawPath = link.rawPath.replaceFirst("%2B", "%20");
                } else {
                    link.rawPath = link.rawPath + "+";
                }
                return false;
            }
            case 17 -> { // change the case of a path letter
                String raw = link.rawPath;
                for (int i = 0; i < raw.length(); i++) {
                    char c = raw.charAt(i);
                    if (c >= 'a' && c <= 'z' && (i < 2 || raw.charAt(i - 1) != '%' && raw.charAt(i - 2) != '%')) {
                        link.rawPath = raw.substring(0, i) + Character.toUpperCase(c) + raw.substring(i + 1);
                        return false;
                    }
                }
                link.rawPath = raw + "A";
                return false;
            }
            default -> { // random noise anywhere in the link (the meaning decides)
                String text = link.text();
                int at = random.nextInt(text.length() + 1);
                String mutated = text.substring(0, at) + NOISE.charAt(random.nextInt(NOISE.length()))
                        + text.substring(Math.min(text.length(), at + random.nextInt(2)));
                Link parsed = parse(mutated.contains("?") ? mutated : mutated + "?");
                link.rawPath = parsed.rawPath;
                link.query.clear();
                link.query.addAll(parsed.query);
                return mutated.equals(text);
            }
        }
    }

    /**
     * Whether a link means the genuine one: the same parameters, and the same path or, for a prefix link, a path
     * under the prefix at a slash.
     */
    private static boolean sameLink(Meaning genuine, Meaning meant) {
        if (!Objects.equals(genuine.expires(), meant.expires()) || !Objects.equals(genuine.sig(), meant.sig())
                || !Objects.equals(genuine.prefix(), meant.prefix()) || !Objects.equals(genuine.ip(), meant.ip())
                || meant.path() == null) {
            return false;
        }
        if (genuine.prefix() == null) {
            return genuine.path().equals(meant.path());
        }
        String prefix = genuine.prefix();
        return prefix.equals("/") || meant.path().equals(prefix) || meant.path().startsWith(prefix + "/");
    }

    private static long parseOr(String value, long otherwise) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /** This test's own reading of a link: its decoded, slash-normalized path and parameter values. */
    private static Meaning meaning(String text) {
        int q = text.indexOf('?');
        String path = independentDecode(text.substring(0, q));
        if (path != null) {
            List<String> segments = new ArrayList<>();
            for (String segment : path.split("/")) {
                if (segment.equals(".") || segment.equals("..")) {
                    path = null;
                    break;
                }
                if (!segment.isEmpty()) {
                    segments.add(segment);
                }
            }
            path = path == null ? null : "/" + String.join("/", segments);
        }
        Map<String, List<String>> params = new HashMap<>();
        for (String pair : text.substring(q + 1).split("&")) {
            int eq = pair.indexOf('=');
            params.computeIfAbsent(eq < 0 ? pair : pair.substring(0, eq), k -> new ArrayList<>())
                    .add(eq < 0 ? null : pair.substring(eq + 1));
        }
        return new Meaning(path, single(params, "expires", false), single(params, "sig", false),
                single(params, "prefix", true), single(params, "ip", true));
    }

    private static String single(Map<String, List<String>> params, String name, boolean decoded) {
        List<String> values = params.get(name);
        if (values == null) {
            return null;
        }
        if (values.size() != 1 || values.get(0) == null) {
            return "\u0000invalid";
        }
        return decoded ? Objects.requireNonNullElse(independentDecode(values.get(0)), "\u0000invalid")
                : values.get(0);
    }

    /** Decodes {@code %XX} escapes as UTF-8, leniently; null where they are malformed. */
    private static String independentDecode(String raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%') {
                if (i + 2 >= bytes.length) {
                    return null;
                }
                try {
                    out.write(Integer.parseInt(new String(bytes, i + 1, 2, StandardCharsets.US_ASCII), 16));
                } catch (NumberFormatException e) {
                    return null;
                }
                i += 2;
            } else {
                out.write(bytes[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theIndependentReadingAgreesOnAGenuineLink() {
        String link = links.signer().sign("/dir/my file.txt", NOW + 10, "/dir", "::1");
        Meaning meaning = meaning(link);
        assertEquals("/dir/my file.txt", meaning.path());
        assertEquals("/dir", meaning.prefix());
        assertEquals("::1", meaning.ip());
        if (!(links.verify(link.substring(0, link.indexOf('?')), link.substring(link.indexOf('?') + 1), "::1", NOW)
                instanceof Verdict.Valid)) {
            fail("a genuine link did not verify: " + link);
        }
    }
}
