package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two files scripts and people rely on: target/sluice.war and target/sluice-launcher.jar. */
class PackagingIT {

    private static final Path WAR = Path.of("target", "sluice.war");
    private static final Path LAUNCHER = Path.of("target", "sluice-launcher.jar");

    @TempDir
    Path root;

    @Test
    void theWarHoldsSluiceAndCommonsIoButNoContainer() throws IOException {
        try (JarFile war = new JarFile(WAR.toFile())) {
            List<String> names = war.stream().map(e -> e.getName()).toList();
            assertTrue(names.contains("WEB-INF/web.xml"));
            assertTrue(names.contains("WEB-INF/classes/dev/sluice/servlet/SluiceServlet.class"));
            assertTrue(names.stream().anyMatch(n -> n.matches("WEB-INF/lib/commons-io-.*\\.jar")));
            List<String> libs = names.stream().filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar")).toList();
            assertEquals(1, libs.size(), "only Commons IO belongs in WEB-INF/lib: " + libs);
            assertFalse(names.stream().anyMatch(n -> n.contains("launcher")), "the launcher is not for the WAR");
            String webXml = new String(war.getInputStream(war.getEntry("WEB-INF/web.xml")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertTrue(webXml.contains("<async-supported>true</async-supported>"));
        }
    }

    @Test
    void theLauncherJarServesADirectoryAndStopsOnSigterm() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello from the jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-jar", LAUNCHER.toString(), "--root", root.toString(),
                "--port", "0").redirectErrorStream(true).start();
        try {
            URI url = awaitUrl(process);
            TestClient.Response response = TestClient.get(url, "/hello.txt");
            assertEquals(200, response.status());
            assertEquals("hello from the jar", response.text());
        } finally {
            process.destroy(); // SIGTERM, as Ctrl-C
        }
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not stop on SIGTERM");
    }

    @Test
    void theLauncherJarRefusesABadSettingWithAClearMessage() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-jar", LAUNCHER.toString(), "--root", root.toString(),
                "--readAhead=lots").redirectErrorStream(true).start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, process.exitValue(), output);
        assertTrue(output.contains("'readAhead'") && output.contains("'lots'"), output);
        assertFalse(output.contains("\tat "), "a stack trace instead of a message: " + output);
    }

    private static URI awaitUrl(Process process) throws IOException {
        Pattern url = Pattern.compile("(http://\\S+/)");
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            Matcher m = url.matcher(line);
            if (line.startsWith("Sluice serving") && m.find()) {
                Thread reader = new Thread(() -> drain(lines), "launcher-output");
                reader.setDaemon(true);
                reader.start();
                return URI.create(m.group(1));
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        throw new AssertionError("the launcher never printed its URL");
    }

    private static void drain(BufferedReader lines) {
        try {
            while (lines.readLine() != null) {
                // keep the pipe empty so the launcher never blocks on its output
            }
        } catch (IOException e) {
            // the process ended
        }
    }
}
