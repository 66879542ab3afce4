package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.LinkSigner;
import dev.sluice.http.SignedLinks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signing-key settings: where a key comes from, what is refused at start-up, and that no message shows it. */
class SigningKeyConfigTest {

    private static final String KEY = "a-secret-signing-key-of-32-bytes";
    private static final String OLD = "the-previous-secret-signing-key!";
    private static final long EXPIRES = 4_000_000_000L;
    private static final long NOW = 1_700_000_000L;

    @TempDir
    Path root;

    /** Where the key files go: outside the served root, and removed after each test like the root. */
    @TempDir
    Path keys;

    private SluiceConfig config(String... pairs) {
        Map<String, String> values = new HashMap<>();
        values.put("root", root.toString());
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return SluiceConfig.from(values);
    }

    private String error(String... pairs) {
        String message = assertThrows(ConfigException.class, () -> config(pairs)).getMessage();
        assertFalse(message.contains(KEY) || message.contains(OLD) || message.contains("short-key"),
                "a message shows a key: " + message);
        return message;
    }

    private static boolean verifies(SignedLinks links, byte[] key) {
        String link = LinkSigner.of(key).sign("/f", EXPIRES);
        return links.verify("/f", link.substring(link.indexOf('?') + 1), "127.0.0.1", NOW)
                instanceof SignedLinks.Verdict.Valid;
    }

    private Path file(String name, byte[] content) throws Exception {
        return Files.write(keys.resolve(name), content);
    }

    @Test
    void withNoKeyNothingIsSigned() {
        assertNull(config().signedLinks());
        assertNull(config("signingKey", "", "signingKeyFile", " ").signedLinks(), "empty means the default: off");
    }

    @Test
    void anInlineKeyIsItsUtf8Bytes() {
        SignedLinks links = config("signingKey", KEY).signedLinks();
        assertTrue(verifies(links, KEY.getBytes(StandardCharsets.UTF_8)));
        assertFalse(verifies(links, OLD.getBytes(StandardCharsets.UTF_8)));
        assertFalse(links.rotating());
        assertFalse(config("signingKey", KEY).toString().contains(KEY));
        assertTrue(verifies(config("signingKey", "cl\u00e9-secr\u00e8te-de-16-octets").signedLinks(),
                "cl\u00e9-secr\u00e8te-de-16-octets".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aKeyFileIsItsBytesWithTrailingNewlinesTrimmed() throws Exception {
        for (String ending : new String[] {"", "\n", "\r\n", "\n\n"}) {
            Path file = file("key" + ending.length(), (KEY + ending).getBytes(StandardCharsets.UTF_8));
            assertTrue(verifies(config("signingKeyFile", file.toString()).signedLinks(),
                    KEY.getBytes(StandardCharsets.UTF_8)), ending.replace("\n", "\\n").replace("\r", "\\r"));
        }
        byte[] binary = new byte[32];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (0x80 + i * 3);
        }
        assertTrue(verifies(config("signingKeyFile", file("binary", binary).toString()).signedLinks(), binary));
        Path spaced = file("spaced", (" " + KEY + " ").getBytes(StandardCharsets.UTF_8));
        assertTrue(verifies(config("signingKeyFile", spaced.toString()).signedLinks(),
                (" " + KEY + " ").getBytes(StandardCharsets.UTF_8)), "only newlines are trimmed");
    }

    @Test
    void thePreviousKeyVerifiesBesideTheCurrentOne() throws Exception {
        Path old = file("old", (OLD + "\n").getBytes(StandardCharsets.UTF_8));
        for (SluiceConfig config : new SluiceConfig[] {config("signingKey", KEY, "signingKeyPrevious", OLD),
            config("signingKey", KEY, "signingKeyPreviousFile", old.toString())}) {
            SignedLinks links = config.signedLinks();
            assertTrue(links.rotating());
            assertTrue(verifies(links, KEY.getBytes(StandardCharsets.UTF_8)));
            assertTrue(verifies(links, OLD.getBytes(StandardCharsets.UTF_8)));
            assertEquals(LinkSigner.of(KEY.getBytes(StandardCharsets.UTF_8)).sign("/f", EXPIRES),
                    links.signer().sign("/f", EXPIRES), "minted with the current key");
        }
    }

    @Test
    void bothFormsOfOneKeyStopStartUpNamingBoth() throws Exception {
        Path file = file("key", KEY.getBytes(StandardCharsets.UTF_8));
        assertEquals("Sluice settings 'signingKey' and 'signingKeyFile' are both set: set one of them",
                error("signingKey", KEY, "signingKeyFile", file.toString()));
        assertEquals("Sluice settings 'signingKeyPrevious' and 'signingKeyPreviousFile' are both set: set one of them",
                error("signingKey", KEY, "signingKeyPrevious", OLD, "signingKeyPreviousFile", file.toString()));
    }

    @Test
    void shortEmptyMissingOrHugeKeysStopStartUp() throws Exception {
        assertEquals("Sluice setting 'signingKey' is too short (9 bytes; the value is not shown): a signing key"
                + " needs at least 16 bytes", error("signingKey", "short-key"));
        assertTrue(error("signingKey", KEY, "signingKeyPrevious", "short-key").startsWith(
                "Sluice setting 'signingKeyPrevious' is too short (9 bytes;"));
        Path empty = file("empty", "\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("Sluice setting 'signingKeyFile' has invalid value '" + empty + "': holds 0 bytes (trailing"
                + " newline trimmed): a signing key needs at least 16 bytes", error("signingKeyFile", empty.toString()));
        Path small = file("small", "short-key\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(error("signingKeyFile", small.toString()).endsWith("holds 9 bytes (trailing newline trimmed): a"
                + " signing key needs at least 16 bytes"));
        assertTrue(error("signingKeyFile", root.resolve("missing").toString()).endsWith("': not an existing file"));
        assertTrue(error("signingKeyFile", root.toString()).endsWith("': not an existing file"), "a directory");
        Path huge = file("huge", new byte[SluiceConfig.MAX_KEY_FILE_BYTES + 1]);
        assertTrue(error("signingKeyFile", huge.toString()).contains("larger than 65536 bytes"));
        assertTrue(error("signingKeyFile", "bad\u0000path").contains("'signingKeyFile'"));
    }

    @Test
    void aPreviousKeyAloneStopsStartUp() {
        assertEquals("Sluice setting 'signingKeyPrevious' is set without 'signingKey' or 'signingKeyFile': the"
                + " previous key only verifies links beside a current one", error("signingKeyPrevious", OLD));
    }

    @Test
    void theLookupTheLauncherUsesNeedsNoRoot() {
        assertTrue(SluiceConfig.signedLinks(Map.of("signingKey", KEY)::get).isPresent());
        assertTrue(SluiceConfig.signedLinks(Map.<String, String>of()::get).isEmpty());
        assertInstanceOf(SignedLinks.class, SluiceConfig.signedLinks(Map.of("signingKey", KEY)::get).get());
    }
}
