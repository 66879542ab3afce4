package dev.sluice.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Mints signed links by running, with python3, the very code README.md shows under "Signed links": the tests that
 * use it prove the documented format, not a copy of it.
 */
public final class ReadmePython {

    private ReadmePython() {
    }

    /** The README's Python block that defines {@code sign}. */
    public static String snippet() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("def sign(");
        if (at < 0) {
            throw new AssertionError("README.md has no Python 'def sign('");
        }
        int start = readme.lastIndexOf("```python\n", at);
        int end = readme.indexOf("```", at);
        if (start < 0 || end < 0) {
            throw new AssertionError("README.md's 'def sign(' is not in a ```python block");
        }
        return readme.substring(start + "```python\n".length(), end);
    }

    /** Whether python3 runs here; the tests that need it are skipped otherwise. */
    public static boolean available() {
        try {
            Process process = new ProcessBuilder("python3", "-c", "import hmac, hashlib, base64")
                    .redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Calls the README's {@code sign(key, path, ttl, prefix, ip)}; {@code now} (Unix seconds) replaces
     * {@code time.time()} unless it is null. {@code prefix} and {@code ip} may be empty, as the snippet's defaults.
     */
    public static String sign(byte[] key, String path, long ttl, String prefix, String ip, Long now)
            throws IOException, InterruptedException {
        HexFormat hex = HexFormat.of();
        String script = snippet() + "\nimport sys\n"
                + (now == null ? "" : "time.time = lambda: " + now + "\n")
                + "a = [bytes.fromhex(x) for x in sys.argv[1:]]\n"
                + "print(sign(a[0], a[1].decode(), int(a[2].decode()), a[3].decode(), a[4].decode()))\n";
        List<String> command = List.of("python3", "-c", script, hex.formatHex(key),
                hex.formatHex(path.getBytes(StandardCharsets.UTF_8)),
                hex.formatHex(Long.toString(ttl).getBytes(StandardCharsets.UTF_8)),
                hex.formatHex(prefix.getBytes(StandardCharsets.UTF_8)),
                hex.formatHex(ip.getBytes(StandardCharsets.UTF_8)));
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError("python3 failed: " + err);
        }
        return out.strip();
    }
}
