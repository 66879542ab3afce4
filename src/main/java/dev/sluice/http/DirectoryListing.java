package dev.sluice.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Renders a directory index as a small HTML5 page.
 *
 * <p>Links are relative, one path segment each, so the page must be served at a URL ending in
 * {@code /}. Every name is percent-encoded in its link (RFC 3986 Section 3.3) and HTML-escaped where
 * it is shown, so a file name can neither inject markup nor point a link elsewhere.
 */
public final class DirectoryListing {

    /**
     * One child of the directory.
     *
     * @param name the file name: a single path segment, decoded
     * @param directory whether the child is a directory
     * @param size the length in bytes, ignored for directories; negative if unknown
     * @param lastModifiedMillis the modification time in epoch milliseconds
     */
    public record Entry(String name, boolean directory, long size, long lastModifiedMillis) {

        /**
         * Validates the name.
         *
         * @param name the file name
         * @param directory whether the child is a directory
         * @param size the length in bytes
         * @param lastModifiedMillis the modification time
         * @throws NullPointerException if {@code name} is null
         */
        public Entry {
            Objects.requireNonNull(name, "name");
        }
    }

    private static final Comparator<Entry> ORDER = Comparator
            .comparing((Entry e) -> !e.directory())
            .thenComparing(Entry::name, String.CASE_INSENSITIVE_ORDER)
            .thenComparing(Entry::name);

    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private static final char[] HEX_DIGITS = "0123456789ABCDEF".toCharArray();

    private static final String ROOT = "/";

    private static final String UNKNOWN = "-";

    private DirectoryListing() {
    }

    /**
     * Renders the index page of a directory, to be sent as {@code text/html; charset=utf-8}.
     *
     * <p>The page is titled {@code Index of PATH} and holds a table of name, size and last
     * modification time (an IMF-fixdate, RFC 9110 Section 5.6.7). Directories come first, each
     * group ordered by name ignoring case, then by exact name so the order is total. A link to
     * {@code ../} precedes them unless the path is {@code /}. Sizes are in binary units, whole
     * bytes below 1 KiB and one decimal above ({@code 1.5 MiB}); directories and unknown sizes
     * show {@code -}.
     *
     * <p>Entries named {@code ""}, {@code .} or {@code ..} are left out, since their links would
     * be dot-segments (RFC 3986 Section 5.2.4) rather than children. Characters that may not appear
     * in an HTML document (controls, noncharacters and unpaired surrogates) are shown as U+FFFD;
     * links encode the real name, except that an unpaired surrogate, which has no UTF-8 form,
     * becomes U+FFFD there too.
     *
     * @param decodedDirPath the directory's decoded URL path, such as {@code /docs/}; {@code null}
     *     or empty means {@code /}
     * @param entries the children, in any order
     * @return the complete page
     * @throws NullPointerException if {@code entries} or one of its elements is null
     */
    public static String html(String decodedDirPath, List<Entry> entries) {
        Objects.requireNonNull(entries, "entries");
        String path = decodedDirPath == null || decodedDirPath.isEmpty() ? ROOT : decodedDirPath;
        List<Entry> sorted = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            Objects.requireNonNull(entry, "entry");
            if (!isDotSegment(entry.name())) {
                sorted.add(entry);
            }
        }
        sorted.sort(ORDER);

        String title = "Index of " + escape(path);
        StringBuilder html = new StringBuilder(512 + 160 * sorted.size())
                .append("<!DOCTYPE html>\n")
                .append("<html lang=\"en\">\n")
                .append("<head>\n")
                .append("<meta charset=\"utf-8\">\n")
                .append("<title>").append(title).append("</title>\n")
                .append("</head>\n")
                .append("<body>\n")
                .append("<h1>").append(title).append("</h1>\n")
                .append("<table>\n")
                .append("<thead><tr><th>Name</th><th>Size</th><th>Last modified</th></tr></thead>\n")
                .append("<tbody>\n");
        if (!path.equals(ROOT)) {
            row(html, "../", "../", UNKNOWN, "");
        }
        for (Entry entry : sorted) {
            String suffix = entry.directory() ? "/" : "";
            row(html,
                    escape(encodeSegment(entry.name()) + suffix),
                    escape(entry.name()) + suffix,
                    entry.directory() ? UNKNOWN : humanSize(entry.size()),
                    HttpDate.format(entry.lastModifiedMillis()));
        }
        return html.append("</tbody>\n")
                .append("</table>\n")
                .append("</body>\n")
                .append("</html>\n")
                .toString();
    }

    private static void row(StringBuilder html, String href, String text, String size, String modified) {
        html.append("<tr><td><a href=\"").append(href).append("\">").append(text).append("</a></td><td>")
                .append(size).append("</td><td>").append(modified).append("</td></tr>\n");
    }

    private static boolean isDotSegment(String name) {
        return name.isEmpty() || name.equals(".") || name.equals("..");
    }

    /**
     * Formats a byte count in binary units: {@code 0 B}, {@code 1023 B}, {@code 1.0 KiB},
     * {@code 1.5 MiB}. The value is rounded half up to one decimal, moving to the next unit when
     * it would reach 1024.0.
     *
     * @param bytes the byte count; negative if unknown
     * @return the formatted size, or {@code -} if {@code bytes} is negative
     */
    static String humanSize(long bytes) {
        if (bytes < 0) {
            return UNKNOWN;
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        for (int i = 0; ; i++) {
            long tenths = Math.round(bytes * 10.0 / Math.scalb(1.0, 10 * (i + 1)));
            if (tenths < 10 * 1024 || i == UNITS.length - 1) {
                return tenths / 10 + "." + tenths % 10 + " " + UNITS[i];
            }
        }
    }

    /**
     * Percent-encodes a name as one path segment. Unreserved characters and the sub-delims
     * {@code ! $ & ' ( ) * + , =} stay literal (RFC 3986 Sections 2.2, 2.3 and 3.3); everything
     * else is encoded from UTF-8 with uppercase hex digits (RFC 3986 Section 2.1). That includes
     * {@code /}, {@code ?}, {@code #} and {@code %}, and also {@code :}, which would make a
     * relative reference look like a scheme (RFC 3986 Section 4.2), and {@code ;}, which servlet
     * containers take as the start of path parameters.
     */
    static String encodeSegment(String name) {
        StringBuilder out = new StringBuilder(name.length() + 16);
        name.codePoints().forEach(cp -> {
            if (isLiteralInSegment(cp)) {
                out.append((char) cp);
                return;
            }
            int scalar = isSurrogate(cp) ? 0xFFFD : cp;
            for (byte b : Character.toString(scalar).getBytes(StandardCharsets.UTF_8)) {
                out.append('%').append(HEX_DIGITS[(b >> 4) & 0xF]).append(HEX_DIGITS[b & 0xF]);
            }
        });
        return out.toString();
    }

    private static boolean isLiteralInSegment(int cp) {
        return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')
                || "-._~!$&'()*+,=".indexOf(cp) >= 0;
    }

    /** Escapes the five characters that are special in HTML text and attribute values. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            switch (cp) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.appendCodePoint(displayable(cp));
            }
        });
        return out.toString();
    }

    /**
     * Replaces with U+FFFD the code points an HTML document must not contain: controls, surrogates
     * (which reach here only unpaired) and noncharacters (WHATWG HTML, "Preprocessing the input
     * stream").
     */
    private static int displayable(int cp) {
        boolean control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
        boolean noncharacter = (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
        return control || isSurrogate(cp) || noncharacter ? 0xFFFD : cp;
    }

    /** Whether a code point from {@link String#codePoints()} is an unpaired surrogate. */
    private static boolean isSurrogate(int cp) {
        return cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE;
    }
}
