package dev.sluice.resource;

import dev.sluice.http.PathEncoding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Maps the raw (still percent-encoded) request path to a file under a document root, refusing
 * anything that could reach outside the root or expose what should not be served.
 *
 * <p>The rules, in the order they are applied, and why:
 * <ol>
 *   <li>The raw path must not contain {@code ;}, {@code %2F} or {@code %5C} (404). Containers and
 *       proxies disagree about path parameters ({@code /..;/}) and encoded separators, so a path
 *       using them may mean one thing to the front end and another here.</li>
 *   <li>Percent-escapes are decoded exactly once, strictly as UTF-8 (400 on a stray {@code %},
 *       invalid or overlong UTF-8 such as {@code %C0%AE}). Decoding twice or leniently is how
 *       {@code %252e} and {@code %C0%AE} turn into "." behind a filter that already checked for it.
 *       {@code +} stays a plus: this is a path, not a query.</li>
 *   <li>The decoded path must not contain NUL or other control characters (400), nor {@code \}
 *       (404), which is a separator on Windows.</li>
 *   <li>Each segment between slashes (empty ones are dropped) must not be {@code .} or {@code ..}
 *       (404). On Windows, it must not be a device name ({@code CON}, {@code nul.txt}, {@code COM1}...),
 *       which opens a device wherever it stands, nor end in a dot or a space, which Windows silently
 *       strips so that {@code secret.txt.} opens {@code secret.txt} (404). Elsewhere these are names like
 *       any other ({@code aux.c} in the Linux kernel's sources, a folder {@code Acme Inc.}), with no device
 *       behind them. (A file system that folds names, FAT or a Windows share mounted on Linux, opens
 *       {@code secret.txt} for {@code secret.txt.} there, as it does for {@code SECRET.TXT}: the file is
 *       under the root either way, but rules by name see another name. Serve such trees from Windows, or
 *       from a POSIX file system.) A segment starting with a dot is hidden (404) unless hidden files are
 *       served.</li>
 *   <li>Symbolic links follow the {@link SymlinkPolicy}: with {@code NEVER} no component may be a
 *       link (or another reparse point); with {@code INSIDE_ROOT} the real path must lie inside the
 *       real root, and the hidden rule also applies to the real path, so that a link cannot expose
 *       {@code .git/config} under an innocent name.</li>
 *   <li>Each requested name must match the name on disk exactly (compared in Unicode NFC). On
 *       case-insensitive file systems this keeps {@code /Secret.TXT} or an 8.3 short name such as
 *       {@code PROGRA~1} from bypassing rules the caller applies by name.</li>
 *   <li>Only regular files and directories are returned; a file requested with a trailing slash is
 *       not found, as POSIX would say.</li>
 * </ol>
 *
 * <p>The checks are done when {@link #resolve} is called; the caller opens the file later. Someone
 * able to swap files or links under the root in between can defeat them, so the root's contents are
 * assumed not to be changed by untrusted parties.
 *
 * <p>The root given is followed anew at most every {@link #ROOT_RECHECK}: a symlink switched to another
 * directory (a release) leads there from then on; nothing else changes. Thread-safe.
 */
public final class FileResolver {

    /** Longer raw paths cannot name a file on any supported file system; refused before decoding. */
    static final int MAX_RAW_LENGTH = 64 * 1024;

    private static final Set<String> DEVICE_NAMES = Set.of(
            "CON", "PRN", "AUX", "NUL",
            "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
            "COM\u00b9", "COM\u00b2", "COM\u00b3",
            "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
            "LPT\u00b9", "LPT\u00b2", "LPT\u00b3");

    /** Whether Windows' rules for names apply: on Windows. */
    static final boolean WINDOWS = System.getProperty("os.name", "").startsWith("Windows");

    /** How long a lookup uses the root's real path found by an earlier one ({@link #currentRoot}). */
    public static final Duration ROOT_RECHECK = Duration.ofSeconds(1);

    /** The root as given (absolute): a symlink in it is followed anew ({@link #currentRoot}). */
    private final Path given;
    /** A real directory the root may never be nor hold ({@code internalRoot}), or null. */
    private final Path apart;
    private final long recheckNanos;
    /** The real path of the root as last found, and when (by {@link System#nanoTime}). */
    private volatile Path root;
    private volatile long rootFoundNanos;
    private final SymlinkPolicy symlinks;
    private final boolean serveHidden;
    private final boolean windowsNames;

    /**
     * @param root        the document root; must be an existing, readable directory
     * @param symlinks    how symbolic links under the root are treated
     * @param serveHidden whether names starting with a dot may be served
     * @throws IllegalArgumentException if {@code root} is missing, not a directory or not readable
     */
    public FileResolver(Path root, SymlinkPolicy symlinks, boolean serveHidden) {
        this(root, symlinks, serveHidden, null);
    }

    /**
     * As {@link #FileResolver(Path, SymlinkPolicy, boolean)}, with a directory that the root, followed anew, may
     * never be nor hold: {@code apart} (a real path; null: none). A root switched to such a directory finds nothing
     * until it is switched back, so that a symlink cannot bring {@code internalRoot}'s files within URLs' reach.
     */
    public FileResolver(Path root, SymlinkPolicy symlinks, boolean serveHidden, Path apart) {
        this(root, symlinks, serveHidden, apart, WINDOWS, ROOT_RECHECK);
    }

    /** As the public constructors, with Windows' rules for names on or off whatever the OS, and the recheck. */
    FileResolver(Path root, SymlinkPolicy symlinks, boolean serveHidden, Path apart, boolean windowsNames,
            Duration recheck) {
        Objects.requireNonNull(root, "root");
        this.symlinks = Objects.requireNonNull(symlinks, "symlinks");
        this.serveHidden = serveHidden;
        this.apart = apart;
        this.windowsNames = windowsNames;
        this.recheckNanos = recheck.toNanos();
        Path real;
        try {
            real = root.toRealPath();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("Document root does not exist: " + root, e);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("Document root cannot be accessed: " + root + " (" + e + ")", e);
        }
        if (!Files.isDirectory(real)) {
            throw new IllegalArgumentException("Document root is not a directory: " + root);
        }
        if (!Files.isReadable(real)) {
            throw new IllegalArgumentException("Document root is not readable: " + root);
        }
        this.given = root.toAbsolutePath();
        this.root = real;
        this.rootFoundNanos = System.nanoTime();
    }

    /**
     * The real path of the document root, as a lookup last found it: a root given as a symlink (a release
     * directory switched by {@code ln -sfn}) is followed anew, as nginx does, not once at start-up.
     */
    public Path root() {
        return root;
    }

    /**
     * The root's real path now: {@code realpath} of the root as given (a few {@code lstat}s), at most once per
     * {@link #ROOT_RECHECK}, else as found last. Why not once at start-up: a deploy that switched the root's
     * symlink to a new release went unseen, and deleting the old release then made every request a 404.
     *
     * @throws IOException when the root cannot be followed now (a symlink replaced by a tool that unlinks first),
     *         or leads to {@code apart} or a directory that holds it
     */
    private Path currentRoot() throws IOException {
        long now = System.nanoTime();
        if (now - rootFoundNanos < recheckNanos) {
            return root;
        }
        Path real = given.toRealPath();
        if (apart != null && apart.startsWith(real)) {
            throw new IOException("the root now leads to " + real + ", which holds internalRoot " + apart);
        }
        root = real;
        rootFoundNanos = now;
        return real;
    }

    /**
     * Resolves a raw request path relative to the mount point, such as
     * {@code "/videos/big%20file.mp4"}; {@code ""} and {@code "/"} mean the root. Never throws.
     */
    public Resolution resolve(String rawPath) {
        Checked checked = check(rawPath);
        return checked.refusal() != null ? checked.refusal() : look(checked).resolution(checked);
    }

    /**
     * A raw path after every check that reads no file system: refused, or the decoded segments to look up. Two raw
     * paths with the same segments resolve alike, which is what lets {@link FileCache} key its entries by
     * {@code decodedPath}.
     *
     * @param refusal the answer for a path refused by its form, or null
     * @param segments the decoded, checked names, in order; empty for the root
     * @param decodedPath {@code "/"} followed by the segments joined by {@code "/"}
     * @param trailingSlash whether the raw path ended with {@code "/"}
     */
    record Checked(Resolution refusal, List<String> segments, String decodedPath, boolean trailingSlash) {
    }

    /**
     * What the file system says a checked path is, whatever its trailing slash.
     *
     * @param kind a file, a directory, refused by a rule that needed the file system, or not checkable now
     * @param real the real path, for a file or a directory
     * @param reason why it is refused, for the log
     * @param size the file's size, when it is a file
     * @param lastModifiedMillis its modification time
     * @param fileKey its file key (device and inode), for a file or a directory below the root; null where the file
     *        system has none
     */
    record Looked(Kind kind, Path real, String reason, long size, long lastModifiedMillis, Object fileKey) {

        enum Kind { FILE, DIRECTORY, REFUSED, UNCHECKED }

        static Looked refused(String reason) {
            return new Looked(Kind.REFUSED, null, reason, -1, 0, null);
        }

        /** The resolution of {@code checked}, which this was looked up for. */
        Resolution resolution(Checked checked) {
            return switch (kind) {
                case FILE -> checked.trailingSlash() ? new Resolution.NotFound("trailing slash on a file")
                        : new Resolution.Found(real, checked.decodedPath());
                case DIRECTORY -> new Resolution.Directory(real, checked.decodedPath(), checked.trailingSlash());
                case REFUSED, UNCHECKED -> new Resolution.NotFound(reason);
            };
        }
    }

    Checked check(String raw) {
        try {
            return checkOrReject(raw);
        } catch (Rejected r) {
            return new Checked(r.resolution, List.of(), null, false);
        }
    }

    private Checked checkOrReject(String raw) throws Rejected {
        if (raw == null) {
            throw badRequest("null path");
        }
        if (raw.length() > MAX_RAW_LENGTH) {
            throw notFound("path too long");
        }
        checkRaw(raw);
        String decoded;
        try {
            decoded = PathEncoding.decode(raw);
        } catch (PathEncoding.MalformedPathException e) {
            throw badRequest(e.getMessage());
        }
        checkDecoded(decoded);
        List<String> segments = segments(decoded);
        return new Checked(null, List.copyOf(segments), "/" + String.join("/", segments), raw.endsWith("/"));
    }

    /** The root as a lookup last found it, asking the storage nothing: for {@link FileCache#known}. */
    Looked rootAsFound() {
        return new Looked(Looked.Kind.DIRECTORY, root, null, -1, 0, null);
    }

    /** Applies the rules that need the file system to a path that passed {@link #check}. */
    Looked look(Checked checked) {
        Path realRoot;
        try {
            realRoot = currentRoot();
        } catch (IOException | SecurityException e) { // not remembered as a 404: the root may be back in a moment
            return new Looked(Looked.Kind.UNCHECKED, null, "cannot follow the root: " + e.getMessage(), -1, 0, null);
        }
        try {
            if (checked.segments().isEmpty()) {
                return new Looked(Looked.Kind.DIRECTORY, realRoot, null, -1, 0, null);
            }
            Path real = locate(realRoot, checked.segments());
            BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (attrs.isRegularFile()) {
                return new Looked(Looked.Kind.FILE, real, null, attrs.size(), attrs.lastModifiedTime().toMillis(),
                        attrs.fileKey());
            }
            if (attrs.isDirectory()) {
                return new Looked(Looked.Kind.DIRECTORY, real, null, -1, 0, attrs.fileKey());
            }
            return Looked.refused("not a regular file or directory");
        } catch (Rejected r) {
            return Looked.refused(((Resolution.NotFound) r.resolution).reason());
        } catch (NoSuchFileException e) {
            return Looked.refused("no such file");
        } catch (IOException | InvalidPathException | SecurityException e) {
            return new Looked(Looked.Kind.UNCHECKED, null, "cannot check: " + e.getClass().getSimpleName(), -1, 0,
                    null);
        }
    }

    private static void checkRaw(String raw) throws Rejected {
        if (raw.indexOf(';') >= 0) {
            throw notFound("path parameter");
        }
        for (int i = raw.indexOf('%'); i >= 0 && i + 2 < raw.length(); i = raw.indexOf('%', i + 1)) {
            if (raw.regionMatches(true, i, "%2f", 0, 3) || raw.regionMatches(true, i, "%5c", 0, 3)) {
                throw notFound("encoded separator");
            }
        }
    }

    private static void checkDecoded(String decoded) throws Rejected {
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c == 0) {
                throw badRequest("NUL in path");
            }
            if (c < 0x20 || c == 0x7f) {
                throw badRequest("control character in path");
            }
        }
        if (decoded.indexOf('\\') >= 0) {
            throw notFound("backslash in path");
        }
    }

    private List<String> segments(String decoded) throws Rejected {
        List<String> segments = new ArrayList<>();
        int start = 0;
        while (start <= decoded.length()) {
            int end = decoded.indexOf('/', start);
            if (end < 0) {
                end = decoded.length();
            }
            String segment = decoded.substring(start, end);
            if (!segment.isEmpty()) {
                checkSegment(segment);
                segments.add(segment);
            }
            start = end + 1;
        }
        return segments;
    }

    private void checkSegment(String segment) throws Rejected {
        if (segment.equals(".") || segment.equals("..")) {
            throw notFound("dot segment");
        }
        if (windowsNames) {
            char last = segment.charAt(segment.length() - 1);
            if (last == '.' || last == ' ') {
                throw notFound("name ends in dot or space");
            }
            if (isDeviceName(segment)) {
                throw notFound("Windows device name");
            }
        }
        if (!serveHidden && isHiddenName(segment)) {
            throw notFound("hidden name");
        }
    }

    /** Whether a file name is hidden: it starts with a dot, and {@code serveHidden=false} serves no such name. */
    public static boolean isHiddenName(String name) {
        return name.startsWith(".");
    }

    static boolean isDeviceName(String segment) {
        int dot = segment.indexOf('.');
        String base = (dot < 0 ? segment : segment.substring(0, dot)).stripTrailing();
        return DEVICE_NAMES.contains(base.toUpperCase(Locale.ROOT));
    }

    /** Applies the symlink, containment, hidden and case rules; returns the real path. */
    private Path locate(Path root, List<String> segments) throws IOException, Rejected {
        Path candidate = root;
        for (String segment : segments) {
            Path name = root.getFileSystem().getPath(segment);
            if (name.isAbsolute() || name.getRoot() != null || name.getNameCount() != 1
                    || !name.toString().equals(segment)) {
                throw notFound("not a plain file name");
            }
            candidate = candidate.resolve(name);
            if (symlinks == SymlinkPolicy.NEVER) {
                BasicFileAttributes attrs =
                        Files.readAttributes(candidate, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attrs.isSymbolicLink()) {
                    throw notFound("symbolic link refused");
                }
                if (attrs.isOther()) {
                    throw notFound("special file or reparse point");
                }
            }
        }
        Path real = candidate.toRealPath();
        if (!real.startsWith(root)) {
            throw notFound("outside root");
        }
        List<String> realNames = new ArrayList<>();
        for (int i = root.getNameCount(); i < real.getNameCount(); i++) {
            realNames.add(real.getName(i).toString());
        }
        if (!serveHidden && realNames.stream().anyMatch(FileResolver::isHiddenName)) {
            throw notFound("hidden target");
        }
        if (!namesMatch(segments, realNames)
                && (symlinks == SymlinkPolicy.NEVER || !namesMatch(segments, namesOnDisk(root, segments)))) {
            throw notFound("name differs from the name on disk");
        }
        return real;
    }

    /**
     * The on-disk name of each requested component, links included (they differ from their
     * targets' names, so the real path alone cannot tell a link from a case mismatch).
     */
    private List<String> namesOnDisk(Path root, List<String> segments) throws IOException {
        List<String> names = new ArrayList<>(segments.size());
        Path entry = root;
        for (String segment : segments) {
            entry = entry.resolve(segment);
            BasicFileAttributes attrs =
                    Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Path real = attrs.isSymbolicLink() || attrs.isOther()
                    ? entry.toRealPath(LinkOption.NOFOLLOW_LINKS)
                    : entry.toRealPath();
            Path fileName = real.getFileName();
            names.add(fileName == null ? "" : fileName.toString());
        }
        return names;
    }

    /** Exact, case-sensitive comparison; NFC first, as macOS may store names decomposed. */
    static boolean namesMatch(List<String> requested, List<String> onDisk) {
        if (requested.size() != onDisk.size()) {
            return false;
        }
        for (int i = 0; i < requested.size(); i++) {
            if (!Normalizer.normalize(requested.get(i), Normalizer.Form.NFC)
                    .equals(Normalizer.normalize(onDisk.get(i), Normalizer.Form.NFC))) {
                return false;
            }
        }
        return true;
    }

    private static Rejected notFound(String reason) {
        return new Rejected(new Resolution.NotFound(reason));
    }

    private static Rejected badRequest(String reason) {
        return new Rejected(new Resolution.BadRequest(reason));
    }

    /** Carries a refusal out of the nested checks; no stack trace, as it is not an error. */
    private static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Resolution resolution;

        Rejected(Resolution resolution) {
            super(null, null, false, false);
            this.resolution = resolution;
        }
    }
}
