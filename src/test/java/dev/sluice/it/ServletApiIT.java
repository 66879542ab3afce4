package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.servlet.ServletOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Proves which Servlet API the integration tests ran against: 6.1 by default, 6.0 in the {@code servlet-6.0}
 * run, where {@code write(ByteBuffer)} does not exist and Sluice must fall back to {@code byte[]} writes.
 */
class ServletApiIT {

    @Test
    void theServletApiOnTheClassPathIsTheOneThisRunIsFor() {
        String expected = System.getProperty("sluice.it.servletApi", "6.1");
        boolean byteBufferWrite = Arrays.stream(ServletOutputStream.class.getMethods())
                .anyMatch(m -> m.getName().equals("write") && Arrays.equals(m.getParameterTypes(),
                        new Class<?>[] {ByteBuffer.class}));
        assertEquals(expected.equals("6.1"), byteBufferWrite, "Servlet API " + expected + " expected; "
                + ServletOutputStream.class.getProtectionDomain().getCodeSource().getLocation());
    }
}
