package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JettyStartPropertiesTest {

    @TempDir
    Path base;

    @Test
    void readsTheBasesIniFilesThenTheCommandLine() throws Exception {
        Files.writeString(base.resolve("start.ini"), "--modules=http\nsluice.fromStartIni=1\n");
        Path startD = Files.createDirectory(base.resolve("start.d"));
        Files.writeString(startD.resolve("sluice.ini"), """
                --modules=sluice
                ## A comment: sluice.inComment=1
                # sluice.chunkSize=256KiB
                  sluice.root=/srv/files
                sluice.welcomeFiles+=,home.html
                sluice.readAhead?=3
                sluice.root=/again
                jetty.http.port=8080
                """);
        Files.writeString(startD.resolve("b.ini"), "sluice.fromB=1\n");
        Files.writeString(startD.resolve("sluice.ini.bak"), "sluice.notAnIni=1\n");
        Path properties = Files.writeString(base.resolve("start_1.properties"), "sluice.fromFile=1\nother=2\n");
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("fromStartIni", "property sluice.fromStartIni in " + base.resolve("start.ini"));
        expected.put("fromB", "property sluice.fromB in " + startD.resolve("b.ini"));
        expected.put("root", "property sluice.root in " + startD.resolve("sluice.ini"));
        expected.put("welcomeFiles", "property sluice.welcomeFiles in " + startD.resolve("sluice.ini"));
        expected.put("readAhead", "property sluice.readAhead in " + startD.resolve("sluice.ini"));
        expected.put("cacheControl", "property sluice.cacheControl on the command line");
        expected.put("chunksize", "property sluice.chunksize on the command line");
        expected.put("fromFile", "property sluice.fromFile in " + properties);
        assertEquals(expected, JettyStartProperties.names(base, List.of("-Xmx1g", "-Dsluice.cacheControl=no-store",
                "-jar", "/jetty/start.jar", "jetty.base=" + base, "sluice.chunksize=1MiB", "sluice.root=/data",
                properties.toString(), "/missing/start_2.properties", "sluice.noValue")));
    }

    @Test
    void aBaseWithoutIniFilesGivesOnlyTheCommandLine() {
        assertEquals(Map.of("root", "property sluice.root on the command line"),
                JettyStartProperties.names(base, List.of("sluice.root=/data")));
    }

    @Test
    void aPropertyUnderAMisspeltPrefixStopsStartUpNamingWhereItIsAndADashDLineIsAProperty() throws Exception {
        Path startD = Files.createDirectory(base.resolve("start.d"));
        Files.writeString(startD.resolve("sluice.ini"), "--modules=sluice\n# limitRate=1MiB\nsluce.limitRate=1MiB\n");
        ConfigException inIni = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> JettyStartProperties.names(base, List.of()));
        assertEquals("Unknown Sluice setting 'sluce.limitRate' (property sluce.limitRate in "
                + startD.resolve("sluice.ini") + "): did you mean 'sluice.limitRate'? Sluice reads its settings there"
                + " as sluice.<name> only.", inIni.getMessage());
        // start.jar takes "-Dname=value" in an ini file as the property too
        Files.writeString(startD.resolve("sluice.ini"), "-Dsluice.limitRate=1MiB\nlimitRate=2MiB\n");
        assertEquals(Map.of("limitRate", "property sluice.limitRate in " + startD.resolve("sluice.ini")),
                JettyStartProperties.names(base, List.of("-Xmx1g", "--limitRate=1MiB", "-Droot=/other")));
        ConfigException dashes = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> JettyStartProperties.names(base, List.of("--sluice.limitRate=1MiB")));
        assertEquals(true, dashes.getMessage().contains("did you mean 'sluice.limitRate'?"), dashes.getMessage());
    }
}
