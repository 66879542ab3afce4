package dev.sluice.it;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Downloads that end each way a transfer can end, for the tests of what operators see. */
final class Downloads {

    private Downloads() {
    }

    /** Writes {@code size} random bytes to {@code root/name}. */
    static byte[] write(Path root, String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(root.resolve(name), data);
        return data;
    }

    /** A download that has started and is held by a slow client; {@link TestClient#abort()} aborts it. */
    static TestClient started(URI uri, String path) throws IOException {
        TestClient client = new TestClient(uri, 16 * 1024);
        client.send("GET", path, Map.of(), true);
        byte[] some = new byte[64 * 1024];
        int got = 0;
        while (got < some.length) {
            int n = client.read(some, got, some.length - got);
            if (n < 0) {
                throw new IOException("the download ended early");
            }
            got += n;
        }
        return client;
    }

    /** A download of {@code name} (at least 8 MiB) that fails: the file is cut to 4 MiB after its first MiB. */
    static void failByShrinking(URI uri, Path root, String name) throws IOException {
        try (TestClient client = new TestClient(uri, 16 * 1024)) {
            client.setReadTimeout(20_000);
            client.send("GET", "/" + name, Map.of(), false);
            byte[] first = new byte[1024 * 1024];
            int got = 0;
            while (got < first.length) {
                got += client.read(first, got, first.length - got);
            }
            try (RandomAccessFile file = new RandomAccessFile(root.resolve(name).toFile(), "rw")) {
                file.setLength(4 * 1024 * 1024);
            }
            client.drainToEnd();
        } catch (IOException cut) {
            // the connection is cut: that is the point
        }
    }
}
