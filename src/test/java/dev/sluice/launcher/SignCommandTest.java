package dev.sluice.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.LinkSigner;
import dev.sluice.http.SignedLinks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignCommandTest {

    private static final String KEY = "launcher-test-key-0123456789";
    private static final long NOW = 1_700_000_000L;
    private static final LinkSigner SIGNER = LinkSigner.of(KEY.getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    /** Runs the command; {@code [exit status, stdout, stderr]}. */
    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SignCommand.run(args, NOW, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(status), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)};
    }

    private static void assertFails(String expectedMessage, String... args) {
        String[] result = run(args);
        assertEquals("2", result[0], String.join(" ", args));
        assertEquals("", result[1]);
        assertEquals("sluice: " + expectedMessage + System.lineSeparator(), result[2]);
        assertFalse(result[2].contains(KEY), "the key is shown: " + result[2]);
    }

    @Test
    void printsTheSignedPathAndQueryOnOneLine() {
        String[] result = run("--signingKey=" + KEY, "--sign=/dir/my file.iso", "--ttl=1h");
        assertEquals("0", result[0], result[2]);
        assertEquals(SIGNER.sign("/dir/my file.iso", NOW + 3600) + System.lineSeparator(), result[1]);
        assertTrue(result[1].startsWith("/dir/my%20file.iso?expires=1700003600&sig="), result[1]);
        assertEquals("", result[2]);
        assertEquals(SIGNER.sign("/a", 1_800_000_000L) + System.lineSeparator(),
                run("--sign", "/a", "--expires", "1800000000", "--signingKey", KEY)[1]);
        assertEquals(SIGNER.sign("/a", NOW + 1) + System.lineSeparator(),
                run("--signingKey=" + KEY, "--sign=/a", "--ttl=1ms")[1], "a ttl is rounded up to whole seconds");
        assertEquals(SIGNER.sign("/a", NOW + 90) + System.lineSeparator(),
                run("--signingKey=" + KEY, "--sign=/a", "--ttl=90")[1], "a plain number is seconds");
    }

    @Test
    void mintsPrefixAndAddressLinksAndTakesTheKeyFromAFile() throws Exception {
        Path keyFile = Files.writeString(dir.resolve("key"), KEY + "\n");
        String[] result = run("--root", dir.toString(), "--port=9999", "--signingKeyFile=" + keyFile,
                "--sign=/dir/a.txt", "--signPrefix=/dir", "--signIp=127.0.0.1", "--ttl=30m");
        assertEquals("0", result[0], result[2]);
        String link = result[1].strip();
        assertEquals(SIGNER.sign("/dir/a.txt", NOW + 1800, "/dir", "127.0.0.1"), link);
        SignedLinks links = SignedLinks.of(KEY.getBytes(StandardCharsets.UTF_8), null);
        String query = link.substring(link.indexOf('?') + 1);
        assertEquals(new SignedLinks.Verdict.Valid("/dir/b.txt"), links.verify("/dir/b.txt", query, "127.0.0.1",
                NOW));
    }

    @Test
    void refusesWhatCannotMakeALink() throws Exception {
        assertFails("--sign needs either --ttl=DURATION (such as 1h) or --expires=UNIX_SECONDS",
                "--signingKey=" + KEY, "--sign=/a");
        assertFails("--sign needs either --ttl=DURATION (such as 1h) or --expires=UNIX_SECONDS",
                "--signingKey=" + KEY, "--sign=/a", "--ttl=1h", "--expires=1800000000");
        assertFails("--sign needs the key: --signingKey=KEY or --signingKeyFile=FILE", "--sign=/a", "--ttl=1h");
        assertFails("--ttl without --sign=PATH", "--signingKey=" + KEY, "--ttl=1h");
        assertFails("option --ttl has invalid value '0': expected a positive duration such as 90s, 30m or 24h",
                "--signingKey=" + KEY, "--sign=/a", "--ttl=0");
        assertFails("option --ttl has invalid value '1 day': expected a positive duration such as 90s, 30m or 24h",
                "--signingKey=" + KEY, "--sign=/a", "--ttl=1 day");
        assertFails("option --ttl has invalid value '999999999999h': expires after 999999999999 (Unix seconds)",
                "--signingKey=" + KEY, "--sign=/a", "--ttl=999999999999h");
        for (String bad : new String[] {"soon", "-1", "01800000000", "1e9", "99999999999999999999", ""}) {
            assertFails("option --expires has invalid value '" + bad + "': expected a Unix time in seconds, from 1 to"
                    + " 999999999999", "--signingKey=" + KEY, "--sign=/a", "--expires=" + bad);
        }
        assertFails("option --expires has invalid value '1600000000': that time is already past (now 1700000000)",
                "--signingKey=" + KEY, "--sign=/a", "--expires=1600000000");
        assertFails("the path '/a/../b' is not a decoded path starting with '/' without '.' or '..' segments,"
                + " backslashes or control characters", "--signingKey=" + KEY, "--sign=/a/../b", "--ttl=1h");
        assertFails("path '/etc/x' is not under the prefix '/dir'", "--signingKey=" + KEY, "--sign=/etc/x",
                "--signPrefix=/dir", "--ttl=1h");
        assertFails("'example.com' is not an IP address", "--signingKey=" + KEY, "--sign=/a",
                "--signIp=example.com", "--ttl=1h");
        assertFails("Sluice setting 'signingKey' is too short (5 bytes; the value is not shown): a signing key needs"
                + " at least 16 bytes", "--signingKey=short", "--sign=/a", "--ttl=1h");
        assertFails("unknown option --bogus", "--signingKey=" + KEY, "--sign=/a", "--ttl=1h", "--bogus=1");
        assertFails("unknown option --ttl1; did you mean --ttl?", "--signingKey=" + KEY, "--sign=/a", "--ttl1=1h");
        assertFails("option --sign is given twice", "--signingKey=" + KEY, "--sign=/a", "--sign=/b", "--ttl=1h");
        assertFails("option --ttl needs a value", "--signingKey=" + KEY, "--sign=/a", "--ttl");
    }

    @Test
    void onlyTheSignOptionsTurnTheLauncherIntoAMinter() {
        assertTrue(SignCommand.requested(new String[] {"--root", "/srv", "--sign=/a"}));
        assertTrue(SignCommand.requested(new String[] {"--sign", "/a"}));
        assertTrue(SignCommand.requested(new String[] {"--ttl=1h"}));
        assertFalse(SignCommand.requested(new String[] {"--signingKey=" + KEY, "--root", "/srv"}));
        assertFalse(SignCommand.requested(new String[] {"--signingKeyFile", "/k", "--stopTimeout=5s"}));
        assertFalse(SignCommand.requested(new String[0]));
    }
}
