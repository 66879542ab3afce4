package dev.sluice.servlet;

import dev.sluice.http.MediaTypes;
import dev.sluice.http.SignedLinks;
import dev.sluice.ops.AddressRanges;
import dev.sluice.resource.FileCache;
import dev.sluice.resource.FileResolver;
import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.BufferKind;
import dev.sluice.stream.EngineSettings;
import dev.sluice.stream.TransferEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Sluice's settings, read and checked once at start-up. Any problem stops start-up with a
 * {@link ConfigException} whose message names the setting and the value, so that a typo never leaves a server
 * running on the wrong directory or with a setting silently ignored.
 *
 * @param root the directory to serve, as given (made absolute): a symlink in it is followed anew by each lookup, so
 *        that switching it to another release takes effect without a restart
 * @param engine the transfer engine's settings
 * @param symlinks which symlinks may be followed
 * @param serveHidden whether dot-files are served
 * @param responses how files are answered
 * @param sendfile whether a container's own zero-copy file sending (Tomcat's sendfile) may be used
 * @param statusPath the raw path under the servlet that answers with the counters as JSON, or null when off
 * @param operations the other endpoints and logs for operators
 * @param signedLinks the keys that links must be signed with, or null when files are served without a signature
 * @param internalRoot the real path of the directory whose files applications hand over, apart from
 *        {@code root}; null when hand-offs are off
 * @param cache what is remembered of the files under {@code root} ({@code cacheMaxMemory} and its kin)
 */
public record SluiceConfig(Path root, EngineSettings engine, SymlinkPolicy symlinks, boolean serveHidden,
        Responses responses, boolean sendfile, String statusPath, Operations operations, SignedLinks signedLinks,
        Path internalRoot, FileCache.Settings cache) {

    /**
     * Whether no setting needs Sluice's engine to see each transfer: no speed limit to pace it and no cap on
     * running transfers to count it. Only then may a body be handed to the container to send by itself.
     */
    public boolean unthrottled() {
        return SluiceSender.unthrottled(engine);
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
            List<String> welcomeFiles, boolean dirListing, MediaTypes mediaTypes) {
    }

    /**
     * What operators get besides the status path.
     *
     * @param metricsPath the raw path under the servlet that answers with the counters in Prometheus' text format,
     *        or null when off
     * @param accessLog whether each download ends with a line on the logger {@code dev.sluice.access}
     * @param adminAllow the clients that may reach the status and metrics paths
     * @param adminRole the container role whose users may reach them from anywhere, or null
     */
    public record Operations(String metricsPath, boolean accessLog, AddressRanges adminAllow, String adminRole) {
    }

    /**
     * Reads every setting through {@code lookup} (which answers {@code null} for an absent one). {@code given} maps
     * each name a deployment gave to where it gave it (null if unknown), so that a misspelt name is reported, with
     * the closest real one, instead of ignored.
     */
    public static SluiceConfig from(UnaryOperator<String> lookup, Map<String, String> given) {
        return from(lookup, given, kind -> JvmBufferLimit.of(TransferEngine.buffersAreDirect(kind)));
    }

    /** As above, with the JVM's limit for each kind of buffer given: for tests. */
    static SluiceConfig from(UnaryOperator<String> lookup, Map<String, String> given,
            Function<BufferKind, JvmBufferLimit> limits) {
        given.forEach(Setting::requireKnown);
        Values values = new Values(lookup);
        Path root = values.get(Setting.ROOT); // its real path now, checked
        int chunkSize = Math.toIntExact(values.get(Setting.CHUNK_SIZE));
        long maxBufferMemory = values.get(Setting.MAX_BUFFER_MEMORY);
        if (maxBufferMemory < chunkSize) {
            throw ConfigException.invalid(Setting.MAX_BUFFER_MEMORY, values.text(Setting.MAX_BUFFER_MEMORY),
                    "must hold at least one chunk (chunkSize=" + SettingType.Size.describe(chunkSize) + ")");
        }
        JvmBufferLimit limit = limits.apply(values.get(Setting.BUFFER_KIND));
        if (chunkSize > limit.bytes()) {
            throw beyond(limit, Setting.CHUNK_SIZE, values);
        }
        if (values.given(Setting.MAX_BUFFER_MEMORY)) {
            if (maxBufferMemory > limit.bytes()) {
                throw beyond(limit, Setting.MAX_BUFFER_MEMORY, values);
            }
        } else if (maxBufferMemory > limit.bytes() / 2) {
            // The default must not fail downloads on a small JVM: half its limit leaves the container its share.
            maxBufferMemory = Math.max(chunkSize, limit.bytes() / 2);
        }
        int readThreads = values.get(Setting.READ_THREADS);
        // Unset, the maximum follows a readThreads above its default, so a configuration older than
        // maxReadThreads starts as before; set, it must hold readThreads.
        int maxReadThreads = values.given(Setting.MAX_READ_THREADS)
                ? values.get(Setting.MAX_READ_THREADS) : Math.max(values.get(Setting.MAX_READ_THREADS), readThreads);
        if (maxReadThreads < readThreads) {
            throw ConfigException.invalid(Setting.MAX_READ_THREADS, values.text(Setting.MAX_READ_THREADS),
                    "must be at least readThreads (" + readThreads + ")");
        }
        EngineSettings engine = EngineSettings.builder()
                .chunkSize(chunkSize)
                .readAhead(values.get(Setting.READ_AHEAD))
                .maxBufferMemory(maxBufferMemory)
                .readThreads(readThreads)
                .maxReadThreads(maxReadThreads)
                .stallTimeout(values.get(Setting.STALL_TIMEOUT))
                .bufferKind(values.get(Setting.BUFFER_KIND))
                .limitRate(values.get(Setting.LIMIT_RATE))
                .limitRateAfter(values.get(Setting.LIMIT_RATE_AFTER))
                .maxTransfers(values.get(Setting.MAX_TRANSFERS))
                .globalRate(values.get(Setting.GLOBAL_RATE))
                .limitRatePerClient(values.get(Setting.LIMIT_RATE_PER_CLIENT))
                .limitRatePerUser(values.get(Setting.LIMIT_RATE_PER_USER))
                .build();
        Responses responses = new Responses(values.get(Setting.ACCEPT_RANGES), values.get(Setting.MAX_RANGES),
                emptyToNull(values.get(Setting.CACHE_CONTROL)),
                Set.copyOf(values.get(Setting.ATTACHMENT_EXTENSIONS)),
                emptyToNull(values.get(Setting.TEXT_CHARSET)), values.get(Setting.PRECOMPRESSED),
                values.get(Setting.WELCOME_FILES), values.get(Setting.DIR_LISTING),
                mediaTypes(values.get(Setting.MIME_TYPES)));
        if (!values.get(Setting.SERVE_HIDDEN)) {
            for (String welcome : values.get(Setting.WELCOME_FILES)) {
                if (FileResolver.isHiddenName(welcome)) {
                    throw ConfigException.invalid(Setting.WELCOME_FILES, values.text(Setting.WELCOME_FILES),
                            welcome + " is a hidden name, never served while serveHidden=false");
                }
            }
        }
        String statusPath = emptyToNull(values.get(Setting.STATUS_PATH));
        String metricsPath = emptyToNull(values.get(Setting.METRICS_PATH));
        if (metricsPath != null && metricsPath.equals(statusPath)) {
            throw ConfigException.invalid(Setting.METRICS_PATH, metricsPath, "it is already the statusPath");
        }
        Operations operations = new Operations(metricsPath, values.get(Setting.ACCESS_LOG),
                AddressRanges.of(values.get(Setting.ADMIN_ALLOW)), emptyToNull(values.get(Setting.ADMIN_ROLE)));
        return new SluiceConfig(Path.of(values.text(Setting.ROOT)).toAbsolutePath(), engine,
                values.get(Setting.FOLLOW_SYMLINKS), values.get(Setting.SERVE_HIDDEN),
                responses, values.get(Setting.SENDFILE), statusPath, operations, signedLinks(lookup).orElse(null),
                internalRoot(values, root), new FileCache.Settings(values.get(Setting.CACHE_MAX_MEMORY),
                        values.get(Setting.CACHE_MAX_FILE_SIZE), values.get(Setting.CACHE_REVALIDATE)));
    }

    /** {@code setting}'s value is more than {@code limit}: what this JVM can give the buffers of the kind set. */
    private static ConfigException beyond(JvmBufferLimit limit, Setting<?> setting, Values values) {
        return ConfigException.invalid(setting, values.text(setting), "is more than this JVM can give the buffers of"
                + " bufferKind=" + values.text(Setting.BUFFER_KIND) + " (" + SettingType.Size.describe(limit.bytes()) + ", "
                + limit.source() + "): lower it, or raise the limit");
    }

    /** The {@code mimeTypes} pairs, {@code ext=type}, over the container's map and Sluice's own table. */
    private static MediaTypes mediaTypes(List<String> pairs) {
        java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();
        for (String pair : pairs) {
            int equals = pair.indexOf('=');
            overrides.put(pair.substring(0, equals), pair.substring(equals + 1));
        }
        return new MediaTypes(overrides);
    }

    /**
     * {@code internalRoot}, or null; refused when it is {@code root} or under it, where URLs would reach its
     * files. Both are real paths, so a symlink cannot hide the overlap.
     */
    private static Path internalRoot(Values values, Path root) {
        Path internal = values.get(Setting.INTERNAL_ROOT).orElse(null);
        if (internal != null && internal.startsWith(root)) {
            throw ConfigException.invalid(Setting.INTERNAL_ROOT, values.text(Setting.INTERNAL_ROOT),
                    (internal.equals(root) ? "it is" : "it is under") + " root (" + root + "), so URLs would reach"
                    + " its files; use a directory apart from root");
        }
        return internal;
    }

    /** The longest key file read: a key is a few dozen bytes, a bigger file is the wrong file. */
    static final int MAX_KEY_FILE_BYTES = 64 * 1024;

    /**
     * The signing keys from {@code signingKey} or {@code signingKeyFile} and, for a rotation,
     * {@code signingKeyPrevious} or {@code signingKeyPreviousFile}; empty when no key is set. Messages never show a
     * key.
     */
    public static Optional<SignedLinks> signedLinks(UnaryOperator<String> lookup) {
        Values values = new Values(lookup);
        byte[] current = key(Setting.SIGNING_KEY, Setting.SIGNING_KEY_FILE, values);
        byte[] previous = key(Setting.SIGNING_KEY_PREVIOUS, Setting.SIGNING_KEY_PREVIOUS_FILE, values);
        if (current == null) {
            if (previous != null) {
                throw new ConfigException("Sluice setting '" + (values.get(Setting.SIGNING_KEY_PREVIOUS).isEmpty()
                        ? Setting.SIGNING_KEY_PREVIOUS_FILE : Setting.SIGNING_KEY_PREVIOUS).key()
                        + "' is set without 'signingKey' or 'signingKeyFile': the previous key only verifies links"
                        + " beside a current one");
            }
            return Optional.empty();
        }
        return Optional.of(SignedLinks.of(current, previous));
    }

    /** A key given inline (its UTF-8 bytes) or in a file (its bytes, trailing newlines trimmed); null if neither. */
    private static byte[] key(Setting<String> inline, Setting<String> file, Values values) {
        String text = values.get(inline);
        String path = values.get(file);
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
        return path.isEmpty() ? null : keyFile(file, path);
    }

    private static byte[] keyFile(Setting<String> file, String path) {
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

    /** Reads settings from a map of names to values, as the launcher and tests have them. */
    public static SluiceConfig from(Map<String, String> values) {
        Map<String, String> given = new LinkedHashMap<>();
        values.keySet().forEach(name -> given.put(name, null));
        return from(values::get, given);
    }

    /**
     * Reads a duration in the form Sluice's settings and the launcher's options take: a whole number with an
     * optional unit {@code ms}, {@code s}, {@code m} or {@code h} in any case (none: seconds), such as 500ms, 60s,
     * 5m or 1h. Empty when the text has another form; whether zero is allowed is the caller's decision, as is the
     * message that reports a bad value.
     */
    public static Optional<Duration> parseDuration(String text) {
        return SettingType.Span.read(text);
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }

    /** The settings' texts as {@code lookup} gives them, read by their declarations. */
    private record Values(UnaryOperator<String> lookup) {

        <T> T get(Setting<T> setting) {
            return setting.read(lookup.apply(setting.key()));
        }

        /** Whether the setting was given a value (a blank one means the default). */
        boolean given(Setting<?> setting) {
            String given = lookup.apply(setting.key());
            return given != null && !given.isBlank();
        }

        /** The text the setting's value was read from: the given one, or the default. */
        String text(Setting<?> setting) {
            String given = lookup.apply(setting.key());
            return given == null || given.isBlank() ? setting.defaultValue() : given.trim();
        }
    }
}
