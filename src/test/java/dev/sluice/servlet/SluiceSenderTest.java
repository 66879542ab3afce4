package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.ContentDisposition;
import dev.sluice.http.EntityTag;
import dev.sluice.http.MediaTypes;
import dev.sluice.it.OpenFiles;
import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.TransferEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's checks, which come before anything is written, and what it answers without streaming (HEAD, 304,
 * 404, hand-off refusals), on a {@link FakeExchange}. Streaming itself is HandoffIT's, on real containers.
 */
class SluiceSenderTest {

    @TempDir
    Path dir;

    private final TransferEngine engine = new TransferEngine(EngineSettings.defaults());
    private final FakeExchange exchange = new FakeExchange();

    @AfterEach
    void closeEngine() {
        engine.close();
    }

    private SluiceSender sender() {
        return new SluiceSender(engine);
    }

    private Path file() throws IOException {
        Path file = Files.writeString(dir.resolve("report.csv"), "a,b\n1,2\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_700_000_000_000L));
        return file;
    }

    private void send(Path file, SendOptions options) throws IOException {
        sender().send(exchange.request(), exchange.response(), file, options);
    }

    /** The message of the {@code IllegalStateException} a send of {@code file} throws, leaving the response as it was. */
    private String refusal(Path file) {
        List<String> before = List.copyOf(exchange.calls);
        String message = assertThrows(IllegalStateException.class, () -> send(file, SendOptions.defaults()))
                .getMessage();
        assertEquals(before, exchange.calls, "the refusal touched the response");
        return message;
    }

    @Test
    void nullArgumentsAreNamed() throws IOException {
        Path file = file();
        SluiceSender sender = sender();
        assertEquals("request", assertThrows(NullPointerException.class, () -> sender.send(null,
                exchange.response(), file, SendOptions.defaults())).getMessage());
        assertEquals("response", assertThrows(NullPointerException.class, () -> sender.send(exchange.request(),
                null, file, SendOptions.defaults())).getMessage());
        assertEquals("file", assertThrows(NullPointerException.class, () -> send(null, SendOptions.defaults()))
                .getMessage());
        assertEquals("options", assertThrows(NullPointerException.class, () -> send(file, null)).getMessage());
        assertEquals(List.of(), exchange.calls);
    }

    /** An embedder's defaults are the servlet's: Tomcat's sendfile on, as the README's settings table says. */

    @Test
    void theDefaultsAreTheServletsDefaults() {
        assertEquals(Setting.SENDFILE.defaultValue(),
                Boolean.toString(SluiceSender.Settings.defaults().sendfile()));
        assertFalse(SluiceSender.Settings.defaults().withSendfile(false).sendfile());
    }

    /**
     * Slices of a file's mapping go only to an output stream that writes them to the kernel as they are: Jetty's,
     * on clear text; not a filter's or another container's stream, which may copy them, nor any over TLS. (Jetty's
     * own stream and Tomcat's: {@code ServletApiIT}, {@code DownloadIT}.)
     */
    @Test
    void aStreamNotJettysOrOverTlsIsGivenNoSlicesOfAMapping() throws IOException {
        FakeExchange exchange = new FakeExchange();
        assertFalse(SluiceSender.writesAsGiven(exchange.request(), exchange.response().getOutputStream()),
                "a stream not the container's");
        exchange.secure = true;
        assertFalse(SluiceSender.writesAsGiven(exchange.request(), exchange.response().getOutputStream()), "TLS");
    }

    /**
     * A body ends with its last byte alone on a stream Sluice does not know, which may block in the write that
     * reaches the Content-Length. (Jetty's and Tomcat's own streams: {@code ServletApiIT}.)
     */
    @Test
    void aStreamNotTheContainersEndsWithItsLastByteAlone() throws IOException {
        FakeExchange exchange = new FakeExchange();
        assertFalse(SluiceSender.endsWithoutBlocking(exchange.request(), exchange.response().getOutputStream()));
    }

    @Test
    void anInternalRootThatIsNotThereIsNamedAsSuch() {
        String message = assertThrows(IllegalArgumentException.class, () -> new SluiceSender(engine,
                SluiceSender.Settings.defaults().withInternalRoot(dir.resolve("missing")))).getMessage();
        assertTrue(message.startsWith("internalRoot: "), message);
    }

    @Test
    void aRelativePathIsRefusedBeforeTheResponseIsTouched() {
        String message = assertThrows(IllegalArgumentException.class,
                () -> send(Path.of("report.csv"), SendOptions.defaults())).getMessage();
        assertTrue(message.contains("absolute"), message);
        assertEquals(List.of(), exchange.calls);
    }

    @Test
    void aCommittedResponseIsRefusedWithNothingWritten() throws IOException {
        Path file = file();
        exchange.committed = true;
        String message = refusal(file);
        assertTrue(message.contains("committed"), message);
    }

    @Test
    void aRequestThatCannotGoAsyncIsRefusedNamingTheCauseWithNothingWritten() throws IOException {
        Path file = file();
        exchange.asyncSupported = false;
        exchange.method = "HEAD"; // even where no body would be streamed: the answer must not depend on the method
        String message = refusal(file);
        assertTrue(message.startsWith("request does not support async: a filter or servlet in the chain lacks"
                + " async-supported"), message);
    }

    @Test
    void aResponseWhoseWriterIsInUseIsRefusedWithNothingWritten() throws IOException {
        Path file = file();
        exchange.writerUsed = true;
        String message = refusal(file);
        assertTrue(message.contains("getWriter"), message);
    }

    /**
     * A second call on the request Sluice answers already: refused before it touches the response. Before, it
     * started a second transfer on Tomcat that held its descriptor until the stall timeout, and on Jetty sent
     * the caller's error page followed by the whole file.
     */
    @Test
    void aSecondSendOnTheSameRequestIsRefusedWithNothingMoreWritten() throws IOException {
        Path file = file();
        exchange.method = "HEAD";
        send(file, SendOptions.defaults());
        List<String> afterTheFirst = List.copyOf(exchange.calls);
        String message = refusal(file);
        assertTrue(message.contains("once per request"), message);

        exchange.dispatcherType = jakarta.servlet.DispatcherType.ERROR; // the container's error page: a new answer
        send(file, SendOptions.defaults());
        assertTrue(exchange.calls.size() > afterTheFirst.size(), "the error page was not sent");
    }

    /** A request the application put in async mode itself (to answer on a thread of its own): refused, clearly. */
    @Test
    void aRequestAlreadyInAsyncModeIsRefusedWithNothingWritten() throws IOException {
        Path file = file();
        exchange.asyncStarted = true;
        String message = refusal(file);
        assertTrue(message.contains("already in async mode"), message);
    }

    @Test
    void aResponseThatFailsWhileTheHeadIsSetLeavesTheFileClosed() throws IOException {
        Path file = file();
        exchange.failingCall = "setStatus 200";
        assertThrows(IllegalStateException.class, () -> send(file, SendOptions.defaults()));
        assertEquals(0, OpenFiles.countUnder(dir.toRealPath()), "the file opened for the response is still open");
    }

    @Test
    void theCutOffDispatchThrowsSoThatTheContainerCutsTheConnection() throws IOException {
        Path file = file();
        exchange.committed = true;
        exchange.attributes.put(SluiceSender.CUT_OFF, Boolean.TRUE);
        assertThrows(IOException.class, () -> send(file, SendOptions.defaults()));
        assertEquals(List.of(), exchange.calls);
    }

    /**
     * A body that failed before its first byte: the dispatch answers it, with nothing of the file's head left, 503
     * and {@code Retry-After} when the file was being changed in place, 500 when the disk failed.
     */
    @Test
    void aBodyThatFailedBeforeItsFirstByteIsAnsweredByItsCutOffDispatch() throws IOException {
        Path file = file();
        for (int status : new int[] {503, 500}) {
            FakeExchange cut = new FakeExchange();
            cut.dispatcherType = jakarta.servlet.DispatcherType.ASYNC;
            cut.headers.put("ETag", new java.util.ArrayList<>(List.of("\"the-file's\"")));
            cut.attributes.put(SluiceSender.CUT_OFF, "its file could not be read as announced");
            cut.attributes.put(SluiceSender.FAILED_UNSENT, status);
            sender().send(cut.request(), cut.response(), file, SendOptions.defaults());
            assertEquals(status, cut.status);
            assertNull(cut.header("ETag"));
            assertEquals(status == 503 ? "1" : null, cut.header("Retry-After"));
            assertEquals(status == 503 ? "Service Unavailable\n" : "Internal Server Error\n",
                    cut.body.toString(java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(List.of(), List.copyOf(cut.attributes.keySet()), "the page for the status would answer again");
        }
    }

    @Test
    void aFileChangedInPlaceBeforeTheFirstByteIsATemporaryFailure() {
        assertEquals(503, SluiceSender.statusOfAFailureBeforeTheFirstByte(
                new dev.sluice.stream.FileChangedException("file modified in place while it was served")));
        assertEquals(503, SluiceSender.statusOfAFailureBeforeTheFirstByte(
                new dev.sluice.stream.FileShrankException(0)));
        assertEquals(500, SluiceSender.statusOfAFailureBeforeTheFirstByte(new IOException("Input/output error")));
    }

    @Test
    void headAnswersWithTheFilesHeadAndTheCallsOptions() throws IOException {
        Path file = file();
        exchange.method = "HEAD";
        send(file, SendOptions.defaults().withFilename("Q1 r\u00e9sum\u00e9.csv").withContentType("text/csv")
                .withCacheControl("private"));
        assertEquals(200, exchange.status);
        assertEquals(EntityTag.strong(8, 1_700_000_000_000L).toHeaderValue(), exchange.header("ETag"));
        assertEquals("8", exchange.header("Content-Length"));
        assertEquals("text/csv", exchange.header("Content-Type"));
        assertEquals("private", exchange.header("Cache-Control"));
        assertEquals(ContentDisposition.attachment("Q1 r\u00e9sum\u00e9.csv"), exchange.header("Content-Disposition"));
        assertEquals(0, exchange.body.size());
    }

    @Test
    void aMatchingIfNoneMatchIsA304WithoutGoingAsync() throws IOException {
        Path file = file();
        exchange.requestHeaders.put("If-None-Match", EntityTag.strong(8, 1_700_000_000_000L).toHeaderValue());
        exchange.response().setContentType("application/x-app"); // the caller's, before send
        send(file, SendOptions.defaults());
        assertEquals(304, exchange.status);
        assertEquals(0, exchange.body.size());
        assertFalse(exchange.headers.containsKey("Content-Type"), "a 304 carries no type: " + exchange.headers);
    }

    @Test
    void aMissingFileADirectoryAndASymlinkAre404() throws IOException {
        Path target = file();
        Path link = Files.createSymbolicLink(dir.resolve("link.csv"), target);
        for (Path file : List.of(dir.resolve("missing.csv"), dir, link)) {
            FakeExchange fresh = new FakeExchange();
            sender().send(fresh.request(), fresh.response(), file, SendOptions.defaults());
            assertEquals(404, fresh.status, file.toString());
            assertEquals("Not Found\n", fresh.body.toString(), file.toString());
        }
    }

    @Test
    void handOffsWithoutAnInternalRootAre500() throws IOException {
        sender().handOff(exchange.request(), exchange.response(), internalRoot -> {
            throw new AssertionError("not read without an internal root");
        }, "a test");
        assertEquals(500, exchange.status);
    }

    @Test
    void handOffsOutsideTheInternalRootAre404AndBadOptions500() throws IOException {
        Path internal = Files.createDirectories(dir.resolve("internal"));
        Files.writeString(dir.resolve("secret.txt"), "secret");
        SluiceSender sender = new SluiceSender(engine, SluiceSender.Settings.defaults().withInternalRoot(internal));
        sender.handOff(exchange.request(), exchange.response(), root -> new Handoff("..%2Fsecret.txt", null,
                SendOptions.defaults(), "..%2Fsecret.txt"), "a test");
        assertEquals(404, exchange.status);
        FakeExchange bad = new FakeExchange();
        sender.handOff(bad.request(), bad.response(), root -> {
            throw new IllegalArgumentException("X-Sluice-Limit-Rate 'fast': expected a size");
        }, "a test");
        assertEquals(500, bad.status);
        assertNull(bad.header("ETag"));
    }

    @Test
    void theServletsSettingsBecomeTheSendersOwn() {
        SluiceConfig config = SluiceConfig.from(java.util.Map.of("root", dir.toString(), "maxRanges", "3",
                "cacheControl", "public", "precompressed", "br,gzip", "sendfile", "false", "textCharset", "none",
                "mimeTypes", "log=text/plain, M3U8=Application/X-MpegURL"));
        SluiceSender.Settings settings = SluiceSender.Settings.of(config);
        assertEquals(new SluiceSender.Settings(true, 3, "public", null, List.of("br", "gzip"), false, null,
                config.symlinks(), false, new MediaTypes(java.util.Map.of("log", "text/plain",
                        "m3u8", "application/x-mpegurl"))), settings);
        assertEquals(java.util.Map.of("log", "text/plain", "m3u8", "application/x-mpegurl"),
                settings.mediaTypes().overrides());
    }

    /**
     * An application's own settings are checked as the servlet's are: a Cache-Control that would split the head
     * (Jetty sent "private  X-Injected: yes" as one header line), a coding Sluice has no variants for.
     */
    @Test
    void settingsThatWouldSplitTheHeadOrNameAnUnknownCodingAreRefused() {
        SluiceSender.Settings defaults = SluiceSender.Settings.defaults();
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> defaults.withCacheControl("private\r\nX-Injected: yes")).getMessage().contains("Cache-Control"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> defaults.withPrecompressed(List.of("deflate"))).getMessage().contains("br, gzip, zstd"));
        assertEquals(List.of("zstd", "br"), defaults.withPrecompressed(List.of("zstd", "br")).precompressed());
        assertEquals("private, max-age=60", defaults.withCacheControl("private, max-age=60").cacheControl());
        assertEquals("context", assertThrows(NullPointerException.class, () -> SluiceSender.from(null)).getMessage());
    }

    /** Sluice's Vary joins the application's (a list field): a cache must not lose the app's Cookie. */
    @Test
    void sluicesVaryIsAddedToTheApplicationsOnce() {
        assertEquals("Accept-Encoding", SluiceSender.vary(List.of(), "Accept-Encoding"));
        assertEquals("Cookie, Accept-Encoding", SluiceSender.vary(List.of("Cookie"), "Accept-Encoding"));
        assertEquals("Cookie, Origin, Accept-Encoding",
                SluiceSender.vary(List.of("Cookie,  Origin", "cookie"), "Accept-Encoding"));
        assertEquals("accept-encoding, Cookie", SluiceSender.vary(List.of("accept-encoding, Cookie"),
                "Accept-Encoding"), "already there: not twice");
        assertEquals("*", SluiceSender.vary(List.of("Cookie, *"), "Accept-Encoding"), "* varies on everything");
    }
}
