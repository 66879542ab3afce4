package dev.sluice.servlet;

import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.EngineSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

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
 * @param internalRoot the real path of the directory whose files applications hand over, apart from
 *        {@code root}; null when hand-offs are off
 */
public record SluiceConfig(Path root, EngineSettings engine, SymlinkPolicy symlinks, boolean serveHidden,
        Responses responses, boolean sendfile, String statusPath, Path internalRoot) {

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
            List<String> welcomeFiles, boolean dirListing) {
    }

    /**
     * Reads every setting through {@code lookup} (which answers {@code null} for an absent one). {@code present}
     * lists the names actually given, so that a misspelt name is reported instead of ignored.
     */
    public static SluiceConfig from(UnaryOperator<String> lookup, Set<String> present) {
        for (String name : present) {
            if (Setting.byKey(name).isEmpty()) {
                throw new ConfigException("Unknown Sluice setting '" + name + "'; known settings: "
                        + String.join(", ", Setting.values().stream().map(Setting::key).toList()));
            }
        }
        Values values = new Values(lookup);
        Path root = values.get(Setting.ROOT);
        int chunkSize = Math.toIntExact(values.get(Setting.CHUNK_SIZE));
        long maxBufferMemory = values.get(Setting.MAX_BUFFER_MEMORY);
        if (maxBufferMemory < chunkSize) {
            throw ConfigException.invalid(Setting.MAX_BUFFER_MEMORY, values.text(Setting.MAX_BUFFER_MEMORY),
                    "must hold at least one chunk (" + chunkSize + " bytes)");
        }
        EngineSettings engine = EngineSettings.builder()
                .chunkSize(chunkSize)
                .readAhead(values.get(Setting.READ_AHEAD))
                .maxBufferMemory(maxBufferMemory)
                .readThreads(values.get(Setting.READ_THREADS))
                .stallTimeout(values.get(Setting.STALL_TIMEOUT))
                .bufferKind(values.get(Setting.BUFFER_KIND))
                .limitRate(values.get(Setting.LIMIT_RATE))
                .limitRateAfter(values.get(Setting.LIMIT_RATE_AFTER))
                .maxTransfers(values.get(Setting.MAX_TRANSFERS))
                .globalRate(values.get(Setting.GLOBAL_RATE))
                .limitRatePerClient(values.get(Setting.LIMIT_RATE_PER_CLIENT))
                .build();
        Responses responses = new Responses(values.get(Setting.ACCEPT_RANGES), values.get(Setting.MAX_RANGES),
                emptyToNull(values.get(Setting.CACHE_CONTROL)),
                Set.copyOf(values.get(Setting.ATTACHMENT_EXTENSIONS)),
                emptyToNull(values.get(Setting.TEXT_CHARSET)), values.get(Setting.PRECOMPRESSED),
                values.get(Setting.WELCOME_FILES), values.get(Setting.DIR_LISTING));
        return new SluiceConfig(root, engine, values.get(Setting.FOLLOW_SYMLINKS), values.get(Setting.SERVE_HIDDEN),
                responses, values.get(Setting.SENDFILE), emptyToNull(values.get(Setting.STATUS_PATH)),
                internalRoot(values, root));
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

    /** Reads settings from a map of names to values, as the launcher and tests have them. */
    public static SluiceConfig from(Map<String, String> values) {
        return from(values::get, values.keySet());
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

        /** The text the setting's value was read from: the given one, or the default. */
        String text(Setting<?> setting) {
            String given = lookup.apply(setting.key());
            return given == null || given.isBlank() ? setting.defaultValue() : given.trim();
        }
    }
}
