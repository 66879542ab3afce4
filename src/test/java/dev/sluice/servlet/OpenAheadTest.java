package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.resource.SharedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hop's hold on the file it opened ends exactly once, whichever end of the request comes first. */
class OpenAheadTest {

    @TempDir
    Path dir;

    private final SharedFiles files = new SharedFiles();

    @Test
    void theDispatchsReleaseClosesTheHeldFileAndALaterEndDoesNothingMore() throws IOException {
        Path file = Files.writeString(dir.resolve("a.bin"), "bytes");
        OpenAhead.Hop hop = new OpenAhead.Hop("/a.bin");
        hop.hold(files.open(file));
        try (var dispatch = files.open(file)) { // the dispatch's own view, as the sender opens it
            hop.release();
            assertTrue(files.isOpen(file), "the dispatch's view stays open");
            hop.onComplete(null);
            assertTrue(files.isOpen(file), "a second end releases nothing more");
        }
        assertFalse(files.isOpen(file));
    }

    @Test
    void aFileOpenedAfterTheRequestEndedIsClosedAtOnce() throws IOException {
        Path file = Files.writeString(dir.resolve("b.bin"), "bytes");
        OpenAhead.Hop hop = new OpenAhead.Hop(null);
        hop.onError(null); // the client went away while the open waited
        hop.hold(files.open(file));
        assertFalse(files.isOpen(file), "nobody would have taken it");
    }

    @Test
    void startingAsyncToSendEndsTheHold() throws IOException {
        Path file = Files.writeString(dir.resolve("c.bin"), "bytes");
        OpenAhead.Hop hop = new OpenAhead.Hop(null);
        hop.hold(files.open(file));
        hop.onStartAsync(null);
        assertFalse(files.isOpen(file));
    }
}
