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
        return config(servletParams, contextParams, Map.of());
    }

    private static ServletConfig config(Map<String, String> servletParams, Map<String, String> contextParams,
            Map<String, Object> contextAttributes) {
        ServletContext context = (ServletContext) Proxy.newProxyInstance(ReadConfigTest.class.getClassLoader(),
                new Class<?>[] {ServletContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInitParameter" -> contextParams.get((String) args[0]);
                    case "getInitParameterNames" -> Collections.enumeration(contextParams.keySet());
                    case "getAttribute" -> contextAttributes.get((String) args[0]);
                    case "getAttributeNames" -> Collections.enumeration(contextAttributes.keySet());
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return (ServletConfig) Proxy.newProxyInstance(ReadConfigTest.class.getClassLoader(),
                new Class<?>[] {ServletConfig.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInitParameter" -> servletParams.get((String) args[0]);
                    case "getInitParameterNames" -> Collections.enumeration(servletParams.keySet());
                    case "getServletContext" -> context;
                    case "getServletName" -> "sluice";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private String error(ServletConfig config) {
        return assertThrows(ConfigException.class, () -> SluiceServlet.readConfig(config)).getMessage();
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

    /** In the Jetty module, a context attribute comes from the deployer's webapps/sluice.properties: named so. */
    @Test
    void aMisspeltNameInTheJettyDeployersPropertiesNamesTheFile() throws java.io.IOException {
        java.nio.file.Path base = java.nio.file.Files.createDirectories(dir.resolve("base"));
        java.nio.file.Path properties = java.nio.file.Files.createDirectories(base.resolve("webapps"))
                .resolve("sluice.properties");
        java.nio.file.Files.writeString(properties, "sluice.dirlisting=true\n");
        assertEquals("Unknown Sluice setting 'dirlisting' (property sluice.dirlisting in " + properties
                + "): did you mean 'dirListing'?", error(config(Map.of("root", dir.toString()), Map.of(),
                Map.of("sluice.dirlisting", "true", SluiceServlet.JETTY_BASE_ATTRIBUTE, base.toString()))));
        assertEquals("Unknown Sluice setting 'cachecontrol' (context attribute sluice.cachecontrol): did you mean"
                + " 'cacheControl'?", error(config(Map.of("root", dir.toString()), Map.of(),
                Map.of("sluice.cachecontrol", "x", SluiceServlet.JETTY_BASE_ATTRIBUTE, base.toString()))),
                "an attribute the file does not set is named as an attribute");
    }

    @Test
    void aMisspeltNameIsReportedWithWhereItWasGivenAndTheClosestSetting() {
        assertEquals("Unknown Sluice setting 'chunksize' (init-param chunksize of servlet sluice): did you mean"
                + " 'chunkSize'?", error(config(Map.of("root", dir.toString(), "chunksize", "1MiB"), Map.of())));
        assertEquals("Unknown Sluice setting 'readahaed' (context init-param sluice.readahaed): did you mean"
                + " 'readAhead'?", error(config(Map.of("root", dir.toString()), Map.of("sluice.readahaed", "3"))));
        assertEquals("Unknown Sluice setting 'dirlisting' (context attribute sluice.dirlisting): did you mean"
                + " 'dirListing'?", error(config(Map.of("root", dir.toString()), Map.of(),
                Map.of("sluice.dirlisting", "true", "org.other.attribute", "x"))));
        assertTrue(error(config(Map.of("root", dir.toString(), "colour", "red"), Map.of())).startsWith(
                "Unknown Sluice setting 'colour' (init-param colour of servlet sluice); known settings: root,"
                        + " internalRoot, chunkSize, readAhead,"));
    }

    @Test
    void aMisspeltPropertyOfTheJettyModuleIsReportedWithItsFile() throws Exception {
        Path base = Files.createDirectory(dir.resolve("base"));
        Path ini = Files.writeString(Files.createDirectory(base.resolve("start.d")).resolve("sluice.ini"),
                "--modules=sluice\nsluice.root=" + dir + "\nsluice.stallTimout=5s\n");
        Map<String, Object> jetty = Map.of(SluiceServlet.JETTY_BASE_ATTRIBUTE, base.toString());
        assertEquals("Unknown Sluice setting 'stallTimout' (property sluice.stallTimout in " + ini + "): did you mean"
                + " 'stallTimeout'?", error(config(Map.of(), Map.of("sluice.root", dir.toString()), jetty)));
        Files.writeString(ini, "--modules=sluice\nsluice.root=" + dir + "\n");
        assertEquals(dir.toRealPath(), SluiceServlet.readConfig(config(Map.of(), Map.of("sluice.root",
                dir.toString()), jetty)).root());
    }

    /**
     * Tomcat passes any context parameter on: one meant for Sluice under a misspelt prefix stops start-up; a
     * setting's bare name is warned of (an application sharing the web application may have its own "root").
     */
    @Test
    void aContextParamOrAttributeMeantForSluiceUnderAnotherNameIsReported() {
        assertEquals("Unknown Sluice setting 'sluise.limitRate' (context init-param sluise.limitRate): did you mean"
                + " 'sluice.limitRate'? Sluice reads its settings there as sluice.<name> only.",
                error(config(Map.of("root", dir.toString()), Map.of("sluise.limitRate", "1MiB"))));
        assertEquals("Unknown Sluice setting 'Sluice.limitRate' (context attribute Sluice.limitRate): did you mean"
                + " 'sluice.limitRate'? Sluice reads its settings there as sluice.<name> only.",
                error(config(Map.of("root", dir.toString()), Map.of(), Map.of("Sluice.limitRate", "1MiB"))));
        java.util.List<String> warnings = new java.util.ArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(SluiceServlet.class.getName());
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                if (record.getLevel() == java.util.logging.Level.WARNING) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(handler);
        try {
            // other components' parameters and the container's own attributes are left alone; a bare name warned of
            assertEquals(dir.toAbsolutePath().normalize(), SluiceServlet.readConfig(config(Map.of("root",
                    dir.toString()), Map.of("org.apache.other", "1", "contextConfigLocation", "x", "limitRate", "1MiB"),
                    Map.of("root", "x"))).root().toAbsolutePath().normalize());
        } finally {
            log.removeHandler(handler);
        }
        assertEquals(java.util.List.of("Sluice does not read 'limitRate' (context init-param limitRate): if it is"
                + " meant for Sluice, name it 'sluice.limitRate'."), warnings);
    }
}
