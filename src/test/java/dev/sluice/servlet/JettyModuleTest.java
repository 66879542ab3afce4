package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Jetty module in jetty-base/ must know every setting, with its real default, and no other. */
class JettyModuleTest {

    private static final Path BASE = Path.of("jetty-base");
    private static final Pattern PROPERTY = Pattern.compile("(?m)^#? ?sluice\\.([A-Za-z]+)=");

    private static final Set<String> KEYS = Setting.values().stream().map(Setting::key)
            .collect(Collectors.toCollection(TreeSet::new));

    @Test
    void theIniTemplateListsEverySettingWithItsDefaultAndAComment() throws IOException {
        String mod = Files.readString(BASE.resolve("modules/sluice.mod"));
        int start = mod.indexOf("[ini-template]");
        assertTrue(start >= 0, "sluice.mod has no [ini-template]");
        List<String> template = mod.substring(start).lines().toList();
        for (Setting<?> setting : Setting.values()) {
            String line = "# sluice." + setting.key() + "="
                    + (setting.defaultValue() == null ? "/srv/files" : setting.defaultValue());
            int at = template.indexOf(line);
            assertTrue(at > 0, "sluice.mod's [ini-template] lacks the line " + line);
            assertTrue(template.get(at - 1).startsWith("## "), "no comment line above " + line);
        }
        assertEquals(KEYS, properties(mod.substring(start)), "sluice.mod's [ini-template] settings");
    }

    /**
     * Properties of an environment's ini file would win over the command line's, which are core properties; the
     * settings are in a core module's ini for the command line to win. JettyModuleIT checks it on jetty-home.
     */
    @Test
    void theSettingsAreCorePropertiesAndTheWebappPartIsInTheEe11Environment() throws IOException {
        String sluice = Files.readString(BASE.resolve("modules/sluice.mod"));
        String ee11 = Files.readString(BASE.resolve("modules/sluice-ee11.mod"));
        assertTrue(!sluice.contains("[environment]") && sluice.contains("\n[depend]\nhttp\nsluice-ee11\n"), sluice);
        assertTrue(ee11.contains("\n[environment]\nee11\n") && ee11.contains("\n[depend]\nee11-deploy\n")
                && ee11.contains("\nmodules/sluice/sluice-environment.xml\n") && !ee11.contains("[ini-template]"), ee11);
        assertEquals(List.of("--modules=sluice"), Files.readString(BASE.resolve("start.d/sluice.ini")).lines()
                .filter(line -> line.startsWith("--")).toList());
    }

    @Test
    void theStartIniMentionsEverySettingAndSetsTheRoot() throws IOException {
        String ini = Files.readString(BASE.resolve("start.d/sluice.ini"));
        assertEquals(KEYS, properties(ini), "start.d/sluice.ini settings");
        assertTrue(ini.contains("\nsluice.root=/srv/files\n"), "start.d/sluice.ini must set sluice.root");
        assertTrue(ini.contains("\n--modules=sluice\n"), ini);
    }

    @Test
    void theContextFileMapsEveryPropertyOntoItsInitParam() throws IOException {
        String xml = Files.readString(BASE.resolve("modules/sluice/sluice.xml"));
        assertEquals(KEYS, mapped(xml, "setInitParameter"), "init-params set by modules/sluice/sluice.xml");
        assertEquals(xml, Files.readString(BASE.resolve("webapps/sluice.xml")),
                "webapps/sluice.xml is the copy --add-modules makes of modules/sluice/sluice.xml");
    }

    @Test
    void theEnvironmentFileHandsEveryPropertyToTheDeployer() throws IOException {
        String xml = Files.readString(BASE.resolve("modules/sluice/sluice-environment.xml"));
        assertEquals(KEYS, mapped(xml, "setAttribute"), "attributes set by modules/sluice/sluice-environment.xml");
    }

    private static Set<String> properties(String text) {
        Set<String> found = new TreeSet<>();
        Matcher m = PROPERTY.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** The settings {@code <Call name="method"><Arg>sluice.x</Arg><Arg><Property name="sluice.x"/></Arg></Call>}. */
    private static Set<String> mapped(String xml, String method) {
        Pattern call = Pattern.compile("<Call name=\"" + method + "\"><Arg>sluice\\.([A-Za-z]+)</Arg>"
                + "<Arg><Property name=\"sluice\\.([A-Za-z]+)\"/></Arg></Call>");
        Set<String> found = new TreeSet<>();
        Matcher m = call.matcher(xml);
        while (m.find()) {
            assertEquals(m.group(1), m.group(2), "init-param and property differ: " + m.group());
            found.add(m.group(1));
        }
        int calls = xml.split("<Call name=\"" + method + "\"", -1).length - 1;
        assertEquals(found.size(), calls, "a " + method + " call that is not a plain sluice.<name> mapping");
        return found;
    }
}
