package dev.sluice.resource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Precompressed files that stand beside a file ({@code file.br}, {@code file.gz}, {@code file.zst}). A variant
 * counts only if the resolver would serve it by its own name (so a {@code file.gz} symlink leading out of the
 * root is never used) and it is not older than the file (a stale variant would serve old content).
 */
public final class PrecompressedVariants {

    /** The suffix of each content coding Sluice can serve precompressed. */
    public static final Map<String, String> SUFFIXES = Map.of("br", ".br", "gzip", ".gz", "zstd", ".zst");

    /** A precompressed variant: its content coding and its real path. */
    public record Variant(String coding, Path path) {
    }

    private PrecompressedVariants() {
    }

    /**
     * The usable variants of the file at {@code rawPath} (already resolved to {@code original}), for
     * {@code codings} in their order; none when the file's time cannot be read.
     */
    public static List<Variant> fresh(FileResolver resolver, String rawPath, Path original, List<String> codings) {
        List<Variant> fresh = new ArrayList<>();
        try {
            long originalMillis = Files.getLastModifiedTime(original).toMillis();
            for (String coding : codings) {
                Resolution candidate = resolver.resolve(rawPath + SUFFIXES.get(coding));
                if (candidate instanceof Resolution.Found compressed
                        && Files.getLastModifiedTime(compressed.file()).toMillis() >= originalMillis) {
                    fresh.add(new Variant(coding, compressed.file()));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return fresh;
    }

    /**
     * The usable variants beside {@code original}, a file its caller vouches for (an application's, not a request
     * path's), for {@code codings} in their order: {@code original} plus the coding's suffix, a regular file that
     * is no symlink and not older than {@code original}; none when the file's time cannot be read.
     */
    public static List<Variant> beside(Path original, List<String> codings) {
        List<Variant> fresh = new ArrayList<>();
        Path name = original.getFileName();
        if (name == null || codings.isEmpty()) {
            return fresh;
        }
        try {
            long originalMillis = Files.getLastModifiedTime(original, LinkOption.NOFOLLOW_LINKS).toMillis();
            for (String coding : codings) {
                Path candidate = original.resolveSibling(name + SUFFIXES.get(coding));
                BasicFileAttributes attrs = readOrNull(candidate);
                if (attrs != null && attrs.isRegularFile() && attrs.lastModifiedTime().toMillis() >= originalMillis) {
                    fresh.add(new Variant(coding, candidate));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return fresh;
    }

    private static BasicFileAttributes readOrNull(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return null;
        }
    }
}
