package dev.sluice.servlet;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every setting Sluice has, with the one name it goes by everywhere: a {@code web.xml} init-param, a launcher
 * option {@code --name=value}, and a Jetty module property {@code sluice.name}.
 */
public enum Setting {
    ROOT("root", null,
            "Directory to serve. Required in a WAR or the Jetty module; the launcher serves a demo directory without it."),
    CHUNK_SIZE("chunkSize", "256KiB", "Largest chunk per file read and write (chunks adapt from 16KiB up to it): 1KiB to 16MiB."),
    READ_AHEAD("readAhead", "2", "Chunk buffers one download may hold (being read, ready, being written): 1 to 64."),
    MAX_BUFFER_MEMORY("maxBufferMemory", "256MiB",
            "Chunk-buffer bytes all downloads together may hold; a download that finds it spent waits."),
    READ_THREADS("readThreads", "8", "Threads reading files: 1 to 1024, plus one for first reads of new downloads."),
    STALL_TIMEOUT("stallTimeout", "60s",
            "A download whose client accepts no byte for this long is ended (ms, s, m or h; plain number: seconds;"
                    + " at most 24h)."),
    BUFFER_KIND("bufferKind", "mapped",
            "direct, heap or mapped chunk buffers (mapped: files longer than a chunk are sent from a read-only"
                    + " mapping; heap is forced on Servlet 6.0 containers)."),
    LIMIT_RATE("limitRate", "0",
            "Most bytes per second one download may take, e.g. 1MiB; 0: no limit."),
    LIMIT_RATE_AFTER("limitRateAfter", "0",
            "Bytes one download gets at full speed before limitRate applies, e.g. 4MiB (a video starts fast)."),
    MAX_TRANSFERS("maxTransfers", "0",
            "Most downloads running at once; more get 503 with Retry-After instead of piling up. 0: no limit."),
    GLOBAL_RATE("globalRate", "0",
            "Most bytes per second all downloads together may take, shared fairly, e.g. 100MiB; 0: no limit."),
    LIMIT_RATE_PER_CLIENT("limitRatePerClient", "0",
            "Most bytes per second all downloads of one client address may take together, e.g. 2MiB; 0: no limit."),
    SENDFILE("sendfile", "true",
            "On Tomcat with sendfile on its connector: a whole file or one range, with no speed limit and no"
                    + " maxTransfers, is sent by Tomcat's sendfile; false: always Sluice's engine."),
    FOLLOW_SYMLINKS("followSymlinks", "inside-root",
            "inside-root: serve symlinks whose target stays under the root; never: refuse every symlink."),
    SERVE_HIDDEN("serveHidden", "false", "Serve files and directories whose name starts with a dot."),
    ACCEPT_RANGES("acceptRanges", "true", "Answer Range requests (206, multipart/byteranges, 416)."),
    MAX_RANGES("maxRanges", "16",
            "Most ranges one request may ask for; more are answered with the whole file (200): 1 to 1000."),
    CACHE_CONTROL("cacheControl", "", "Cache-Control value sent with files and 304s, e.g. 'public, max-age=3600'; empty: none."),
    ATTACHMENT_EXTENSIONS("attachmentExtensions", "",
            "Comma-separated extensions (e.g. 'zip,iso') sent as downloads (Content-Disposition: attachment)."),
    TEXT_CHARSET("textCharset", "utf-8", "Charset announced for text types; none: no charset."),
    PRECOMPRESSED("precompressed", "",
            "Comma-separated codings (br, gzip, zstd) whose precompressed files (.br, .gz, .zst) are served."),
    WELCOME_FILES("welcomeFiles", "index.html", "Comma-separated files served for a directory, first found wins."),
    DIR_LISTING("dirListing", "false", "List directories that have no welcome file (otherwise 403)."),
    STATUS_PATH("statusPath", "",
            "Path under the servlet (e.g. /.sluice/status) answering GET and HEAD with the counters as JSON;"
                    + " it shadows a file of that name; empty: off."),
    SIGNING_KEY("signingKey", "",
            "Secret (at least 16 bytes) for signed, expiring links: set, a file is served only for a link signed"
                    + " with it (403 without, 410 once expired); empty: off. Prefer signingKeyFile."),
    SIGNING_KEY_FILE("signingKeyFile", "",
            "File holding the signing key (its bytes, trailing newline trimmed), instead of signingKey."),
    SIGNING_KEY_PREVIOUS("signingKeyPrevious", "",
            "The key before the current one, for a rotation: links signed with it are still served."),
    SIGNING_KEY_PREVIOUS_FILE("signingKeyPreviousFile", "",
            "File holding the previous signing key, instead of signingKeyPrevious.");

    private final String key;
    private final String defaultValue;
    private final String description;

    Setting(String key, String defaultValue, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    /** The setting's name, the same in web.xml, on the launcher's command line and in the Jetty module. */
    public String key() {
        return key;
    }

    /** The default as a user would write it, or {@code null} for a required setting. */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public static Optional<Setting> byKey(String key) {
        return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }
}
