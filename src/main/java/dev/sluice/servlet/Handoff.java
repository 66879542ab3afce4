package dev.sluice.servlet;

import dev.sluice.http.PathEncoding;
import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.TransferRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A hand-off as an application gave it, by request attributes or by response headers ({@link HandoffOption}),
 * read into the file's raw path under {@code internalRoot} and the {@link SendOptions}. Reading checks the values
 * and nothing on disk: the path goes through the internal root's {@link dev.sluice.resource.FileResolver} next.
 *
 * @param rawPath the file's path under {@code internalRoot}, percent-encoded, for the resolver to decode exactly
 *        once; null when {@code refusal} says why there is none
 * @param refusal why the file cannot be under {@code internalRoot} (an absolute {@code Path} elsewhere), or null
 * @param options how to send it
 * @param given the file as the application gave it, for log lines
 */
record Handoff(String rawPath, String refusal, SendOptions options, Object given) {

    /** What the values are read from, and how they are named in messages. */
    private record Source(Function<HandoffOption, Object> values, Function<HandoffOption, String> names,
            boolean headers, List<String> unknown) {
    }

    /**
     * The hand-off in {@code request}'s attributes, as an application sets them before a forward.
     *
     * @throws IllegalArgumentException naming the attribute, if a value cannot be used
     */
    static Handoff fromAttributes(HttpServletRequest request, Path internalRoot, EngineSettings engine) {
        List<String> unknown = new ArrayList<>();
        for (String name : Collections.list(request.getAttributeNames())) {
            if (isOptionLike(name, HandoffOption.ATTRIBUTE_PREFIX) && byAttribute(name) == null) {
                unknown.add(name);
            }
        }
        return read(new Source(option -> request.getAttribute(option.attribute()), HandoffOption::attribute, false,
                unknown), internalRoot, engine);
    }

    /**
     * The hand-off in the X-Sluice-* headers an application's response carried ({@code headers}: names in any case
     * as keys, as {@link java.util.TreeMap} with {@link String#CASE_INSENSITIVE_ORDER} holds them).
     *
     * @throws IllegalArgumentException naming the header, if a value cannot be used
     */
    static Handoff fromHeaders(Map<String, String> headers, EngineSettings engine) {
        List<String> unknown = headers.keySet().stream().filter(name -> byHeader(name) == null).toList();
        return read(new Source(option -> headers.get(option.header()), HandoffOption::header, true, unknown), null,
                engine);
    }

    /** The option an attribute name stands for, or null. */
    static HandoffOption byAttribute(String name) {
        for (HandoffOption option : HandoffOption.values()) {
            if (option.attribute().equals(name)) {
                return option;
            }
        }
        return null;
    }

    /** The option a header name stands for, in any case, or null. */
    static HandoffOption byHeader(String name) {
        for (HandoffOption option : HandoffOption.values()) {
            if (option.header().equalsIgnoreCase(name)) {
                return option;
            }
        }
        return null;
    }

    /** {@code dev.sluice.x} (one more name, no dot: Sluice's own attributes have class names) or {@code X-Sluice-x}. */
    static boolean isOptionLike(String name, String prefix) {
        return name.length() > prefix.length() && name.regionMatches(true, 0, prefix, 0, prefix.length())
                && (!prefix.equals(HandoffOption.ATTRIBUTE_PREFIX) || name.indexOf('.', prefix.length()) < 0);
    }

    private static Handoff read(Source source, Path internalRoot, EngineSettings engine) {
        if (!source.unknown().isEmpty()) {
            throw new IllegalArgumentException("unknown hand-off option " + String.join(", ", source.unknown().stream()
                    .map(LogText::quote).toList()) + "; known: " + String.join(", ", java.util.Arrays.stream(
                    HandoffOption.values()).map(source.names()).toList()));
        }
        Object file = source.values().apply(HandoffOption.FILE);
        SendOptions options = SendOptions.defaults()
                .withFilename(text(source, HandoffOption.FILENAME, source.headers() ? Handoff::decodeFilename : t -> t))
                .withContentType(text(source, HandoffOption.CONTENT_TYPE,
                        type -> type.isBlank() ? null : checked(SendOptions::checkContentType).apply(type)))
                .withCacheControl(text(source, HandoffOption.CACHE_CONTROL, checked(SendOptions::checkCacheControl)))
                .withRate(rate(source, engine))
                .withUserKey(source.values().apply(HandoffOption.USER_KEY))
                .withPrecompressed(flag(source, HandoffOption.PRECOMPRESSED));
        if (file instanceof Path path) {
            String raw = rawPath(path, internalRoot);
            return new Handoff(raw, raw == null ? "an absolute path outside internalRoot" : null, options, file);
        }
        if (file instanceof String text) {
            return new Handoff(source.headers() ? text : PathEncoding.encode(text), null, options, file);
        }
        throw new IllegalArgumentException(source.names().apply(HandoffOption.FILE) + " is "
                + (file == null ? "missing" : "a " + file.getClass().getName()) + ": expected a Path or a String");
    }

    /** A Path's names, percent-encoded and joined by '/'; null for an absolute path not under the internal root. */
    private static String rawPath(Path path, Path internalRoot) {
        Path relative = path;
        if (path.isAbsolute()) {
            if (internalRoot == null || !path.startsWith(internalRoot)) {
                return null;
            }
            relative = internalRoot.relativize(path);
        }
        List<String> names = new ArrayList<>();
        for (Path name : relative) {
            names.add(name.toString());
        }
        return PathEncoding.encode(String.join("/", names));
    }

    private static Function<String, String> checked(java.util.function.Consumer<String> check) {
        return text -> {
            check.accept(text);
            return text;
        };
    }

    /** A text option, read by {@code read} (which throws IllegalArgumentException for a bad one), or null. */
    private static String text(Source source, HandoffOption option, Function<String, String> read) {
        Object value = source.values().apply(option);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(source.names().apply(option) + " is a " + value.getClass().getName()
                    + ": expected a String");
        }
        try {
            return read.apply(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source.names().apply(option) + " " + LogText.quote(text) + ": "
                    + e.getMessage(), e);
        }
    }

    /** This download's own rate when either part is given, the other part from the settings; else null. */
    private static TransferRequest.RateLimit rate(Source source, EngineSettings engine) {
        Long limit = size(source, HandoffOption.LIMIT_RATE);
        Long after = size(source, HandoffOption.LIMIT_RATE_AFTER);
        if (limit == null && after == null) {
            return null;
        }
        return new TransferRequest.RateLimit(limit != null ? limit : engine.limitRate(),
                after != null ? after : engine.limitRateAfter());
    }

    /** A rate option in bytes; null when not given, or given empty (as an empty setting means its default). */
    private static Long size(Source source, HandoffOption option) {
        Object value = source.values().apply(option);
        String name = source.names().apply(option);
        if (value == null || value instanceof String text && text.isBlank()) {
            return null;
        }
        if (value instanceof Long || value instanceof Integer) {
            long bytes = ((Number) value).longValue();
            if (!EngineSettings.RATE_BOUNDS.contains(bytes)) {
                throw new IllegalArgumentException(name + " " + bytes + " is not within " + Setting.LIMIT_RATE.type()
                        .range() + " bytes");
            }
            return bytes;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(name + " is a " + value.getClass().getName()
                    + ": expected a Long, an Integer or a size such as 1MiB");
        }
        try {
            return Setting.LIMIT_RATE.type().parse(text.trim());
        } catch (SettingType.Rejected e) {
            throw new IllegalArgumentException(name + " " + LogText.quote(text) + ": " + e.getMessage(), e);
        }
    }

    /** A true/false option; false when not given, or given empty (as an empty setting means its default). */
    private static boolean flag(Source source, HandoffOption option) {
        Object value = source.values().apply(option);
        if (value == null || value instanceof Boolean) {
            return Boolean.TRUE.equals(value);
        }
        String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (value instanceof String && text.isEmpty()) {
            return false;
        }
        if (value instanceof String && (text.equals("true") || text.equals("false"))) {
            return text.equals("true");
        }
        throw new IllegalArgumentException(source.names().apply(option) + " " + LogText.quote(value)
                + ": expected true or false");
    }

    /**
     * Decodes percent-escapes once, strictly: the bytes must be UTF-8, a {@code %} must start an escape, and
     * {@code +} stays a plus.
     *
     * @throws IllegalArgumentException on a stray {@code %} or bytes that are not UTF-8
     */
    static String percentDecode(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            if (c == '%') {
                int hi = i + 2 < text.length() ? hex(text.charAt(i + 1)) : -1;
                int lo = hi >= 0 ? hex(text.charAt(i + 2)) : -1;
                if (lo < 0) {
                    throw new IllegalArgumentException("a '%' that starts no percent-escape");
                }
                bytes.write(hi << 4 | lo);
                i += 3;
            } else {
                bytes.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the percent-escapes are not UTF-8");
        }
    }

    /**
     * {@code X-Sluice-Filename}: percent-escapes decoded once ({@link #percentDecode}); a name that is no escaped
     * UTF-8 (a {@code %} that starts no escape, as in {@code 100% done.pdf}, or escapes that are not UTF-8) is taken
     * as it is. The name is only shown to the client, in {@code Content-Disposition}, so nothing depends on reading
     * it one way rather than the other, and a plain ASCII name works as it is.
     */
    static String decodeFilename(String text) {
        try {
            return percentDecode(text);
        } catch (IllegalArgumentException e) {
            return text;
        }
    }

    /** An ASCII hex digit's value, or -1 ({@link Character#digit} would take other scripts' digits too). */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char lower = (char) (c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    }
}
