package dev.sluice.resource;

import dev.sluice.http.PathEncoding;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * What a directory listing may show: exactly the entries the resolver would serve, so a listing never reveals a
 * hidden file or a symlink leading out of the root.
 */
public final class DirectoryEntries {

    /** One entry as listed. */
    public record Entry(String name, boolean directory, long size, long lastModifiedMillis) {
    }

    private DirectoryEntries() {
    }

    /** The servable entries of {@code directory}, in no particular order. */
    public static List<Entry> visible(FileResolver resolver, Resolution.Directory directory) throws IOException {
        String base = directory.decodedPath().endsWith("/") ? directory.decodedPath() : directory.decodedPath() + "/";
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(directory.dir())) {
            for (Path child : children) {
                String name = child.getFileName().toString();
                Resolution shown = resolver.resolve(PathEncoding.encode(base + name));
                if (shown instanceof Resolution.Found || shown instanceof Resolution.Directory) {
                    BasicFileAttributes attributes = Files.readAttributes(child, BasicFileAttributes.class);
                    entries.add(new Entry(name, shown instanceof Resolution.Directory, attributes.size(),
                            attributes.lastModifiedTime().toMillis()));
                }
            }
        }
        return entries;
    }
}
