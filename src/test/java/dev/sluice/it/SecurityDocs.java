package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The snippets docs/security.md shows, taken from the page itself, so that the tests on the real distributions run
 * exactly what users are told to write; and what those tests check once it is in place. Each snippet is the fenced
 * block whose first line is a given comment.
 */
final class SecurityDocs {

    static final Path PAGE = Path.of("docs", "security.md");
    /** The user of the snippets, with the role; the password is the page's. */
    static final Map<String, String> ALICE = basic("alice", "change-me");
    /** A user the tests add beside the page's: known to the container, without the role. */
    static final Map<String, String> CAROL = basic("carol", "carol-secret");

    private SecurityDocs() {
    }

    /** The BASIC {@code <security-constraint>}, {@code <login-config>} and {@code <security-role>}. */
    static String webXmlElements() {
        return block("<!-- Protected paths (BASIC): in WEB-INF/web.xml, after the <servlet-mapping> -->");
    }

    /** A web.xml with the page's elements added before its end. */
    static String withElements(String webXml) {
        assertTrue(webXml.contains("</web-app>"), webXml);
        return webXml.replace("</web-app>", indent(webXmlElements(), "  ") + "</web-app>");
    }

    /** conf/tomcat-users.xml as the page shows it, with {@link #CAROL} added. */
    static String tomcatUsers() {
        String users = block("<!-- $CATALINA_BASE/conf/tomcat-users.xml -->");
        assertTrue(users.contains("</tomcat-users>"), users);
        return users.replace("</tomcat-users>",
                "  <user username=\"carol\" password=\"carol-secret\" roles=\"visitor\"/>\n</tomcat-users>");
    }

    /** etc/sluice-realm.properties as the page shows it, with {@link #CAROL} added. */
    static String jettyRealm() {
        return block("# $JETTY_BASE/etc/sluice-realm.properties") + "carol: carol-secret,visitor\n";
    }

    /** etc/sluice-security.xml: the page's override descriptor with the elements in it. */
    static String jettyOverrideDescriptor() {
        String descriptor = block("<!-- $JETTY_BASE/etc/sluice-security.xml -->");
        String placeholder = "  <!-- the <security-constraint>, <login-config> and <security-role> elements -->\n";
        assertTrue(descriptor.contains(placeholder), descriptor);
        return descriptor.replace(placeholder, indent(webXmlElements(), "  "));
    }

    /** Jetty's context file webapps/sluice.xml with the page's lines added before its end. */
    static String withJettyLogin(String contextXml) {
        assertTrue(contextXml.contains("</Configure>"), contextXml);
        return contextXml.replace("</Configure>",
                indent(block("<!-- In $JETTY_BASE/webapps/sluice.xml, before </Configure> -->"), "  ")
                        + "</Configure>");
    }

    /**
     * What the page promises under {@code prefix} (the context path) once its BASIC setup is in place: the files
     * under {@code <root>/private/} (where {@code big} must be, as {@code big.bin}) ask for a login, refuse a wrong
     * password and a user without the role, and are the files byte-exact, ranges and HEAD included, for a user with
     * it; {@code publicPath} is answered with {@code publicText} without a login.
     */
    static void assertBasicLogin(URI url, String prefix, byte[] big, String publicPath, String publicText,
            Supplier<String> log) throws IOException {
        String path = prefix + "/private/big.bin";
        TestClient.Response anonymous = TestClient.get(url, path);
        assertEquals(401, anonymous.status(), log);
        String challenge = anonymous.header("WWW-Authenticate");
        assertTrue(challenge != null && challenge.startsWith("Basic") && challenge.contains("realm=\"Sluice\""),
                "challenge: " + challenge);
        assertEquals(401, TestClient.exchange(url, "GET", path, basic("alice", "wrong")).status());
        assertEquals(403, TestClient.exchange(url, "GET", path, CAROL).status());

        TestClient.Response whole = TestClient.exchange(url, "GET", path, ALICE);
        assertEquals(200, whole.status(), log);
        assertEquals(TestClient.sha256(big), TestClient.sha256(whole.body()));
        Map<String, String> range = new HashMap<>(ALICE);
        range.put("Range", "bytes=1000000-1999999");
        TestClient.Response part = TestClient.exchange(url, "GET", path, range);
        assertEquals(206, part.status());
        assertEquals("bytes 1000000-1999999/" + big.length, part.header("Content-Range"));
        assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 2_000_000), part.body());
        TestClient.Response head = TestClient.exchange(url, "HEAD", path, ALICE);
        assertEquals(200, head.status());
        assertEquals(big.length, head.head().contentLength());

        TestClient.Response open = TestClient.get(url, prefix + publicPath);
        assertEquals(200, open.status());
        assertEquals(publicText, open.text());
    }

    static Map<String, String> basic(String user, String password) {
        return Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }

    /** Unpacks {@code war} into {@code dir}, as {@code jar -xf} does. */
    static void unpack(Path war, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (InputStream in = Files.newInputStream(war); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                Path target = dir.resolve(entry.getName()).normalize();
                assertTrue(target.startsWith(dir), entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target);
                }
            }
        }
    }

    /** The fenced block of the page whose first line is {@code firstLine}, that line included. */
    static String block(String firstLine) {
        List<String> found = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(PAGE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("```") && lines.get(i + 1).equals(firstLine)) {
                StringBuilder text = new StringBuilder();
                for (int j = i + 1; j < lines.size() && !lines.get(j).startsWith("```"); j++) {
                    text.append(lines.get(j)).append('\n');
                }
                found.add(text.toString());
            }
        }
        assertEquals(1, found.size(), PAGE + " must have exactly one block starting with " + firstLine);
        return found.get(0);
    }

    private static String indent(String text, String indent) {
        return text.lines().map(line -> line.isEmpty() ? "\n" : indent + line + "\n")
                .reduce("", String::concat);
    }
}
