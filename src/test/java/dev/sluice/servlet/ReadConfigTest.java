package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletContext;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where settings come from: a deployment's context params win over the WAR's servlet init-params. */
class ReadConfigTest {

    @TempDir
    Path dir;

    private static ServletConfig config(Map<String, String> servletParams, Map<String, String> contextParams) {
        ServletContext context = (ServletContext) Proxy.newProxyInstance(ReadConfigTest.class.getClassLoader(),
                new Class<?>[] {ServletContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInitParameter" -> contextParams.get((String) args[0]);
                    case "getInitParameterNames" -> Collections.enumeration(contextParams.keySet());
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return (ServletConfig) Proxy.newProxyInstance(ReadConfigTest.class.getClassLoader(),
                new Class<?>[] {ServletConfig.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInitParameter" -> servletParams.get((String) args[0]);
                    case "getInitParameterNames" -> Collections.enumeration(servletParams.keySet());
                    case "getServletContext" -> context;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void contextParamsOverrideServletParams() throws Exception {
        Path web = Files.createDirectory(dir.resolve("web"));
        Path deployed = Files.createDirectory(dir.resolve("deployed"));
        SluiceConfig config = SluiceServlet.readConfig(config(Map.of("root", web.toString(), "readAhead", "3"),
                Map.of("sluice.root", deployed.toString(), "other.param", "ignored")));
        assertEquals(deployed.toRealPath(), config.root());
        assertEquals(3, config.engine().readAhead());
    }

    @Test
    void aMisspeltContextParamIsReported() {
        ConfigException e = assertThrows(ConfigException.class, () -> SluiceServlet.readConfig(
                config(Map.of("root", dir.toString()), Map.of("sluice.chunksize", "1MiB"))));
        assertTrue(e.getMessage().contains("'chunksize'"), e.getMessage());
    }
}
