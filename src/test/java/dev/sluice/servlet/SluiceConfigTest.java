package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.BufferKind;
import dev.sluice.stream.EngineSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SluiceConfigTest {

    @TempDir
    Path root;

    /** Reads the settings on a JVM with no limit on buffers: the defaults do not depend on the test JVM's heap. */
    private SluiceConfig config(String... pairs) {
        return onAJvm(Long.MAX_VALUE, Long.MAX_VALUE, pairs);
    }

    private String error(String... pairs) {
        return assertThrows(ConfigException.class, () -> config(pairs)).getMessage();
    }

    @Test
    void defaultsAreTheDocumentedOnes() throws Exception {
        SluiceConfig config = config();
        assertEquals(root.toRealPath(), config.root());
        EngineSettings engine = config.engine();
        assertEquals(256 * 1024, engine.chunkSize());
        assertEquals(2, engine.readAhead());
        assertEquals(256L << 20, engine.maxBufferMemory());
        assertEquals(8, engine.readThreads());
        assertEquals(64, engine.maxReadThreads());
        EngineSettings many = config("readThreads", "128").engine(); // an unset maximum follows a larger readThreads
        assertEquals(128, many.readThreads());
        assertEquals(128, many.maxReadThreads());
        assertEquals(Duration.ofSeconds(60), engine.stallTimeout());
        assertEquals(BufferKind.MAPPED, engine.bufferKind());
        assertEquals(0, engine.limitRate());
        assertEquals(0, engine.limitRateAfter());
        assertEquals(1024 * 1024, config("limitRate", "1MiB", "limitRateAfter", "4MiB").engine().limitRate());
        assertEquals(0, engine.globalRate());
        assertEquals(0, engine.limitRatePerClient());
        EngineSettings shared = config("globalRate", "100MiB", "limitRatePerClient", "2m").engine();
        assertEquals(100L << 20, shared.globalRate());
        assertEquals(2L << 20, shared.limitRatePerClient());
        assertEquals(0, engine.limitRatePerUser());
        assertEquals(1L << 20, config("limitRatePerUser", "1MiB").engine().limitRatePerUser());
        assertEquals(SymlinkPolicy.INSIDE_ROOT, config.symlinks());
        assertFalse(config.serveHidden());
        assertEquals(EngineSettings.defaults(), engine, "Setting defaults and engine defaults disagree");
        assertTrue(config.sendfile());
        assertTrue(config.unthrottled());
    }

    @Test
    void sendfileIsASwitchAndAnyLimitMakesTransfersThrottled() throws Exception {
        assertFalse(config("sendfile", "false").sendfile());
        assertTrue(config("sendfile", "TRUE").sendfile());
        ConfigException bad = assertThrows(ConfigException.class, () -> config("sendfile", "yes"));
        assertTrue(bad.getMessage().contains("'sendfile'") && bad.getMessage().contains("'yes'"), bad.getMessage());
        assertFalse(config("limitRate", "1MiB").unthrottled());
        assertFalse(config("maxTransfers", "10").unthrottled());
        assertFalse(config("globalRate", "10MiB").unthrottled());
        assertFalse(config("limitRatePerClient", "1MiB").unthrottled());
        assertFalse(config("limitRatePerUser", "1MiB").unthrottled());
        assertTrue(config("limitRateAfter", "1MiB").unthrottled(), "limitRateAfter alone limits nothing");
    }

    @ParameterizedTest
    @CsvSource({"65536, 65536", "64KiB, 65536", "64k, 65536", "64 KB, 65536", "1MiB, 1048576", "1m, 1048576",
        "16MiB, 16777216", "1024, 1024"})
    void sizesTakeBinaryUnits(String value, int bytes) {
        assertEquals(bytes, config("chunkSize", value).engine().chunkSize());
    }

    @ParameterizedTest
    @CsvSource({"500ms, 500", "60s, 60000", "60, 60000", "5m, 300000", "1h, 3600000", "24h, 86400000"})
    void durationsTakeUnits(String value, long millis) {
        assertEquals(millis, config("stallTimeout", value).engine().stallTimeout().toMillis());
    }

    @ParameterizedTest
    @CsvSource({"chunkSize, lots", "chunkSize, 512", "chunkSize, 17MiB", "chunkSize, -1", "chunkSize, 99999999999999999999",
        "readAhead, 0", "readAhead, 65", "readAhead, two", "readThreads, 0", "readThreads, 1.5",
        "maxReadThreads, 0", "maxReadThreads, 1025", "maxReadThreads, 4",
        "stallTimeout, 0", "stallTimeout, soon", "stallTimeout, -5s", "stallTimeout, 25h",
        "stallTimeout, 3000000h", "bufferKind, mmap",
        "followSymlinks, always", "serveHidden, yes", "maxBufferMemory, 1KiB", "maxBufferMemory, much",
        "globalRate, fast", "globalRate, -1", "limitRatePerClient, lots", "limitRatePerClient, -2MiB",
        "limitRatePerUser, lots", "limitRatePerUser, -2MiB"})
    void everyBadValueIsNamedWithItsSetting(String setting, String value) {
        String message = error(setting, value);
        assertTrue(message.contains("'" + setting + "'") && message.contains("'" + value + "'"), message);
    }

    @Test
    void theRootMustBeAnExistingReadableDirectory() throws Exception {
        assertTrue(assertThrows(ConfigException.class, () -> SluiceConfig.from(Map.of())).getMessage()
                .contains("'root' is missing"));
        String missing = root.resolve("nope").toString();
        assertTrue(error("root", missing).contains("'" + missing + "'"));
        Path file = Files.writeString(root.resolve("file.txt"), "x");
        assertTrue(error("root", file.toString()).contains("not an existing directory"));
    }

    @Test
    void responseSettingsHaveTheirDocumentedDefaults() {
        SluiceConfig.Responses responses = config().responses();
        assertTrue(responses.acceptRanges());
        assertEquals(16, responses.maxRanges());
        assertEquals(null, responses.cacheControl());
        assertTrue(responses.attachmentExtensions().isEmpty());
        assertEquals("utf-8", responses.textCharset());
        assertTrue(responses.precompressed().isEmpty());
        assertEquals(java.util.List.of("index.html"), responses.welcomeFiles());
        assertFalse(responses.dirListing());
    }

    @Test
    void responseSettingsAreParsed() {
        SluiceConfig.Responses responses = config("acceptRanges", "false", "maxRanges", "3",
                "cacheControl", "public, max-age=60", "attachmentExtensions", "ZIP, iso", "textCharset", "ISO-8859-1",
                "precompressed", "br,GZIP", "welcomeFiles", "home.htm, index.html", "dirListing", "true").responses();
        assertFalse(responses.acceptRanges());
        assertEquals(3, responses.maxRanges());
        assertEquals("public, max-age=60", responses.cacheControl());
        assertEquals(java.util.Set.of("zip", "iso"), responses.attachmentExtensions());
        assertEquals("iso-8859-1", responses.textCharset());
        assertEquals(java.util.List.of("br", "gzip"), responses.precompressed());
        assertEquals(java.util.List.of("home.htm", "index.html"), responses.welcomeFiles());
        assertTrue(responses.dirListing());
        assertEquals(null, config("textCharset", "none").responses().textCharset());
        assertEquals("utf-8", config("textCharset", "").responses().textCharset());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"maxRanges|0", "maxRanges|1001", "acceptRanges|maybe",
        "attachmentExtensions|.zip", "textCharset|klingon-8", "precompressed|deflate",
        "welcomeFiles|../index.html", "dirListing|on"})
    void badResponseSettingsAreNamed(String setting, String value) {
        String message = error(setting, value);
        assertTrue(message.contains("'" + setting + "'") && message.contains(value), message);
    }

    @Test
    void aHiddenWelcomeFileIsRefusedUnlessHiddenFilesAreServed() {
        String message = error("welcomeFiles", "index.html, .home");
        assertTrue(message.contains("'welcomeFiles' has invalid value 'index.html, .home'")
                && message.contains(".home is a hidden name, never served while serveHidden=false"), message);
        assertEquals(java.util.List.of("index.html", ".home"),
                config("welcomeFiles", "index.html, .home", "serveHidden", "true").responses().welcomeFiles());
    }

    @Test
    void theStatusPathIsOffByDefaultAndTakesAPlainPath() {
        assertEquals(null, config().statusPath());
        assertEquals(null, config("statusPath", "").statusPath());
        assertEquals("/.sluice/status", config("statusPath", " /.sluice/status ").statusPath());
        assertEquals("/status.json", config("statusPath", "/status.json").statusPath());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"statusPath|status", "statusPath|/", "statusPath|/a/", "statusPath|//a",
        "statusPath|/a/../b", "statusPath|/./a", "statusPath|/a?b", "statusPath|/a%2Fb", "statusPath|/a b"})
    void badStatusPathsAreNamed(String setting, String value) {
        String message = error(setting, value);
        assertTrue(message.contains("'" + setting + "' has invalid value '" + value + "'"), message);
    }

    @Test
    void operationsAreOffAndLoopbackOnlyByDefault() {
        SluiceConfig.Operations ops = config().operations();
        assertEquals(null, ops.metricsPath());
        assertFalse(ops.accessLog());
        assertEquals(null, ops.adminRole());
        assertTrue(ops.adminAllow().contains("127.0.0.1") && ops.adminAllow().contains("::1"));
        assertFalse(ops.adminAllow().contains("10.0.0.1"));
        SluiceConfig.Operations set = config("metricsPath", "/.sluice/metrics", "accessLog", "true", "adminAllow",
                " 10.0.0.0/8 , 2001:DB8::/32 ", "adminRole", "ops").operations();
        assertEquals("/.sluice/metrics", set.metricsPath());
        assertTrue(set.accessLog());
        assertEquals("ops", set.adminRole());
        assertTrue(set.adminAllow().contains("10.1.2.3") && set.adminAllow().contains("2001:db8::1"));
        assertFalse(set.adminAllow().contains("127.0.0.1"), "a list replaces the default, it does not add to it");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"adminAllow|localhost", "adminAllow|10.0.0.0/33", "adminAllow|10.0.0.1,nope",
        "metricsPath|metrics", "metricsPath|/a/", "accessLog|yes", "adminRole|two roles"})
    void badOperationsSettingsAreNamed(String setting, String value) {
        String message = error(setting, value);
        assertTrue(message.contains("'" + setting + "' has invalid value"), message);
    }

    @Test
    void theMetricsPathCannotBeTheStatusPath() {
        String message = error("statusPath", "/.sluice/x", "metricsPath", "/.sluice/x");
        assertTrue(message.contains("'metricsPath'") && message.contains("statusPath"), message);
    }

    @Test
    void aCacheControlWithALineBreakCannotInjectHeaders() {
        String message = error("cacheControl", "max-age=1\r\nSet-Cookie: x=1");
        assertTrue(message.contains("'cacheControl'") && message.contains("visible ASCII"), message);
    }

    /** Tomcat drops a header with a character above U+00FF, Jetty sends a raw byte: refused at start-up. */
    @Test
    void aCacheControlBeyondVisibleAsciiIsRefused() {
        for (String value : new String[] {"max-age=1\u00e9", "private, x=\u2028"}) {
            String message = error("cacheControl", value);
            assertTrue(message.contains("'cacheControl'") && message.contains("visible ASCII"), message);
        }
    }

    @Test
    void aMisspeltSettingIsReportedNotIgnored() {
        String message = error("chunksize", "1MiB");
        assertTrue(message.contains("'chunksize'") && message.contains("chunkSize"), message);
    }

    @Test
    void aMisspeltSettingNamesTheClosestOneOrElseListsThemAll() {
        assertEquals("Unknown Sluice setting 'chunksize': did you mean 'chunkSize'?", error("chunksize", "1MiB"));
        assertEquals("Unknown Sluice setting 'colour'; known settings: " + String.join(", ",
                Setting.values().stream().map(Setting::key).toList()), error("colour", "red"));
    }

    @Test
    void theBudgetMustHoldOneChunk() {
        String message = error("chunkSize", "1MiB", "maxBufferMemory", "512KiB");
        assertTrue(message.contains("'maxBufferMemory'") && message.contains("one chunk"), message);
    }

    /** Reads the settings on a JVM that can give direct buffers 32 MiB and heap buffers 96 MiB, or as given. */
    private SluiceConfig onASmallJvm(String... pairs) {
        return onAJvm(32L << 20, 96L << 20, pairs);
    }

    private SluiceConfig onAJvm(long direct, long heap, String... pairs) {
        Map<String, String> values = new HashMap<>();
        values.put("root", root.toString());
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        Map<String, String> given = new HashMap<>();
        values.keySet().forEach(name -> given.put(name, null));
        return SluiceConfig.from(values::get, given, kind -> kind == BufferKind.HEAP
                ? new JvmBufferLimit(heap, "-Xmx") : new JvmBufferLimit(direct, "-XX:MaxDirectMemorySize"));
    }

    @Test
    void aBudgetTheJvmCannotGiveStopsStartUpAndTheDefaultShrinksToHalfOfIt() {
        String message = assertThrows(ConfigException.class,
                () -> onASmallJvm("bufferKind", "direct", "maxBufferMemory", "1GiB")).getMessage();
        assertTrue(message.contains("'maxBufferMemory'") && message.contains("1GiB")
                && message.contains("(32MiB, -XX:MaxDirectMemorySize)"), message);
        message = assertThrows(ConfigException.class,
                () -> onASmallJvm("bufferKind", "heap", "maxBufferMemory", "128MiB")).getMessage();
        assertTrue(message.contains("'maxBufferMemory'") && message.contains("(96MiB, -Xmx)"), message);

        assertEquals(32L << 20, onASmallJvm("maxBufferMemory", "32MiB").engine().maxBufferMemory()); // given: kept
        assertEquals(16L << 20, onASmallJvm().engine().maxBufferMemory()); // mapped: direct buffers for short regions
        assertEquals(48L << 20, onASmallJvm("bufferKind", "heap").engine().maxBufferMemory());
        message = assertThrows(ConfigException.class, () -> onASmallJvm("maxBufferMemory", "33MiB")).getMessage();
        assertTrue(message.contains("bufferKind=mapped (32MiB"), message); // short regions: direct buffers
        message = assertThrows(ConfigException.class,
                () -> onAJvm(8L << 20, 96L << 20, "chunkSize", "16MiB")).getMessage();
        assertTrue(message.contains("'chunkSize'") && message.contains("16MiB"), message); // not one chunk fits
    }

    @Test
    void theJvmsLimitForBuffersIsItsHeapWhenNoDirectLimitIsGiven() {
        // The test JVM is started without -XX:MaxDirectMemorySize (pom.xml's argLine).
        long heap = Runtime.getRuntime().maxMemory();
        assertEquals(heap, JvmBufferLimit.of(false).bytes());
        assertEquals(heap, JvmBufferLimit.of(true).bytes());
        assertTrue(JvmBufferLimit.of(true).source().contains("unset"), JvmBufferLimit.of(true).source());
    }

    @Test
    void everySettingHasADescriptionAndADefaultExceptTheRoot() {
        for (Setting<?> setting : Setting.values()) {
            assertFalse(setting.description().isBlank(), setting.key());
            assertEquals(setting == Setting.ROOT, setting.defaultValue() == null, setting.key());
        }
    }

    @Test
    void theInternalRootIsOffByDefaultAndMustBeADirectoryApartFromTheRoot(@TempDir Path elsewhere) throws Exception {
        assertEquals(null, config().internalRoot(), "hand-offs are off by default");
        assertEquals(elsewhere.toRealPath(), config("internalRoot", elsewhere.toString()).internalRoot());
        String missing = elsewhere.resolve("nope").toString();
        String message = error("internalRoot", missing);
        assertTrue(message.contains("'internalRoot'") && message.contains("not an existing directory"), message);

        message = error("internalRoot", root.toString());
        assertTrue(message.contains("'internalRoot'") && message.contains("'" + root + "'")
                && message.contains("it is root (" + root.toRealPath() + ")"), message);
        Path under = Files.createDirectories(root.resolve("private"));
        message = error("internalRoot", under.toString());
        assertTrue(message.contains("'" + under + "'") && message.contains("it is under root (" + root.toRealPath()
                + ")"), message);
        Path link = Files.createSymbolicLink(elsewhere.resolve("looks-apart"), under);
        message = error("internalRoot", link.toString());
        assertTrue(message.contains("it is under root"), "a symlink does not hide the overlap: " + message);
        Path parent = root.getParent();
        assertEquals(parent.toRealPath(), SluiceConfig.from(Map.of("root", root.toString(), "internalRoot",
                parent.toString())).internalRoot(), "the root under the internal root is allowed: no URL leaves root");
    }
}
