package dev.sluice.servlet;

import dev.sluice.http.MediaTypes;
import dev.sluice.ops.AddressRanges;
import dev.sluice.resource.PrecompressedVariants;
import dev.sluice.resource.SymlinkPolicy;
import dev.sluice.stream.BufferKind;
import dev.sluice.stream.EngineSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every setting Sluice has, each declared once: its one name (a {@code web.xml} init-param, a launcher option
 * {@code --name=value}, a Jetty module property {@code sluice.name}), its {@link SettingType type} with its bounds,
 * its default and its help text. Parsing, the messages for bad values, the launcher's {@code --help}, the Jetty
 * module's ini template and the README's table all come from here; the engine's bounds and defaults are
 * {@link EngineSettings}' own.
 *
 * <p>Help text is Markdown: {@code `code`} marks values and names, and {@code {range}} stands for the bounds or
 * choices of the type, so that they are written only once. {@link #help()} is one sentence or two for
 * {@code --help} and the ini file; {@link #details()} adds what only the README says.
 *
 * @param <T> the type of the setting's value
 */
public final class Setting<T> {

    private static final List<Setting<?>> ALL = new ArrayList<>();
    private static final EngineSettings ENGINE = EngineSettings.defaults();
    private static final Pattern CODE = Pattern.compile("`([^`]*)`");

    public static final Setting<Path> ROOT = declare("root", new SettingType.Directory(), null,
            "Directory to serve. Required in a WAR or the Jetty module; the launcher serves a demo directory"
                    + " without it.", "A symlink (`current -> releases/42`) is followed anew: switched to another"
                    + " release, it is served within a second plus `cacheRevalidate` (twice that at worst; delete the"
                    + " old release after that).");
    public static final Setting<Optional<Path>> INTERNAL_ROOT = declare("internalRoot",
            new SettingType.OptionalDirectory(), Optional.empty(),
            "Directory of files that applications hand over (Java API, forward, `X-Sluice-File` header) and no URL"
                    + " reaches; not `root` nor under it; empty: no hand-offs.",
            "See [Protecting downloads](docs/protecting-downloads.md).");
    public static final Setting<Long> CHUNK_SIZE = declare("chunkSize",
            SettingType.Size.within(EngineSettings.CHUNK_SIZE_BOUNDS), (long) ENGINE.chunkSize(),
            "Largest chunk per file read and write (chunks adapt from 16KiB up to it): {range}.",
            "Each download sizes its chunks to what its client drains in about 20 ms, from 16 KiB (or `chunkSize`"
                    + " if smaller) up to this. Mapped chunks (`bufferKind`) of a download with no speed limit grow"
                    + " to 4 MiB, or to this if larger (while every read thread is busy, this for pages that come from"
                    + " the storage, or 512 KiB if larger where a span's pages are asked for at once).");
    public static final Setting<Integer> READ_AHEAD = declare("readAhead",
            SettingType.Whole.within(EngineSettings.READ_AHEAD_BOUNDS), ENGINE.readAhead(),
            "Chunk buffers one download may hold (being read, ready, being written): {range}.",
            "2 lets the disk read of chunk n+1 overlap the network write of chunk n. A download whose client has"
                    + " taken nothing for a second or two gives back all but the chunk being written, and reads them again"
                    + " when it takes data.");
    public static final Setting<Long> MAX_BUFFER_MEMORY = declare("maxBufferMemory",
            SettingType.Size.within(EngineSettings.MAX_BUFFER_MEMORY_BOUNDS), ENGINE.maxBufferMemory(),
            "Chunk-buffer bytes all downloads together may hold; a download that finds it spent waits.",
            "It must hold one chunk (`chunkSize`). Mapped chunks are pages of the file, not buffers, and do not"
                    + " count. It must fit what the JVM can give the buffers (`-XX:MaxDirectMemorySize`, unset the"
                    + " heap's maximum; the heap's maximum for `heap` and on Servlet 6.0 containers, whose buffers are"
                    + " on the heap), or start-up stops; unset, it is at most half of that. A client that was fast"
                    + " and then stops reading keeps the chunk being written, of the size it earned, until"
                    + " `stallTimeout` ends it (those read ahead go back after a second or two): enough of them spend the"
                    + " budget, and new downloads that need buffers wait that long (mapped chunks need none).");
    public static final Setting<Integer> READ_THREADS = declare("readThreads",
            SettingType.Whole.within(EngineSettings.READ_THREADS_BOUNDS), ENGINE.readThreads(),
            "Threads reading files: {range}, plus one for first reads of new downloads.",
            "That one takes nothing else, and only when it is idle (see \"How the defaults were chosen\").");
    public static final Setting<Integer> MAX_READ_THREADS = declare("maxReadThreads",
            SettingType.Whole.within(EngineSettings.MAX_READ_THREADS_BOUNDS), ENGINE.maxReadThreads(),
            "Most threads reading files: {range}, at least `readThreads` (unset: 64, or `readThreads` if more);"
                    + " the pool grows to it only while reads queue up and wait for the storage.",
            "A read from memory never grows it; on Linux neither does a wait for a core. Threads beyond"
                    + " `readThreads` end once reads stop waiting, or after 30 s without work. On slow storage the"
                    + " threads added move more bytes but also run downloads' writes, so small files wait longer"
                    + " ([slow storage](docs/performance.md#slow-storage)): set it to `readThreads` to keep them"
                    + " first. With 10,000 slow clients of cached files, the first byte came later with the default"
                    + " in 7 of 10 runs ([measured](docs/performance.md#another-machine-2026-12-06)). It also bounds"
                    + " the threads that open new downloads' files.");
    public static final Setting<Duration> STALL_TIMEOUT = declare("stallTimeout",
            new SettingType.Span(EngineSettings.MAX_STALL_TIMEOUT), ENGINE.stallTimeout(),
            "A download whose client accepts no byte for this long is ended: {range} (ms, s, m or h; plain number:"
                    + " seconds).",
            "Downloads that make progress are never cut, however long they take (the container's wall-clock async"
                    + " timeout is switched off), if the container's socket timeout is longer: the launcher and the"
                    + " Jetty module set 65 s, Tomcat's `server.xml` has 20 s. Progress is seen when the socket takes"
                    + " data again, after up to about 1.5 MB drained: at 60 s, a client below about 25 KB/s may be cut"
                    + " (see \"Timeouts\" in docs/containers.md).");
    public static final Setting<BufferKind> BUFFER_KIND = declare("bufferKind",
            SettingType.OneOf.of(kind -> kind.name().toLowerCase(Locale.ROOT), BufferKind.values()),
            ENGINE.bufferKind(),
            "{range} chunk buffers (`mapped`: files longer than a chunk are sent from a read-only mapping on Jetty,"
                    + " `direct` on Tomcat and over TLS; `heap` is forced on Servlet 6.0 containers).",
            "`mapped` sends a file region longer than `chunkSize` from read-only mappings of the file (64 MiB"
                    + " windows shared by all downloads of the same file), whose pages a read thread brings into"
                    + " memory before the container writes them; its chunks grow to 4 MiB (`chunkSize` under a"
                    + " speed limit, or while their pages come from the storage and every read thread is busy), and"
                    + " shorter regions use direct buffers. `direct` and `heap` read every chunk into a pooled"
                    + " buffer. Servlet 6.0 has no `write(ByteBuffer)`. Tomcat copies the part of a write its socket"
                    + " did not take, and TLS encrypts it: a copy from pages a truncation of the file took away is a"
                    + " fault the JVM reports later, in unrelated code, so they get `direct`. See \"Mapped files\".");
    public static final Setting<Long> LIMIT_RATE = declare("limitRate",
            SettingType.Size.within(EngineSettings.RATE_BOUNDS), ENGINE.limitRate(),
            "Most bytes per second one download may take, e.g. `1MiB`; `0`: no limit.",
            "A download over its limit waits on a timer, holding no thread. Its chunks are worth at most 250 ms"
                    + " at the limit (at least 1 KiB), and its first goes at once, with the response's head: 16 KiB"
                    + " or less, or what the connection's last download earned if that is worth at most 250 ms.");
    public static final Setting<Long> LIMIT_RATE_AFTER = declare("limitRateAfter",
            SettingType.Size.within(EngineSettings.RATE_BOUNDS), ENGINE.limitRateAfter(),
            "Bytes one download gets at full speed before `limitRate` applies, e.g. `4MiB` (a video starts fast,"
                    + " then streams at its bitrate).",
            "Exact to the byte.");
    public static final Setting<Integer> MAX_TRANSFERS = declare("maxTransfers",
            SettingType.Whole.within(EngineSettings.MAX_TRANSFERS_BOUNDS), ENGINE.maxTransfers(),
            "Most downloads running at once; more get 503 with Retry-After instead of piling up; `0`: no limit.",
            "The 503 says `Retry-After: 5`. Memory is bounded by `maxBufferMemory` either way.");
    public static final Setting<Long> GLOBAL_RATE = declare("globalRate",
            SettingType.Size.within(EngineSettings.RATE_BOUNDS), ENGINE.globalRate(),
            "Most bytes per second all downloads together may take, shared fairly, e.g. `100MiB`; `0`: no limit.",
            "With N downloads each gets about 1/N, a download whose client reads slower than its share leaves the"
                    + " rest to the others, and a new or small download goes ahead of long-running ones for its"
                    + " first half second's worth of the rate.");
    public static final Setting<Long> LIMIT_RATE_PER_CLIENT = declare("limitRatePerClient",
            SettingType.Size.within(EngineSettings.RATE_BOUNDS), ENGINE.limitRatePerClient(),
            "Most bytes per second all downloads of one client address may take together, e.g. `2MiB`; `0`: no"
                    + " limit.",
            "Ten connections do not buy ten times the bandwidth; they share it fairly, like `globalRate`. The"
                    + " budget spans the client's requests, at once or one after another (a file fetched in short"
                    + " ranges meets the debt of the last range), and is forgotten once what the client took is"
                    + " paid for at this rate (at most `chunkSize` / this rate + 50 ms after its last download"
                    + " ends).");
    public static final Setting<Long> LIMIT_RATE_PER_USER = declare("limitRatePerUser",
            SettingType.Size.within(EngineSettings.RATE_BOUNDS), ENGINE.limitRatePerUser(),
            "Most bytes per second all downloads of one user may take together, e.g. `2MiB`; `0`: no limit. The"
                    + " user is the authenticated user, or the key an application gives when it hands a download to"
                    + " Sluice; a download with no user is not limited by it.",
            "A user's downloads count together from any address, and users share fairly, like clients under"
                    + " `limitRatePerClient` (the budget spans the user's requests and is forgotten the same way)."
                    + " See \"Protecting paths\".");
    public static final Setting<Boolean> SENDFILE = declare("sendfile", SettingType.OneOf.trueOrFalse(), true,
            "On Tomcat with sendfile on its connector: a whole file or one range, with no speed limit and no"
                    + " `maxTransfers`, is sent by Tomcat's sendfile (Sluice's URLs and the header hand-off, not"
                    + " `SluiceSender.send`); in the launcher (`--sendfile`, default `remote`): Sluice's engine"
                    + " sends its mapped chunks with sendfile on HTTP/1.1 to clients on other machines (`true`: to"
                    + " every client); `false`: always Sluice's engine, copying.",
            "Speed limits are `limitRate`, `globalRate`, `limitRatePerClient` and `limitRatePerUser`. Sendfile sends"
                    + " the file from the kernel without copying it through the JVM, so the bytes queued for a socket"
                    + " are read from the file as they leave, and on Tomcat a handed-off body is not checked at all"
                    + " after the hand-off: where files change in place while served, `false`."
                    + " Over loopback, copying sent more than sendfile in the benchmark runs of 2026-12-06 to 08 and cost"
                    + " the machine less CPU in total (the receiver pays more for sendfile's bytes), so the launcher"
                    + " copies to a client on its own machine, such as a local reverse proxy"
                    + " ([measured](docs/sendfile-jetty.md#a-client-on-the-same-machine))."
                    + " See \"Tomcat's sendfile\" and [sendfile on Jetty](docs/sendfile-jetty.md).");
    public static final Setting<Long> CACHE_MAX_MEMORY = declare("cacheMaxMemory", new SettingType.Size(0, 1L << 30),
            10L << 20,
            "Memory for what Sluice remembers of recently requested files (existence, size, time, real path) and the"
                    + " bytes of small ones (`cacheMaxFileSize`), least recently used out first: {range}; `0`: off.",
            "A request for a remembered file needs no `stat`, and for a small one no `open` and no read, which"
                    + " matters on network or FUSE mounts. A file changed on disk may be served in its old version for"
                    + " up to `cacheRevalidate` (twice that at worst)."
                    + " See [Operations](docs/operations.md#file-cache).");
    public static final Setting<Long> CACHE_MAX_FILE_SIZE = declare("cacheMaxFileSize",
            new SettingType.Size(0, 16L << 20), 64L << 10,
            "Largest file whose bytes `cacheMaxMemory` keeps: {range}; `0`: metadata only.", "");
    public static final Setting<Duration> CACHE_REVALIDATE = declare("cacheRevalidate",
            new SettingType.Span(Duration.ofHours(1)), Duration.ofSeconds(5),
            "How long a remembered file is used before one background check asks the storage again: {range}.", "");
    public static final Setting<SymlinkPolicy> FOLLOW_SYMLINKS = declare("followSymlinks",
            SettingType.OneOf.of(SymlinkPolicy::settingValue, SymlinkPolicy.values()), SymlinkPolicy.INSIDE_ROOT,
            "`inside-root`: serve symlinks whose target stays under the root; `never`: refuse every symlink.", "");
    public static final Setting<Boolean> SERVE_HIDDEN = declare("serveHidden", SettingType.OneOf.trueOrFalse(),
            false, "Serve files and directories whose name starts with a dot.", "");
    public static final Setting<Boolean> ACCEPT_RANGES = declare("acceptRanges", SettingType.OneOf.trueOrFalse(),
            true, "Answer `Range` requests (206, `multipart/byteranges`, 416).",
            "`false`: always the whole file, `Accept-Ranges: none`.");
    public static final Setting<Integer> MAX_RANGES = declare("maxRanges", new SettingType.Whole(1, 1000), 16,
            "Most ranges one request may ask for ({range}); more are answered with the whole file (200).",
            "Many small ranges cost more than they save, and are a known amplification attack.");
    public static final Setting<String> CACHE_CONTROL = declare("cacheControl",
            new SettingType.Text(text -> text.chars().allMatch(c -> c >= 0x20 && c <= 0x7e || c == '\t'),
                    "only visible ASCII, spaces and tabs are allowed"), "",
            "`Cache-Control` value sent with files and with 304s, e.g. `public, max-age=3600`; empty: none.", "");
    public static final Setting<List<String>> ATTACHMENT_EXTENSIONS = declare("attachmentExtensions",
            SettingType.ListOf.matching(Pattern.compile("[A-Za-z0-9_-]+"),
                    "an extension (letters, digits, '-', '_'; no dot)", true), List.of(),
            "Comma-separated extensions (e.g. `zip,iso`) sent as downloads (`Content-Disposition: attachment`).",
            "`?download` (any value but `0`, `false`, `no` or `off`) does the same for any file.");
    public static final Setting<String> TEXT_CHARSET = declare("textCharset", new SettingType.CharsetName(),
            "utf-8", "Charset announced for `text/*`, JSON, JavaScript, XML and SVG; `none`: no charset.", "");
    public static final Setting<List<String>> MIME_TYPES = declare("mimeTypes",
            SettingType.ListOf.matching(Pattern.compile(MediaTypes.EXTENSION.pattern() + "=" + MediaTypes.TYPE
                    .pattern()), "an extension=type pair such as m3u8=application/vnd.apple.mpegurl", true), List.of(),
            "Comma-separated `extension=type` pairs (e.g. `m3u8=application/vnd.apple.mpegurl,log=text/plain`):"
                    + " the `Content-Type` of files by extension, over the container's MIME map.",
            "Where neither names a type, Sluice's own table of common video, audio, image, archive and data types"
                    + " does (`webm`, `m3u8`, `ts`, `mkv`, `flac`, `7z`, `deb` ...), else `application/octet-stream`.");
    public static final Setting<List<String>> PRECOMPRESSED = declare("precompressed",
            SettingType.ListOf.oneOf(PrecompressedVariants.SUFFIXES.keySet()), List.of(),
            "Comma-separated codings ({range}), in order of preference, whose precompressed files are served.",
            "`file.br`, `file.gz` or `file.zst` is sent instead of `file` when the client accepts its coding and it"
                    + " is not older than `file`.");
    public static final Setting<List<String>> WELCOME_FILES = declare("welcomeFiles",
            SettingType.ListOf.matching(Pattern.compile("(?!\\.\\.?$)[^/\\\u0000-\u001f]+"),
                    "a plain file name", false), List.of("index.html"),
            "Comma-separated names served for a directory; the first found wins.", "");
    public static final Setting<Boolean> DIR_LISTING = declare("dirListing", SettingType.OneOf.trueOrFalse(),
            false, "List directories that have no welcome file (otherwise 403).",
            "The listing is HTML, names escaped, hidden entries left out.");
    public static final Setting<String> STATUS_PATH = declare("statusPath",
            new SettingType.Text(Setting::isStatusPath, "expected a path such as /.sluice/status: starts with"
                    + " '/', segments of letters, digits and . _ ~ - (no '.' or '..' segment, no '/' at the end)"),
            "",
            "Path under the servlet (e.g. `/.sluice/status`) answering GET and HEAD with the counters and the"
                    + " downloads in flight as JSON, and a browser with a live page; it shadows a file of that name;"
                    + " empty: off.",
            "Only `adminAllow` clients reach it (others get 404). The answer has `Cache-Control: no-store`. When"
                    + " off, the path is a file path like any other. See \"Operations\".");
    public static final Setting<String> METRICS_PATH = declare("metricsPath",
            new SettingType.Text(Setting::isStatusPath, "expected a path such as /.sluice/metrics: starts with"
                    + " '/', segments of letters, digits and . _ ~ - (no '.' or '..' segment, no '/' at the end)"),
            "",
            "Path under the servlet (e.g. `/.sluice/metrics`) answering GET and HEAD with the counters in"
                    + " Prometheus' text format; it shadows a file of that name; empty: off.",
            "Only `adminAllow` clients reach it (others get 404). See \"Operations\".");
    public static final Setting<Boolean> ACCESS_LOG = declare("accessLog", SettingType.OneOf.trueOrFalse(), false,
            "One line per download (completed, aborted or failed) on the logger `dev.sluice.access` at INFO: client,"
                    + " user, path, range, status, bytes, duration, outcome, waits.",
            "It goes through `java.util.logging`, so it lands where the container's log lines go. The format is in"
                    + " \"Operations\".");
    public static final Setting<List<String>> ADMIN_ALLOW = declare("adminAllow",
            new SettingType.ListOf(AddressRanges::isRange,
                    "an IP address or CIDR range (e.g. 10.0.0.0/8, ::1, 2001:db8::/32)", true, List.of()),
            AddressRanges.LOOPBACK,
            "Comma-separated addresses and CIDR ranges (e.g. `10.0.0.0/8,2001:db8::/32`) whose clients may reach"
                    + " `statusPath` and `metricsPath`; others get 404.",
            "The default is loopback only. The address is the request's (`getRemoteAddr()`): behind a proxy,"
                    + " let the container take the client's address from `X-Forwarded-For` or `Forwarded`.");
    public static final Setting<String> ADMIN_ROLE = declare("adminRole",
            new SettingType.Text(text -> text.chars().noneMatch(c -> c <= 0x20 || c == 0x7f || c == ','),
                    "expected one role name, without spaces or commas"), "",
            "Container role whose users may reach `statusPath` and `metricsPath` from any address; empty: none.",
            "The container authenticates them (a `<security-constraint>` or a realm); Sluice only asks"
                    + " `isUserInRole`.");

    public static final Setting<String> SIGNING_KEY = declare("signingKey", SettingType.Text.any(), "",
            "Secret (at least 16 bytes) for signed, expiring links: set, a file is served only for a link signed with"
                    + " it (403 without, 410 once expired); empty: off. Prefer `signingKeyFile`.",
            "The link format and how to mint links are in \"Signed links\".");
    public static final Setting<String> SIGNING_KEY_FILE = declare("signingKeyFile", SettingType.Text.any(), "",
            "File holding the signing key (its bytes, trailing newline trimmed), instead of `signingKey`.", "");
    public static final Setting<String> SIGNING_KEY_PREVIOUS = declare("signingKeyPrevious", SettingType.Text.any(),
            "", "The key before the current one, for a rotation: links signed with it are still served.", "");
    public static final Setting<String> SIGNING_KEY_PREVIOUS_FILE = declare("signingKeyPreviousFile",
            SettingType.Text.any(), "", "File holding the previous signing key, instead of `signingKeyPrevious`.", "");

    private static final List<Setting<?>> VALUES = Collections.unmodifiableList(ALL);
    private static final Pattern STATUS_PATH_FORM = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

    private final String key;
    private final SettingType<T> type;
    private final T defaultValue;
    private final String help;
    private final String details;

    private Setting(String key, SettingType<T> type, T defaultValue, String help, String details) {
        this.key = key;
        this.type = type;
        this.defaultValue = defaultValue;
        this.help = help.replace("{range}", type.range());
        this.details = details;
    }

    private static <T> Setting<T> declare(String key, SettingType<T> type, T defaultValue, String help,
            String details) {
        Setting<T> setting = new Setting<>(key, type, defaultValue, help, details);
        ALL.add(setting);
        return setting;
    }

    /** Every setting, in the order help text and the README list them. */
    public static List<Setting<?>> values() {
        return VALUES;
    }

    /** The setting named {@code key}, exactly (names are case-sensitive). */
    public static Optional<Setting<?>> byKey(String key) {
        return VALUES.stream().filter(s -> s.key.equals(key)).findFirst();
    }

    /**
     * Fails unless {@code name} is a setting's, with a message that names it, says where it was given and, when
     * one is close, the setting it was probably meant to be.
     *
     * @param where where the name was given, such as {@code context init-param sluice.chunksize}; null if unknown
     * @throws ConfigException if no setting has the name
     */
    public static void requireKnown(String name, String where) {
        if (byKey(name).isPresent()) {
            return;
        }
        List<String> keys = VALUES.stream().map(Setting::key).toList();
        String unknown = "Unknown Sluice setting '" + name + "'" + (where == null ? "" : " (" + where + ")");
        throw new ConfigException(ClosestName.among(keys, name).map(key -> unknown + ": did you mean '" + key + "'?")
                .orElse(unknown + "; known settings: " + String.join(", ", keys)));
    }

    /**
     * Checks a deployment's name that lacks the {@code sluice.} prefix (a context init-param, a context attribute,
     * a property of the Jetty module) for one meant for Sluice that would reach nothing. A misspelt or wrongly cased
     * prefix ({@code sluise.limitRate}, {@code Sluice.limitRate}) or the right name behind dashes
     * ({@code --sluice.limitRate}, a launcher habit that Jetty's start.jar takes for a JVM option) stops start-up.
     * A setting's bare name ({@code limitRate}, {@code --limitRate}) may also be another component's (an
     * application sharing the web application, another webapp's system property), so it only gets a warning,
     * returned for the caller to log. Any other name is left alone.
     *
     * @param name the name as given (for a {@code -D} system property, without the {@code -D})
     * @param where where it was given, for the message
     * @return the warning for a setting's bare name; empty for any other name
     * @throws ConfigException for a name that can only have been meant for Sluice
     */
    public static Optional<String> checkUnprefixed(String name, String where) {
        String prefixDot = SluiceServlet.CONTEXT_PREFIX;
        if (name.startsWith(prefixDot)) {
            return Optional.empty(); // requireKnown's
        }
        String bare = name.replaceFirst("^-+", "");
        int dot = bare.indexOf('.');
        if (dot < 0) {
            return byKeyIgnoringCase(bare).map(key -> "Sluice does not read '" + name + "' (" + where
                    + "): if it is meant for Sluice, name it '" + prefixDot + key + "'.");
        }
        String meant;
        if (bare.startsWith(prefixDot)) {
            meant = bare; // only dashes before the right name
        } else if (ClosestName.among(List.of(prefixDot.substring(0, prefixDot.length() - 1)), bare.substring(0, dot))
                .isPresent()) {
            String rest = bare.substring(dot + 1);
            meant = prefixDot + byKeyIgnoringCase(rest).or(() -> ClosestName.among(VALUES.stream().map(Setting::key)
                    .toList(), rest)).orElse(rest);
        } else {
            return Optional.empty();
        }
        throw new ConfigException("Unknown Sluice setting '" + name + "' (" + where + "): did you mean '" + meant
                + "'? Sluice reads its settings there as " + prefixDot + "<name> only.");
    }

    private static Optional<String> byKeyIgnoringCase(String name) {
        return VALUES.stream().map(Setting::key).filter(key -> key.equalsIgnoreCase(name)).findFirst();
    }

    /** The setting's name, the same in web.xml, on the launcher's command line and in the Jetty module. */
    public String key() {
        return key;
    }

    /** The form of the setting's value, with its bounds. */
    public SettingType<T> type() {
        return type;
    }

    /** The default as a user would write it, or {@code null} for a required setting. */
    public String defaultValue() {
        return defaultValue == null ? null : type.format(defaultValue);
    }

    /** What the setting does, with its bounds, in Markdown. */
    public String help() {
        return help;
    }

    /** What the README adds to {@link #help()}, in Markdown; may be empty. */
    public String details() {
        return details;
    }

    /** {@link #help()} as plain text, for {@code --help} and the ini file. */
    public String description() {
        return plain(help);
    }

    /**
     * The value of the setting given as {@code text}: its default when the text is null or blank.
     *
     * @throws ConfigException naming the setting and the value if the text is not a value of the setting, or if a
     *     required setting is missing (null) or empty (blank)
     */
    public T read(String text) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty()) {
            if (defaultValue == null) {
                throw new ConfigException("Sluice setting '" + key + "' is " + (text == null ? "missing" : "empty")
                        + ": " + type.missing());
            }
            return defaultValue;
        }
        try {
            return type.parse(trimmed);
        } catch (SettingType.Rejected e) {
            throw ConfigException.invalid(this, trimmed, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return key;
    }

    /**
     * Markdown to plain text: {@code `x`} becomes {@code x}, or {@code 'x'} when it holds a comma (so that
     * {@code 'public, max-age=3600'} still reads as one value).
     */
    static String plain(String markdown) {
        Matcher m = CODE.matcher(markdown);
        StringBuilder text = new StringBuilder();
        while (m.find()) {
            String code = m.group(1);
            m.appendReplacement(text, Matcher.quoteReplacement(code.contains(",") ? "'" + code + "'" : code));
        }
        return m.appendTail(text).toString();
    }

    /** A plain absolute path, compared as-is with the request's still-encoded path; empty: off. */
    private static boolean isStatusPath(String path) {
        return path.isEmpty() || STATUS_PATH_FORM.matcher(path).matches()
                && Arrays.stream(path.split("/")).noneMatch(segment -> segment.equals(".") || segment.equals(".."));
    }
}
