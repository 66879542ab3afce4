package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.Normalizer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FileResolverTest {

    @TempDir
    static Path base;

    static Path root;
    static Path secret;
    static FileResolver insideRoot;
    static FileResolver insideRootHidden;
    static FileResolver never;
    static FileResolver neverHidden;

    /**
     * base/root        the document root (see below)
     * base/outside     secret.txt containing "SECRET"
     * base/root-twin   a sibling whose name starts with the root's name
     */
    @BeforeAll
    static void buildTree() throws IOException {
        Path outside = Files.createDirectory(base.resolve("outside"));
        secret = Files.writeString(outside.resolve("secret.txt"), "SECRET").toRealPath();
        Path twin = Files.createDirectory(base.resolve("root-twin"));
        Files.writeString(twin.resolve("file.txt"), "TWIN");

        Path r = Files.createDirectory(base.resolve("root"));
        Files.writeString(r.resolve("file.txt"), "hello");
        Files.writeString(r.resolve("a"), "a");
        Files.writeString(r.resolve("a+b.txt"), "plus");
        Files.writeString(r.resolve("big file.mp4"), "video");
        Files.writeString(r.resolve("café.txt"), "coffee");
        Files.createDirectories(r.resolve("dir"));
        Files.writeString(r.resolve("dir/inner.txt"), "inner");
        Files.createDirectories(r.resolve("dir/.hidden"));
        Files.writeString(r.resolve("dir/.hidden/x"), "x");
        Files.writeString(r.resolve(".hidden"), "hidden");
        Files.createDirectories(r.resolve(".git"));
        Files.writeString(r.resolve(".git/config"), "[core]");
        // A directory literally named "%2e%2e": reachable only by decoding "%252e%252e" exactly once.
        Files.createDirectories(r.resolve("%2e%2e"));
        Files.writeString(r.resolve("%2e%2e/x.txt"), "literal");
        // Names that exist on Linux but must still be refused by rule.
        for (String name : List.of("a;jsessionid=1", "..;")) {
            Files.writeString(r.resolve(name), "refused");
        }
        // Names Windows treats apart (devices, a dot or space stripped), which are names like any other here.
        for (String name : List.of("CON", "nul.txt", "aux", "com1", "lpt9.txt", "PRN.tar.gz", "com\u00b9",
                "file.txt.", "file.txt ")) {
            Files.writeString(r.resolve(name), "a name like any other");
        }
        Files.createDirectories(r.resolve("dir."));
        Files.writeString(r.resolve("dir./inner.txt"), "inside a directory named with a dot at its end");

        Files.createSymbolicLink(r.resolve("link-out"), secret);
        Files.createSymbolicLink(r.resolve("outside"), outside);
        Files.createSymbolicLink(r.resolve("link-twin"), twin.resolve("file.txt"));
        Files.createSymbolicLink(r.resolve("link-in"), Path.of("file.txt"));
        Files.createSymbolicLink(r.resolve("link-dir-in"), Path.of("dir"));
        Files.createSymbolicLink(r.resolve("link-hidden"), Path.of(".hidden"));
        Files.createSymbolicLink(r.resolve("link-git"), Path.of(".git"));
        Files.createSymbolicLink(r.resolve("dangling"), Path.of("no-such-target"));

        root = r.toRealPath();
        insideRoot = new FileResolver(r, SymlinkPolicy.INSIDE_ROOT, false);
        insideRootHidden = new FileResolver(r, SymlinkPolicy.INSIDE_ROOT, true);
        never = new FileResolver(r, SymlinkPolicy.NEVER, false);
        neverHidden = new FileResolver(r, SymlinkPolicy.NEVER, true);
    }

    static List<FileResolver> all() {
        return List.of(insideRoot, insideRootHidden, never, neverHidden);
    }

    static void assertFound(Resolution actual, String relative, String decodedPath) {
        assertEquals(new Resolution.Found(root.resolve(relative), decodedPath), actual);
    }

    // --- found ---------------------------------------------------------------------------------

    @Test
    void plainFiles() {
        for (FileResolver resolver : all()) {
            assertFound(resolver.resolve("/file.txt"), "file.txt", "/file.txt");
            assertFound(resolver.resolve("file.txt"), "file.txt", "/file.txt");
            assertFound(resolver.resolve("//dir///inner.txt"), "dir/inner.txt", "/dir/inner.txt");
            assertFound(resolver.resolve("/a"), "a", "/a");
        }
    }

    @Test
    void encodedNames() {
        for (FileResolver resolver : all()) {
            assertFound(resolver.resolve("/big%20file.mp4"), "big file.mp4", "/big file.mp4");
            assertFound(resolver.resolve("/caf%C3%A9.txt"), "café.txt", "/café.txt");
            assertFound(resolver.resolve("/caf%c3%a9.txt"), "café.txt", "/café.txt");
            assertFound(resolver.resolve("/%66ile.txt"), "file.txt", "/file.txt");
        }
    }

    @Test
    void unencodedNonAsciiIsTakenLiterally() {
        assertFound(insideRoot.resolve("/café.txt"), "café.txt", "/café.txt");
    }

    @Test
    void plusIsLiteral() {
        assertFound(insideRoot.resolve("/a+b.txt"), "a+b.txt", "/a+b.txt");
        assertFound(insideRoot.resolve("/a%2Bb.txt"), "a+b.txt", "/a+b.txt");
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/a%20b.txt"));
    }

    @Test
    void decodesExactlyOnce() {
        assertFound(insideRoot.resolve("/%252e%252e/x.txt"), "%2e%2e/x.txt", "/%2e%2e/x.txt");
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/%252e%252e/outside/secret.txt"));
    }

    @Test
    void unreadableFileIsStillFound() throws IOException {
        Path file = Files.writeString(root.resolve("locked.txt"), "locked");
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
            assertFound(insideRoot.resolve("/locked.txt"), "locked.txt", "/locked.txt");
        } finally {
            Files.delete(file);
        }
    }

    // --- directories ---------------------------------------------------------------------------

    @Test
    void directories() {
        for (FileResolver resolver : all()) {
            assertEquals(new Resolution.Directory(root.resolve("dir"), "/dir", false), resolver.resolve("/dir"));
            assertEquals(new Resolution.Directory(root.resolve("dir"), "/dir", true), resolver.resolve("/dir/"));
            assertEquals(new Resolution.Directory(root.resolve("dir"), "/dir", true), resolver.resolve("/dir//"));
        }
    }

    @Test
    void rootItself() {
        for (FileResolver resolver : all()) {
            assertEquals(new Resolution.Directory(root, "/", false), resolver.resolve(""));
            assertEquals(new Resolution.Directory(root, "/", true), resolver.resolve("/"));
            assertEquals(new Resolution.Directory(root, "/", true), resolver.resolve("//"));
        }
    }

    @Test
    void fileWithTrailingSlashIsNotFound() {
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/file.txt/"));
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/file.txt/x"));
    }

    // --- traversal and encoding tricks ---------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "/../outside/secret.txt",
        "../outside/secret.txt",
        "/dir/../../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/.%2e/outside/secret.txt",
        "/%2e./outside/secret.txt",
        "/./file.txt",
        "/%2e/file.txt",
        "/%252e%252e/outside/secret.txt",
        "/..%2foutside%2fsecret.txt",
        "/..%2Foutside/secret.txt",
        "/..%5coutside%5csecret.txt",
        "/..%5Coutside/secret.txt",
        "/..\\outside\\secret.txt",
        "/dir\\inner.txt",
        "/..;/outside/secret.txt",
        "/a;jsessionid=1",
        "/file.txt;x",
        "/missing.txt",
        "/dir/missing",
    })
    void traversalAttemptsAreNotFound(String raw) {
        for (FileResolver resolver : all()) {
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve(raw), raw);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/%00",
        "/file%00.txt",
        "/file.txt%00.jpg",
        "/%c0%ae%c0%ae/outside/secret.txt",
        "/%C0%AE%C0%AE/outside/secret.txt",
        "/%e0%80%ae/outside/secret.txt",
        "/%f0%80%80%ae/outside/secret.txt",
        "/%u002e%u002e/outside/secret.txt",
        "/%",
        "/%zz",
        "/%2",
        "/file.txt%",
        "/%%32%65",
        "/caf%e9.txt",
        "/%ed%a0%80",
        "/%ff",
        "/%01",
        "/%1f",
        "/%7f",
        "/a\tb",
        "/a\nb",
        "/\ud800",
        "/%\uff11\uff11",
    })
    void malformedPathsAreBadRequest(String raw) {
        for (FileResolver resolver : all()) {
            assertInstanceOf(Resolution.BadRequest.class, resolver.resolve(raw), raw);
        }
    }

    @Test
    void supplementaryCharactersAreAccepted() {
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/\ud83d\ude00"));
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/%F0%9F%98%80"));
    }

    @Test
    void nullIsRefusedWithoutException() {
        Resolution r = insideRoot.resolve(null);
        assertTrue(r instanceof Resolution.BadRequest || r instanceof Resolution.NotFound, r::toString);
    }

    @Test
    void hugeInputsAreRefusedWithoutException() {
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/" + "a".repeat(1_000_000)));
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/" + "%41".repeat(10_000)));
        assertInstanceOf(Resolution.NotFound.class, never.resolve("/" + "dir/".repeat(5_000)));
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/..".repeat(20_000)));
    }

    // --- Windows-hostile names -----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "/CON", "/con", "/nul.txt", "/aux", "/com1", "/lpt9.txt", "/PRN.tar.gz", "/dir/Con", "/com%C2%B9",
        "/file.txt.", "/file.txt%20", "/file.txt ", "/dir./inner.txt", "/dir%20/inner.txt",
    })
    void windowsHostileNamesAreNotFoundUnderWindowsRules(String raw) {
        for (boolean hidden : new boolean[] {false, true}) {
            FileResolver windows = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, hidden, null, true,
                    FileResolver.ROOT_RECHECK);
            assertInstanceOf(Resolution.NotFound.class, windows.resolve(raw), raw);
        }
    }

    /** Elsewhere they are ordinary names (aux.c in Linux's sources); names on disk must still match exactly. */
    @ParameterizedTest
    @CsvSource({"/CON, /con", "/nul.txt, /NUL.txt", "/aux, /Aux", "/PRN.tar.gz, /prn.tar.gz", "/com%C2%B9, /Com%C2%B9",
        "/file.txt., /file.txt", "/file.txt%20, /file.txt", "/dir./inner.txt, /dir/inner.txt"})
    void windowsHostileNamesAreFilesElsewhere(String raw, String another) {
        FileResolver posix = new FileResolver(root, SymlinkPolicy.INSIDE_ROOT, false, null, false,
                FileResolver.ROOT_RECHECK);
        Path file = assertInstanceOf(Resolution.Found.class, posix.resolve(raw), raw).file();
        String decoded = java.net.URLDecoder.decode(raw.substring(1), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(root.resolve(decoded), file);
        assertFalse(posix.resolve(another) instanceof Resolution.Found other && other.file().equals(file),
                another + " leads to " + raw + "'s file");
    }

    @Test
    void deviceNameRule() {
        for (String name : List.of("CON", "con", "con.txt", "Con .txt", "NUL.tar.gz", "COM\u00b9", "lpt9", "aux")) {
            assertTrue(FileResolver.isDeviceName(name), name);
        }
        for (String name : List.of("CONSOLE", "icon", "con_x", "COM10", "com0", "LPT", "x.con", "nul-")) {
            assertFalse(FileResolver.isDeviceName(name), name);
        }
    }

    /**
     * A root given as a symlink (a release switched with {@code ln -sfn}) is followed anew by each lookup: the new
     * release's files are found, the old one's are not, and deleting the old release changes nothing.
     */
    @Test
    void aRootGivenAsASymlinkIsFollowedAnewByEachLookup(@TempDir Path work) throws IOException {
        Path a = Files.createDirectories(work.resolve("releases/a"));
        Path b = Files.createDirectories(work.resolve("releases/b"));
        Files.writeString(a.resolve("v.txt"), "a");
        Files.writeString(a.resolve("only-a.txt"), "a");
        Files.writeString(b.resolve("v.txt"), "b");
        Path current = Files.createSymbolicLink(work.resolve("current"), a);
        FileResolver resolver = new FileResolver(current, SymlinkPolicy.NEVER, false, null, false, Duration.ZERO);
        assertEquals(a.resolve("v.txt").toRealPath(), ((Resolution.Found) resolver.resolve("/v.txt")).file());

        Path next = Files.createSymbolicLink(work.resolve("current.next"), b);
        Files.move(next, current, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertEquals(b.resolve("v.txt").toRealPath(), ((Resolution.Found) resolver.resolve("/v.txt")).file());
        assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/only-a.txt"));
        assertEquals(b.toRealPath(), resolver.root());
        Files.delete(a.resolve("v.txt"));
        Files.delete(a.resolve("only-a.txt"));
        Files.delete(a);
        assertEquals(b.resolve("v.txt").toRealPath(), ((Resolution.Found) resolver.resolve("/v.txt")).file());
        assertInstanceOf(Resolution.Directory.class, resolver.resolve("/"));

        Files.delete(current); // as a tool that unlinks before it links: nothing to follow for a moment
        Resolution gone = resolver.resolve("/v.txt");
        assertInstanceOf(Resolution.NotFound.class, gone);
        assertEquals(FileResolver.Looked.Kind.UNCHECKED, resolver.look(resolver.check("/v.txt")).kind(),
                "not a 404 a cache would remember: " + gone);
    }

    /** A root switched to a directory that holds internalRoot finds nothing, until it is switched back. */
    @Test
    void aRootSwitchedToHoldTheInternalRootFindsNothing(@TempDir Path work) throws IOException {
        Path published = Files.createDirectories(work.resolve("srv/published"));
        Path internal = Files.createDirectories(work.resolve("srv/internal"));
        Files.writeString(published.resolve("v.txt"), "public");
        Files.writeString(internal.resolve("secret.txt"), "internal");
        Path current = Files.createSymbolicLink(work.resolve("current"), published);
        FileResolver resolver = new FileResolver(current, SymlinkPolicy.INSIDE_ROOT, false, internal.toRealPath(),
                false, Duration.ZERO);
        assertInstanceOf(Resolution.Found.class, resolver.resolve("/v.txt"));
        Files.delete(current);
        Files.createSymbolicLink(current, work.resolve("srv"));
        assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/internal/secret.txt"));
        assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/published/v.txt"), "nothing at all");
        Files.delete(current);
        Files.createSymbolicLink(current, published);
        assertInstanceOf(Resolution.Found.class, resolver.resolve("/v.txt"));
    }

    // --- hidden files --------------------------------------------------------------------------

    @Test
    void hiddenNames() {
        for (FileResolver resolver : List.of(insideRoot, never)) {
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/.hidden"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/%2ehidden"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/dir/.hidden/x"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/.git/config"));
        }
        for (FileResolver resolver : List.of(insideRootHidden, neverHidden)) {
            assertFound(resolver.resolve("/.hidden"), ".hidden", "/.hidden");
            assertFound(resolver.resolve("/%2ehidden"), ".hidden", "/.hidden");
            assertFound(resolver.resolve("/dir/.hidden/x"), "dir/.hidden/x", "/dir/.hidden/x");
            assertFound(resolver.resolve("/.git/config"), ".git/config", "/.git/config");
        }
    }

    // --- symbolic links ------------------------------------------------------------------------

    @Test
    void linkOutsideTheRootIsNotFound() {
        for (FileResolver resolver : all()) {
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/link-out"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/outside/secret.txt"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/outside"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/outside/"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/link-twin"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/dangling"));
        }
        assertEquals(new Resolution.NotFound("outside root"), insideRoot.resolve("/link-out"));
        assertEquals(new Resolution.NotFound("outside root"), insideRoot.resolve("/link-twin"));
    }

    @Test
    void linkInsideTheRoot() {
        for (FileResolver resolver : List.of(insideRoot, insideRootHidden)) {
            assertFound(resolver.resolve("/link-in"), "file.txt", "/link-in");
            assertFound(resolver.resolve("/link-dir-in/inner.txt"), "dir/inner.txt", "/link-dir-in/inner.txt");
            assertEquals(new Resolution.Directory(root.resolve("dir"), "/link-dir-in", true),
                    resolver.resolve("/link-dir-in/"));
        }
        for (FileResolver resolver : List.of(never, neverHidden)) {
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/link-in"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/link-dir-in/inner.txt"));
            assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/link-dir-in/"));
        }
        // The name check would also refuse these; the reason shows the link rule itself fired.
        assertEquals(new Resolution.NotFound("symbolic link refused"), never.resolve("/link-in"));
        assertEquals(new Resolution.NotFound("symbolic link refused"), never.resolve("/link-dir-in/inner.txt"));
    }

    @Test
    void linkToHiddenTarget() {
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/link-hidden"));
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/link-git/config"));
        assertFound(insideRootHidden.resolve("/link-hidden"), ".hidden", "/link-hidden");
        assertFound(insideRootHidden.resolve("/link-git/config"), ".git/config", "/link-git/config");
        assertInstanceOf(Resolution.NotFound.class, never.resolve("/link-hidden"));
        assertInstanceOf(Resolution.NotFound.class, neverHidden.resolve("/link-hidden"));
    }

    @Test
    void specialFilesAreNotFound() throws Exception {
        Path fifo = root.resolve("fifo");
        int exit;
        try {
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
            exit = p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            exit = -1;
        }
        assumeTrue(exit == 0 && Files.exists(fifo), "mkfifo unavailable");
        try {
            for (FileResolver resolver : all()) {
                assertInstanceOf(Resolution.NotFound.class, resolver.resolve("/fifo"));
            }
        } finally {
            Files.delete(fifo);
        }
    }

    // --- name matching (the check that matters on case-insensitive file systems) ---------------

    @Test
    void namesMustMatchTheNamesOnDiskExactly() {
        assertTrue(FileResolver.namesMatch(List.of("dir", "Readme.txt"), List.of("dir", "Readme.txt")));
        assertFalse(FileResolver.namesMatch(List.of("dir", "readme.txt"), List.of("dir", "Readme.txt")));
        assertFalse(FileResolver.namesMatch(List.of("DIR", "Readme.txt"), List.of("dir", "Readme.txt")));
        assertFalse(FileResolver.namesMatch(List.of("PROGRA~1"), List.of("Program Files")));
        assertFalse(FileResolver.namesMatch(List.of("dir"), List.of("dir", "x")));
        String nfc = "caf\u00e9.txt";
        String nfd = Normalizer.normalize(nfc, Normalizer.Form.NFD);
        assertNotEquals(nfc, nfd);
        assertTrue(FileResolver.namesMatch(List.of(nfc), List.of(nfd)));
    }

    @Test
    void caseIsCheckedAgainstTheDisk() {
        // Linux is case-sensitive: the lookup itself fails; on other systems the name check does.
        assertInstanceOf(Resolution.NotFound.class, insideRoot.resolve("/FILE.TXT"));
        assertInstanceOf(Resolution.NotFound.class, never.resolve("/Dir/inner.txt"));
    }

    // --- property: nothing outside the root, never an exception --------------------------------

    @Test
    void randomTrickyPathsNeverEscape() throws IOException {
        List<String> pieces = List.of("..", ".", "%2e", "%2E", "%2f", "%5c", "%00", "%c0%ae", "/", "\\", ";",
                "%", "%25", "secret.txt", "outside", "a", "CON", " ", "~");
        Random random = new Random(20240611L);
        int served = 0;
        for (int n = 0; n < 5_000; n++) {
            StringBuilder raw = new StringBuilder();
            int count = 1 + random.nextInt(12);
            for (int i = 0; i < count; i++) {
                raw.append(pieces.get(random.nextInt(pieces.size())));
            }
            String input = raw.toString();
            for (FileResolver resolver : all()) {
                Resolution r;
                try {
                    r = resolver.resolve(input);
                } catch (RuntimeException e) {
                    throw new AssertionError("threw for " + input, e);
                }
                Path path = r instanceof Resolution.Found f ? f.file()
                        : r instanceof Resolution.Directory d ? d.dir() : null;
                if (path != null) {
                    served++;
                    assertTrue(path.startsWith(root), () -> input + " -> " + r);
                    assertFalse(Files.isSameFile(path, secret), () -> input + " -> " + r);
                    if (Files.isRegularFile(path)) {
                        assertNotEquals("SECRET", Files.readString(path), input);
                    }
                }
            }
        }
        assertTrue(served > 0, "the random inputs never reached anything: the test is too weak");
    }

    // --- constructor ---------------------------------------------------------------------------

    @Test
    void rejectsMissingRoot() {
        Path missing = base.resolve("no-such-root");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FileResolver(missing, SymlinkPolicy.INSIDE_ROOT, false));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void rejectsRegularFileAsRoot() {
        Path file = secret;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FileResolver(file, SymlinkPolicy.NEVER, false));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void rootIsTheRealPath() throws IOException {
        Path link = Files.createSymbolicLink(base.resolve("root-link"), base.resolve("root"));
        try {
            FileResolver viaLink = new FileResolver(link, SymlinkPolicy.NEVER, false);
            assertEquals(root, viaLink.root());
            assertFound(viaLink.resolve("/file.txt"), "file.txt", "/file.txt");
        } finally {
            Files.delete(link);
        }
    }

    @ParameterizedTest
    @EnumSource(SymlinkPolicy.class)
    void neverThrowsOnEmptyishInputs(SymlinkPolicy policy) {
        FileResolver resolver = new FileResolver(root, policy, false);
        for (String raw : List.of("", "/", "//", "///", ".", "..", "%", "%%", ";", "\\", "\u0000", " ")) {
            try {
                resolver.resolve(raw);
            } catch (RuntimeException e) {
                fail("threw for " + raw, e);
            }
        }
    }
}
