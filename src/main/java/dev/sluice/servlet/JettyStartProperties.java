package dev.sluice.servlet;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The {@code sluice.*} properties a Jetty base gives to its {@code start.jar}, by name, with where each is given.
 *
 * <p>Jetty's XML reads a property only by its exact name, and keeps the rest to itself: a misspelt
 * {@code sluice.chunksize} would reach nothing and be ignored. So the Jetty module tells Sluice its base, and Sluice
 * reads the names where {@code start.jar} takes them: {@code start.ini} and {@code start.d/*.ini} of the base, and
 * the command line (the JVM's own arguments: {@code start.jar}'s when Jetty runs in its JVM, or the forked
 * server's, whose properties are arguments and a {@code .properties} file). Directories added with
 * {@code --include-jetty-dir} and {@code $JETTY_HOME}'s own ini files are not read.
 */
final class JettyStartProperties {

    private static final Logger LOG = Logger.getLogger(JettyStartProperties.class.getName());
    private static final String PREFIX = "sluice.";

    private JettyStartProperties() {
    }

    /**
     * The names after {@code sluice.} of the properties given in {@code base}'s ini files and in
     * {@code arguments}, each with where it is given, in that order; a name given twice keeps its first place.
     */
    static Map<String, String> names(Path base, List<String> arguments) {
        Map<String, String> names = new LinkedHashMap<>();
        List<Path> inis = new ArrayList<>();
        inis.add(base.resolve("start.ini"));
        Path startD = base.resolve("start.d");
        if (Files.isDirectory(startD)) {
            try (Stream<Path> files = Files.list(startD)) {
                files.filter(f -> f.getFileName().toString().endsWith(".ini")).sorted().forEach(inis::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (Path ini : inis) {
            if (Files.isRegularFile(ini)) {
                for (String line : read(ini)) {
                    add(names, line.trim(), "in " + ini);
                }
            }
        }
        for (String argument : arguments) {
            if (argument.startsWith("-D")) {
                add(names, argument, "on the command line");
            } else if (argument.endsWith(".properties") && Files.isRegularFile(Path.of(argument))) {
                Path file = Path.of(argument);
                for (String key : load(file).stringPropertyNames()) {
                    add(names, key + "=", "in " + file);
                }
            } else {
                add(names, argument, "on the command line");
            }
        }
        return names;
    }

    /**
     * Adds the property that {@code line} sets ({@code name=value}, {@code name+=value}, {@code name?=value});
     * stops start-up for one meant for Sluice under another name, or warns ({@link Setting#checkUnprefixed}).
     */
    private static void add(Map<String, String> names, String line, String where) {
        String setting = line.startsWith("-D") ? line.substring(2) : line; // start.jar reads -D lines as properties
        int eq = setting.indexOf('=');
        if (eq <= 0 || setting.startsWith("#")) {
            return;
        }
        String key = setting.substring(0, eq);
        if (key.endsWith("+") || key.endsWith("?")) {
            key = key.substring(0, key.length() - 1);
        }
        if (!key.startsWith(PREFIX)) {
            // a lambda, not LOG::warning, whose record would name Optional as its source
            Setting.checkUnprefixed(key, "property " + key + " " + where).ifPresent(warning -> LOG.warning(warning));
            return;
        }
        names.putIfAbsent(key.substring(PREFIX.length()), "property " + key + " " + where);
    }

    /**
     * The keys {@code file} sets (a Jetty deployer's {@code webapps/<context>.properties}, whose properties become
     * context attributes; {@code null} or missing: none), so that a message can name the file rather than the
     * attribute.
     */
    static java.util.Set<String> keysIn(Path file) {
        return file != null && Files.isRegularFile(file) ? load(file).stringPropertyNames() : java.util.Set.of();
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Properties load(Path file) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }
}
