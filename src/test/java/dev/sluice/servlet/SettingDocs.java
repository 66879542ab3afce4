package dev.sluice.servlet;

import java.util.stream.Collectors;

/** The texts users read about settings, rendered from {@link Setting}: the README's table and the Jetty ini files. */
final class SettingDocs {

    /** The root's placeholder in the ini files: the value the WAR's web.xml gives it. */
    static final String ROOT_PLACEHOLDER = "/srv/files";

    private SettingDocs() {
    }

    /** The README's settings table, one row per setting: name, default, help and details. */
    static String readmeTable() {
        return "| setting | default | meaning |\n| --- | --- | --- |\n" + Setting.values().stream()
                .map(s -> "| `" + s.key() + "` | " + readmeDefault(s) + " | " + s.help()
                        + (s.details().isEmpty() ? "" : " " + s.details()) + " |\n")
                .collect(Collectors.joining());
    }

    private static String readmeDefault(Setting<?> setting) {
        String value = setting.defaultValue();
        return value == null ? "(required)" : value.isEmpty() ? "(none)" : "`" + value + "`";
    }

    /**
     * The module's {@code [ini-template]}: every setting commented out with its default (the root with its
     * placeholder), under its help text.
     */
    static String iniTemplate() {
        return """
                ## Sluice settings. A commented line shows the default; an unset setting keeps the WAR's own value (web.xml),
                ## else the default. An empty value means the default. Sizes: KiB, MiB, GiB; durations: ms, s, m, h.
                ## The WAR itself must be at ${jetty.base}/webapps/sluice.war (copy target/sluice.war there).
                ## A property on the command line (java -jar $JETTY_HOME/start.jar sluice.root=/data) wins over this file.
                """ + Setting.values().stream().map(s -> "\n## " + s.description() + "\n# sluice." + s.key() + "="
                        + (s.defaultValue() == null ? ROOT_PLACEHOLDER : s.defaultValue()))
                .collect(Collectors.joining()) + "\n";
    }

    /** The ready base's {@code start.d/sluice.ini}: what {@code --add-modules=sluice} writes, with the root set. */
    static String startIni() {
        String root = "# sluice.root=" + ROOT_PLACEHOLDER + "\n";
        return """
                # ---------------------------------------
                # Module: sluice
                # Sluice: serves the files under sluice.root from ${jetty.base}/webapps/sluice.war at /.
                # ---------------------------------------
                --modules=sluice

                """ + iniTemplate().replace(root, "## CHANGE THIS to the directory to serve.\nsluice.root="
                + ROOT_PLACEHOLDER + "\n");
    }
}
