package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.servlet.ClosingWriteProbe;
import dev.sluice.servlet.SluiceServlet;
import dev.sluice.stream.TransferMetrics;
import jakarta.servlet.ServletOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Proves which Servlet API the integration tests ran against: 6.1 by default, 6.0 in the {@code servlet-6.0}
 * run, where {@code write(ByteBuffer)} does not exist and Sluice must fall back to {@code byte[]} writes.
 */
class ServletApiIT {

    /** Whether this run's Servlet API has {@code write(ByteBuffer)} (6.1). */
    static final boolean BYTE_BUFFER_WRITE = Arrays.stream(ServletOutputStream.class.getMethods())
            .anyMatch(m -> m.getName().equals("write") && Arrays.equals(m.getParameterTypes(),
                    new Class<?>[] {ByteBuffer.class}));

    @TempDir
    Path root;

    @Test
    void theServletApiOnTheClassPathIsTheOneThisRunIsFor() {
        String expected = System.getProperty("sluice.it.servletApi", "6.1");
        assertEquals(expected.equals("6.1"), BYTE_BUFFER_WRITE, "Servlet API " + expected + " expected; "
                + ServletOutputStream.class.getProtectionDomain().getCodeSource().getLocation());
    }

    /**
     * With the default {@code bufferKind=mapped}, a file longer than a chunk goes from the file's mapping and uses
     * no pool buffer, where the container has {@code write(ByteBuffer)} and hands a written buffer to the kernel as
     * it is (Jetty); on a Servlet 6.0 API it goes through heap buffers instead, and on Tomcat, which copies what its
     * socket does not take, through direct ones. A file no longer than a chunk always takes a buffer. (Tomcat's
     * sendfile is off, so that the engine sends the bodies.)
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void bigFilesGoFromTheMappingWhereTheContainerWritesItAsGivenAndSmallOnesThroughABuffer(ContainerKind kind)
            throws Exception {
        byte[] big = new byte[8 * 1024 * 1024 + 3];
        new Random(61).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        byte[] small = Arrays.copyOf(big, 100_000);
        Files.write(root.resolve("small.bin"), small);
        SluiceServlet servlet = new SluiceServlet();
        try (ContainerKind.Running container = kind.start(servlet, Map.of("root", root.toString(),
                "sendfile", "false"), 0)) {
            assertArrayEquals(big, TestClient.get(container.uri(), "/big.bin").body());
            Await.until("the download counted", Duration.ofSeconds(30), () -> servlet.metrics().completed() == 1,
                    () -> servlet.metrics().toString());
            TransferMetrics afterBig = servlet.metrics();
            boolean mapped = BYTE_BUFFER_WRITE && kind != ContainerKind.TOMCAT;
            assertEquals(mapped, afterBig.bufferBytesHighWater() == 0,
                    "write(ByteBuffer) " + BYTE_BUFFER_WRITE + ", " + kind + ": " + afterBig);
            assertEquals(mapped, afterBig.mappedWindows() > 0, afterBig.toString());

            assertArrayEquals(small, TestClient.get(container.uri(), "/small.bin").body());
            Await.until("the download counted", Duration.ofSeconds(30), () -> servlet.metrics().completed() == 2,
                    () -> servlet.metrics().toString());
            assertTrue(servlet.metrics().bufferBytesHighWater() > 0, "the small file took no buffer");
            Leaks.assertNothingHeld(servlet, root);
        }
    }

    /**
     * A body's last chunk goes whole where the container's write that reaches the Content-Length does not block
     * the writing thread: Jetty's on HTTP/1.1 and HTTP/2, Tomcat's on HTTP/1.1; on Tomcat's HTTP/2, whose stream
     * ends with a blocking flush in that write, the last byte goes alone. Asked of each container's own stream.
     */
    @ParameterizedTest
    @EnumSource(ContainerKind.class)
    void theLastChunkGoesWholeWhereTheContainersClosingWriteDoesNotBlock(ContainerKind kind) throws Exception {
        try (ContainerKind.Running container = kind.start(new ClosingWriteProbe(), Map.of(), 0, true)) {
            HttpRequest probe = HttpRequest.newBuilder(container.uri().resolve("/probe")).build();
            HttpResponse<String> overHttp11 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(probe, HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_1_1, overHttp11.version());
            assertEquals("true", overHttp11.body(), kind + " over HTTP/1.1");
            HttpResponse<String> overH2c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()
                    .send(probe, HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, overH2c.version(), "the h2c upgrade was refused");
            assertEquals(Boolean.toString(kind != ContainerKind.TOMCAT), overH2c.body(), kind + " over h2c");
        }
    }
}
