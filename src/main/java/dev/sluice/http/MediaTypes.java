package dev.sluice.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The {@code Content-Type} of a file by its name: the {@code mimeTypes} setting's type for its extension, else
 * the container's ({@code ServletContext.getMimeType}), else Sluice's own table of common media, archive and data
 * types ({@code media-types.properties}), else none. Why a table of its own: Jetty's map lacks types a file server
 * of videos and downloads needs ({@code webm}, {@code m3u8}, {@code ts}, {@code mkv}, {@code flac}, {@code 7z},
 * {@code deb} ...), so the launcher and the Jetty module sent them as {@code application/octet-stream}, which
 * browsers offer to save rather than play, where Tomcat named them.
 *
 * @param overrides extension (lower case, no dot) to type, as the {@code mimeTypes} setting gives them
 */
public record MediaTypes(Map<String, String> overrides) {

    /** A media type as a setting gives it: {@code type/subtype}, both RFC 9110 tokens, no parameters. */
    public static final Pattern TYPE = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** An extension as a setting gives it: no dot. */
    public static final Pattern EXTENSION = Pattern.compile("[A-Za-z0-9_+-]+");

    private static final Map<String, String> BUILT_IN = load();
    /** Types that are text without saying so in their name ({@code text/*} and {@code +xml} are). */
    private static final Set<String> TEXT_LIKE = Set.of("application/javascript", "application/json",
            "application/xml");
    /** Extensions whose type is text but whose bytes are compressed ({@code .svgz} is gzip). */
    private static final Set<String> COMPRESSED_TEXT = Set.of("svgz");

    /**
     * @throws IllegalArgumentException for an extension or a type that is not one
     */
    public MediaTypes {
        Map<String, String> lower = new TreeMap<>();
        overrides.forEach((extension, type) -> {
            if (!EXTENSION.matcher(extension).matches() || !TYPE.matcher(type).matches()) {
                throw new IllegalArgumentException("not an extension and a media type: " + extension + "=" + type);
            }
            lower.put(extension.toLowerCase(Locale.ROOT), type.toLowerCase(Locale.ROOT));
        });
        overrides = Map.copyOf(lower);
    }

    /** Sluice's own table under the container's map, with no overrides. */
    public static MediaTypes builtIn() {
        return new MediaTypes(Map.of());
    }

    /**
     * The type of a file named {@code name}: the override for its extension, else what {@code container} says of
     * the name (null: nothing), else the built-in table's; null when none knows it.
     */
    public String of(String name, UnaryOperator<String> container) {
        String extension = extension(name);
        String type = extension == null ? null : overrides.get(extension);
        if (type == null) {
            type = container.apply(name);
        }
        if (type == null && extension != null) {
            type = BUILT_IN.get(extension);
        }
        return type;
    }

    /**
     * {@code type} with {@code ;charset=} added when it is text ({@code text/*}, JSON, JavaScript, XML and every
     * {@code +xml} type) and names no charset, unless the file's bytes are compressed ({@code .svgz}); as it is
     * when {@code charset} is null.
     */
    public static String withCharset(String type, String name, String charset) {
        String base = type.toLowerCase(Locale.ROOT);
        String extension = extension(name);
        if (charset == null || base.contains("charset=") || extension != null && COMPRESSED_TEXT.contains(extension)) {
            return type;
        }
        String essence = base.indexOf(';') < 0 ? base : base.substring(0, base.indexOf(';')).trim();
        if (essence.startsWith("text/") || essence.endsWith("+xml") || TEXT_LIKE.contains(essence)) {
            return type + ";charset=" + charset;
        }
        return type;
    }

    /** The lower-case part of {@code name} after its last dot, or null when it has none (or ends with one). */
    public static String extension(String name) {
        int dot = name.lastIndexOf('.');
        int slash = name.lastIndexOf('/');
        if (dot <= slash || dot == name.length() - 1) {
            return null;
        }
        return name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static Map<String, String> load() {
        Properties table = new Properties();
        try (InputStream in = MediaTypes.class.getResourceAsStream("media-types.properties")) {
            if (in == null) {
                throw new IllegalStateException("media-types.properties is missing from Sluice's jar");
            }
            table.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> types = new TreeMap<>();
        table.forEach((extension, type) -> types.put((String) extension, (String) type));
        return Map.copyOf(types);
    }
}
