package dev.sluice.servlet;

import dev.sluice.http.SignedLinks;
import dev.sluice.resource.PrecompressedVariants;
import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.BufferKind;
import dev.sluice.stream.EngineSettings;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sluice's settings, read and checked once at start-up. Any problem stops start-up with a
 * {@link ConfigException} whose message names the setting and the value, so that a typo never leaves a server
 * running on the wrong directory or with a setting silently ignored.
 *
 * @param root the real path of the directory to serve
 * @param engine the transfer engine's settings
 * @param symlinks which symlinks may be followed
 * @param serveHidden whether dot-files are served
 * @param responses how files are answered
 * @param sendfile whether a container's own zero-copy file sending (Tomcat's sendfile) may be used
 * @param statusPath the raw path under the servlet that answers with the counters as JSON, or null when off
 * @param signedLinks the keys that links must be signed with, or null when files are served without a signature
 */
public record SluiceConfig(Path root, EngineSettings engine, SymlinkPolicy symlinks, boolean serveHidden,
        Responses responses, boolean sendfile, String statusPath, SignedLinks signedLinks) {

    /**
     * Whether no setting needs Sluice's engine to see each transfer: no speed limit to pace it and no cap on
     * running transfers to count it. Only then may a body be handed to the container to send by itself.
     */
    public boolean unthrottled() {
        return engine.limitRate() == 0 && engine.maxTransfers() == 0 && engine.globalRate() == 0
                && engine.limitRatePerClient() == 0;
    }

    /**
     * How files are answered.
     *
     * @param acceptRanges whether Range requests are honoured
     * @param maxRanges most ranges one request may ask for
     * @param cacheControl the Cache-Control value, or null
     * @param attachmentExtensions lower-case extensions sent as attachments
     * @param textCharset charset announced for text types, or null
     * @param precompressed content codings with precompressed variants, in the server's order of preference
     * @param welcomeFiles names served for a directory, in order
     * @param dirListing whether directories without a welcome file are listed
     */
    public record Responses(boolean acceptRanges, int maxRanges, String cacheControl,
            Set<String> attachmentExtensions, String textCharset, List<String> precompressed,
            List<String> welcomeFiles, boolean dirListing) {
    }

    private static final Pattern EXTENSION = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern STATUS_PATH = Pattern.compile("(/[A-Za-z0-9._~-]+)+");
    private static final Pattern FILE_NAME = Pattern.compile("[^/\\\u0000-\u001f]+");

    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*([kmg]i?b?|b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

    /**
     * Reads every setting through {@code lookup} (which answers {@code null} for an absent one). {@code present}
     * lists the names actually given, so that a misspelt name is reported instead of ignored.
     */
    public static SluiceConfig from(UnaryOperator<String> lookup, Set<String> present) {
        for (String name : present) {
            if (Setting.byKey(name).isEmpty()) {
                throw new ConfigException("Unknown Sluice setting '" + name + "'; known settings: "
                        + String.join(", ", Arrays.stream(Setting.values()).map(Setting::key).toList()));
            }
        }
        Path root = root(lookup.apply(Setting.ROOT.key()));
        int chunkSize = (int) size(Setting.CHUNK_SIZE, lookup, EngineSettings.MIN_CHUNK_SIZE,
                EngineSettings.MAX_CHUNK_SIZE);
        int readAhead = (int) integer(Setting.READ_AHEAD, lookup, 1, 64);
        long maxBufferMemory = size(Setting.MAX_BUFFER_MEMORY, lookup, 1, Long.MAX_VALUE / 2);
        if (maxBufferMemory < chunkSize) {
            throw ConfigException.invalid(Setting.MAX_BUFFER_MEMORY, value(Setting.MAX_BUFFER_MEMORY, lookup),
                    "must hold at least one chunk (" + chunkSize + " bytes)");
        }
        int readThreads = (int) integer(Setting.READ_THREADS, lookup, 1, 1024);
        Duration stallTimeout = duration(Setting.STALL_TIMEOUT, lookup);
        BufferKind bufferKind = choice(Setting.BUFFER_KIND, lookup, Map.of("direct", BufferKind.DIRECT,
                "heap", BufferKind.HEAP, "mapped", BufferKind.MAPPED));
        SymlinkPolicy symlinks = choice(Setting.FOLLOW_SYMLINKS, lookup, Map.of("inside-root",
                SymlinkPolicy.INSIDE_ROOT, "never", SymlinkPolicy.NEVER));
        boolean serveHidden = choice(Setting.SERVE_HIDDEN, lookup, Map.of("true", true, "false", false));
        long limitRate = size(Setting.LIMIT_RATE, lookup, 0, Long.MAX_VALUE / 2);
        long limitRateAfter = size(Setting.LIMIT_RATE_AFTER, lookup, 0, Long.MAX_VALUE / 2);
        int maxTransfers = (int) integer(Setting.MAX_TRANSFERS, lookup, 0, 10_000_000);
        long globalRate = size(Setting.GLOBAL_RATE, lookup, 0, Long.MAX_VALUE / 2);
        long limitRatePerClient = size(Setting.LIMIT_RATE_PER_CLIENT, lookup, 0, Long.MAX_VALUE / 2);
        EngineSettings engine = new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads,
                stallTimeout, bufferKind, limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
        boolean sendfile = choice(Setting.SENDFILE, lookup, Map.of("true", true, "false", false));
        return new SluiceConfig(root, engine, symlinks, serveHidden, responses(lookup), sendfile,
                statusPath(lookup), signedLinks(lookup).orElse(null));
    }

    /** The longest key file read: a key is a few dozen bytes, a bigger file is the wrong file. */
    static final int MAX_KEY_FILE_BYTES = 64 * 1024;

    /**
     * The signing keys from {@code signingKey} or {@code signingKeyFile} and, for a rotation,
     * {@code signingKeyPrevious} or {@code signingKeyPreviousFile}; empty when no key is set. Messages never show a
     * key.
     */
    public static Optional<SignedLinks> signedLinks(UnaryOperator<String> lookup) {
        byte[] current = key(Setting.SIGNING_KEY, Setting.SIGNING_KEY_FILE, lookup);
        byte[] previous = key(Setting.SIGNING_KEY_PREVIOUS, Setting.SIGNING_KEY_PREVIOUS_FILE, lookup);
        if (current == null) {
            if (previous != null) {
                throw new ConfigException("Sluice setting '" + (value(Setting.SIGNING_KEY_PREVIOUS, lookup).isEmpty()
                        ? Setting.SIGNING_KEY_PREVIOUS_FILE : Setting.SIGNING_KEY_PREVIOUS).key()
                        + "' is set without 'signingKey' or 'signingKeyFile': the previous key only verifies links"
                        + " beside a current one");
            }
            return Optional.empty();
        }
        return Optional.of(SignedLinks.of(current, previous));
    }

    /** A key given inline (its UTF-8 bytes) or in a file (its bytes, trailing newlines trimmed); null if neither. */
    private static byte[] key(Setting inline, Setting file, UnaryOperator<String> lookup) {
        String text = value(inline, lookup);
        String path = value(file, lookup);
        if (!text.isEmpty() && !path.isEmpty()) {
            throw new ConfigException("Sluice settings '" + inline.key() + "' and '" + file.key()
                    + "' are both set: set one of them");
        }
        if (!text.isEmpty()) {
            byte[] key = text.getBytes(StandardCharsets.UTF_8);
            if (key.length < SignedLinks.MIN_KEY_BYTES) {
                throw new ConfigException("Sluice setting '" + inline.key() + "' is too short (" + key.length
                        + " bytes; the value is not shown): a signing key needs at least " + SignedLinks.MIN_KEY_BYTES
                        + " bytes");
            }
            return key;
        }
        if (path.isEmpty()) {
            return null;
        }
        byte[] content;
        try {
            Path keyFile = Path.of(path);
            if (!Files.isRegularFile(keyFile)) {
                throw ConfigException.invalid(file, path, "not an existing file");
            }
            if (Files.size(keyFile) > MAX_KEY_FILE_BYTES) {
                throw ConfigException.invalid(file, path, "larger than " + MAX_KEY_FILE_BYTES + " bytes: not a key");
            }
            content = Files.readAllBytes(keyFile);
        } catch (InvalidPathException e) {
            throw ConfigException.invalid(file, path, "not a valid path");
        } catch (NoSuchFileException e) {
            throw ConfigException.invalid(file, path, "not an existing file");
        } catch (IOException e) {
            throw ConfigException.invalid(file, path, "cannot be read: " + e.getClass().getSimpleName());
        }
        int length = content.length;
        while (length > 0 && (content[length - 1] == '\n' || content[length - 1] == '\r')) {
            length--;
        }
        if (length < SignedLinks.MIN_KEY_BYTES) {
            throw ConfigException.invalid(file, path, "holds " + length + " bytes (trailing newline trimmed): a"
                    + " signing key needs at least " + SignedLinks.MIN_KEY_BYTES + " bytes");
        }
        return Arrays.copyOf(content, length);
    }

    /** Empty: off. Otherwise a plain absolute path, compared as-is with the request's still-encoded path. */
    private static String statusPath(UnaryOperator<String> lookup) {
        String path = value(Setting.STATUS_PATH, lookup);
        if (path.isEmpty()) {
            return null;
        }
        if (!STATUS_PATH.matcher(path).matches() || Arrays.asList(path.split("/")).stream()
                .anyMatch(segment -> segment.equals(".") || segment.equals(".."))) {
            throw ConfigException.invalid(Setting.STATUS_PATH, path, "expected a path such as /.sluice/status: "
                    + "starts with '/', segments of letters, digits and . _ ~ - (no '.' or '..' segment, no '/' at the end)");
        }
        return path;
    }

    private static Responses responses(UnaryOperator<String> lookup) {
        boolean acceptRanges = choice(Setting.ACCEPT_RANGES, lookup, Map.of("true", true, "false", false));
        int maxRanges = (int) integer(Setting.MAX_RANGES, lookup, 1, 1000);
        String cacheControl = value(Setting.CACHE_CONTROL, lookup);
        if (cacheControl.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw ConfigException.invalid(Setting.CACHE_CONTROL, cacheControl, "control characters are not allowed");
        }
        Set<String> attachments = new LinkedHashSet<>();
        for (String extension : list(Setting.ATTACHMENT_EXTENSIONS, lookup)) {
            if (!EXTENSION.matcher(extension).matches()) {
                throw ConfigException.invalid(Setting.ATTACHMENT_EXTENSIONS, value(Setting.ATTACHMENT_EXTENSIONS,
                        lookup), "'" + extension + "' is not an extension (letters, digits, '-', '_'; no dot)");
            }
            attachments.add(extension.toLowerCase(Locale.ROOT));
        }
        String charset = value(Setting.TEXT_CHARSET, lookup);
        if (charset.equalsIgnoreCase("none")) {
            charset = "";
        } else {
            try {
                charset = Charset.forName(charset).name().toLowerCase(Locale.ROOT);
            } catch (IllegalArgumentException e) {
                throw ConfigException.invalid(Setting.TEXT_CHARSET, charset, "not a charset this JVM knows");
            }
        }
        List<String> codings = new ArrayList<>();
        for (String coding : list(Setting.PRECOMPRESSED, lookup)) {
            String lower = coding.toLowerCase(Locale.ROOT);
            if (!PrecompressedVariants.SUFFIXES.containsKey(lower)) {
                throw ConfigException.invalid(Setting.PRECOMPRESSED, value(Setting.PRECOMPRESSED, lookup),
                        "'" + coding + "' is not one of br, gzip, zstd");
            }
            codings.add(lower);
        }
        List<String> welcome = list(Setting.WELCOME_FILES, lookup);
        for (String name : welcome) {
            if (!FILE_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
                throw ConfigException.invalid(Setting.WELCOME_FILES, value(Setting.WELCOME_FILES, lookup),
                        "'" + name + "' is not a plain file name");
            }
        }
        boolean dirListing = choice(Setting.DIR_LISTING, lookup, Map.of("true", true, "false", false));
        return new Responses(acceptRanges, maxRanges, cacheControl.isEmpty() ? null : cacheControl,
                Set.copyOf(attachments), charset.isEmpty() ? null : charset, List.copyOf(codings),
                List.copyOf(welcome), dirListing);
    }

    private static List<String> list(Setting setting, UnaryOperator<String> lookup) {
        return Arrays.stream(value(setting, lookup).split(",")).map(String::trim).filter(v -> !v.isEmpty())
                .toList();
    }

    /** Reads settings from a map of names to values, as the launcher and tests have them. */
    public static SluiceConfig from(Map<String, String> values) {
        return from(values::get, values.keySet());
    }

    private static String value(Setting setting, UnaryOperator<String> lookup) {
        String value = lookup.apply(setting.key());
        if (value == null) {
            return setting.defaultValue();
        }
        value = value.trim();
        return value.isEmpty() && setting.defaultValue() != null && !setting.defaultValue().isEmpty()
                ? setting.defaultValue() : value;
    }

    private static Path root(String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException("Sluice setting 'root' is missing: set it to the directory to serve");
        }
        Path path;
        try {
            path = Path.of(value.trim());
        } catch (InvalidPathException e) {
            throw ConfigException.invalid(Setting.ROOT, value, "not a valid path");
        }
        if (!Files.isDirectory(path)) {
            throw ConfigException.invalid(Setting.ROOT, value, "not an existing directory");
        }
        if (!Files.isReadable(path) || !Files.isExecutable(path)) {
            throw ConfigException.invalid(Setting.ROOT, value, "directory is not readable");
        }
        try {
            return path.toRealPath();
        } catch (java.io.IOException e) {
            throw ConfigException.invalid(Setting.ROOT, value, "cannot be resolved: " + e.getMessage());
        }
    }

    static long size(Setting setting, UnaryOperator<String> lookup, long min, long max) {
        String value = value(setting, lookup);
        Matcher m = SIZE.matcher(value);
        String expected = "expected a size from " + min + " to " + max + " bytes, such as 65536, 64KiB or 1MiB";
        if (!m.matches()) {
            throw ConfigException.invalid(setting, value, expected);
        }
        long unit = switch (m.group(2) == null ? "b" : m.group(2).substring(0, 1).toLowerCase(Locale.ROOT)) {
            case "k" -> 1L << 10;
            case "m" -> 1L << 20;
            case "g" -> 1L << 30;
            default -> 1;
        };
        long number;
        try {
            number = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw ConfigException.invalid(setting, value, expected);
        }
        if (number < min || number > max) {
            throw ConfigException.invalid(setting, value, expected);
        }
        return number;
    }

    static long integer(Setting setting, UnaryOperator<String> lookup, long min, long max) {
        String value = value(setting, lookup);
        try {
            long number = Long.parseLong(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ConfigException.invalid(setting, value, "expected a whole number from " + min + " to " + max);
    }

    /** The longest duration setting: a day. The engine keeps durations in nanoseconds, good for 292 years. */
    static final Duration MAX_DURATION = Duration.ofDays(1);

    static Duration duration(Setting setting, UnaryOperator<String> lookup) {
        String value = value(setting, lookup);
        return parseDuration(value).filter(d -> !d.isZero() && d.compareTo(MAX_DURATION) <= 0)
                .orElseThrow(() -> ConfigException.invalid(setting, value,
                        "expected a positive duration up to 24h such as 500ms, 60s, 5m or 1h"));
    }

    /**
     * Reads a duration in the form Sluice's settings and the launcher's options take: a whole number with an
     * optional unit {@code ms}, {@code s}, {@code m} or {@code h} in any case (none: seconds), such as 500ms, 60s,
     * 5m or 1h. Empty when the text has another form; whether zero is allowed is the caller's decision, as is the
     * message that reports a bad value.
     */
    public static Optional<Duration> parseDuration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return Optional.empty();
        }
        long number = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        return Optional.of(switch (unit) {
            case "ms" -> Duration.ofMillis(number);
            case "m" -> Duration.ofMinutes(number);
            case "h" -> Duration.ofHours(number);
            default -> Duration.ofSeconds(number);
        });
    }

    static <T> T choice(Setting setting, UnaryOperator<String> lookup, Map<String, T> choices) {
        String value = value(setting, lookup);
        T choice = choices.get(value.toLowerCase(Locale.ROOT));
        if (choice == null) {
            throw ConfigException.invalid(setting, value, "expected one of " + String.join(", ",
                    choices.keySet().stream().sorted().toList()));
        }
        return choice;
    }
}
