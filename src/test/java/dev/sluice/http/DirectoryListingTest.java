package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.DirectoryListing.Entry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class DirectoryListingTest {

    /** Sun, 06 Nov 1994 08:49:37 GMT. */
    private static final long MTIME = 784_111_777_000L;
    private static final String DATE = "Sun, 06 Nov 1994 08:49:37 GMT";

    private static final Pattern HREF = Pattern.compile("<a href=\"([^\"]*)\">([^<]*)</a>");
    private static final Pattern TAG = Pattern.compile("<[^>]*>");

    private static Entry file(String name, long size) {
        return new Entry(name, false, size, MTIME);
    }

    private static Entry dir(String name) {
        return new Entry(name, true, 4096, MTIME);
    }

    private static String row(String href, String text, String size, String modified) {
        return "<tr><td><a href=\"" + href + "\">" + text + "</a></td><td>" + size + "</td><td>" + modified
                + "</td></tr>\n";
    }

    @Test
    void rendersTheWholePageExactly() {
        String page = DirectoryListing.html("/docs/", List.of(file("b.txt", 1536), dir("sub"), file("A.txt", 0)));
        assertEquals("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <title>Index of /docs/</title>
                </head>
                <body>
                <h1>Index of /docs/</h1>
                <table>
                <thead><tr><th>Name</th><th>Size</th><th>Last modified</th></tr></thead>
                <tbody>
                <tr><td><a href="../">../</a></td><td>-</td><td></td></tr>
                <tr><td><a href="sub/">sub/</a></td><td>-</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td></tr>
                <tr><td><a href="A.txt">A.txt</a></td><td>0 B</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td></tr>
                <tr><td><a href="b.txt">b.txt</a></td><td>1.5 KiB</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td></tr>
                </tbody>
                </table>
                </body>
                </html>
                """, page);
    }

    @Test
    void emptyRootHasNoRows() {
        assertEquals("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <title>Index of /</title>
                </head>
                <body>
                <h1>Index of /</h1>
                <table>
                <thead><tr><th>Name</th><th>Size</th><th>Last modified</th></tr></thead>
                <tbody>
                </tbody>
                </table>
                </body>
                </html>
                """, DirectoryListing.html("/", List.of()));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = "/")
    void rootHasNoParentLink(String path) {
        String page = DirectoryListing.html(path, List.of(file("a", 1)));
        assertTrue(page.contains("<title>Index of /</title>"), page);
        assertFalse(page.contains("../"), page);
        assertEquals(List.of("a"), hrefs(page));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a/", "/a", "/a/b/c/", "//"})
    void everyOtherPathHasTheParentLinkFirst(String path) {
        String page = DirectoryListing.html(path, List.of(dir("d"), file("f", 1)));
        assertEquals(List.of("../", "d/", "f"), hrefs(page));
        assertTrue(page.contains(row("../", "../", "-", "")), page);
    }

    @Test
    void directoriesFirstThenNamesIgnoringCaseThenExactly() {
        List<Entry> entries = List.of(file("b", 1), dir("Zeta"), file("B", 1), file("a", 1), dir("alpha"),
                file("A", 1), file("_x", 1), file("10", 1), dir("beta"));
        assertEquals(List.of("alpha/", "beta/", "Zeta/", "10", "_x", "A", "a", "B", "b"),
                hrefs(DirectoryListing.html("/", entries)));
    }

    @Test
    void orderDoesNotDependOnInputOrder() {
        List<Entry> entries = new ArrayList<>(List.of(file("b", 1), dir("Zeta"), file("B", 1), file("a", 1),
                dir("alpha"), file("A", 1)));
        String expected = DirectoryListing.html("/x/", entries);
        Random random = new Random(1);
        for (int i = 0; i < 20; i++) {
            Collections.shuffle(entries, random);
            assertEquals(expected, DirectoryListing.html("/x/", entries));
        }
    }

    @Test
    void scriptInANameIsEscapedAndEncoded() {
        String page = DirectoryListing.html("/", List.of(file("<script>alert(\"x\")</script>", 5)));
        assertTrue(page.contains(row("%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E",
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;", "5 B", DATE)), page);
        assertFalse(page.contains("<script"), page);
    }

    @Test
    void ampersandAndQuotesAreEscapedInTextAndLink() {
        String page = DirectoryListing.html("/", List.of(file("Tom & Jerry's \"best\".txt", 1)));
        assertTrue(page.contains(row("Tom%20&amp;%20Jerry&#39;s%20%22best%22.txt",
                "Tom &amp; Jerry&#39;s &quot;best&quot;.txt", "1 B", DATE)), page);
    }

    @Test
    void directoryNameIsEscapedAndEndsWithSlash() {
        String page = DirectoryListing.html("/", List.of(dir("a&b <c>")));
        assertTrue(page.contains(row("a&amp;b%20%3Cc%3E/", "a&amp;b &lt;c&gt;/", "-", DATE)), page);
    }

    @Test
    void pathIsEscapedInTitleAndHeading() {
        String page = DirectoryListing.html("/a&b/<x>/\"q\"/'s/", List.of());
        String title = "Index of /a&amp;b/&lt;x&gt;/&quot;q&quot;/&#39;s/";
        assertTrue(page.contains("<title>" + title + "</title>\n"), page);
        assertTrue(page.contains("<h1>" + title + "</h1>\n"), page);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a b.txt|a%20b.txt",
        "a#b|a%23b",
        "a?b|a%3Fb",
        "100%.txt|100%25.txt",
        "%41|%2541",
        "a/b|a%2Fb",
        "a:b|a%3Ab",
        "a;b|a%3Bb",
        "a@b|a%40b",
        "a\"b|a%22b",
        "a\\b|a%5Cb",
        "a[b]|a%5Bb%5D",
        "a{b}|a%7Bb%7D",
        "a^b`c|a%5Eb%60c",
        "Grüße|Gr%C3%BC%C3%9Fe",
        "日本.txt|%E6%97%A5%E6%9C%AC.txt",
        "\uD83D\uDE00|%F0%9F%98%80",
        "...|...",
        ".hidden|.hidden",
    })
    void segmentsArePercentEncodedFromUtf8(String name, String encoded) {
        assertEquals(encoded, DirectoryListing.encodeSegment(name));
    }

    @Test
    void unreservedAndSafeSubDelimsStayLiteral() {
        assertEquals("AZaz09-._~!$&'()*+,=", DirectoryListing.encodeSegment("AZaz09-._~!$&'()*+,="));
    }

    @Test
    void encodedNamesAppearInTheLinks() {
        String page = DirectoryListing.html("/", List.of(file("a b#c?d%e.txt", 1), dir("日本")));
        assertEquals(List.of("%E6%97%A5%E6%9C%AC/", "a%20b%23c%3Fd%25e.txt"), hrefs(page));
        assertTrue(page.contains(">日本/</a>"), page);
        assertTrue(page.contains(">a b#c?d%e.txt</a>"), page);
    }

    @Test
    void controlCharactersAreShownAsReplacementButLinkedExactly() {
        String page = DirectoryListing.html("/", List.of(file("a\tb\u0000c\u007fd\u0085e", 1)));
        assertTrue(page.contains(row("a%09b%00c%7Fd%C2%85e", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe", "1 B", DATE)), page);
    }

    @Test
    void unpairedSurrogatesAndNoncharactersAreReplaced() {
        String page = DirectoryListing.html("/\uDC00/", List.of(file("x\uD800y\uFFFEz\uFDD0", 1)));
        assertTrue(page.contains(row("x%EF%BF%BDy%EF%BF%BEz%EF%B7%90", "x\uFFFDy\uFFFDz\uFFFD", "1 B", DATE)), page);
        assertTrue(page.contains("<title>Index of /\uFFFD/</title>"), page);
    }

    @Test
    void dotSegmentEntriesAreLeftOut() {
        String page = DirectoryListing.html("/d/", List.of(dir("."), dir(".."), file("", 1), file(".x", 1)));
        assertEquals(List.of("../", ".x"), hrefs(page));
    }

    @Test
    void directorySizeIsADashWhateverItsSize() {
        String page = DirectoryListing.html("/", List.of(new Entry("d", true, 5L << 30, 0)));
        assertTrue(page.contains(row("d/", "d/", "-", "Thu, 01 Jan 1970 00:00:00 GMT")), page);
    }

    @Test
    void fileSizesUseBinaryUnitsInThePage() {
        String page = DirectoryListing.html("/", List.of(file("a", 0), file("b", 1023), file("c", 1024),
                file("d", 5L << 30), file("e", -1)));
        assertEquals(List.of("0 B", "1023 B", "1.0 KiB", "5.0 GiB", "-"), sizes(page));
    }

    @ParameterizedTest
    @CsvSource({
        "0, 0 B",
        "1, 1 B",
        "1023, 1023 B",
        "1024, 1.0 KiB",
        "1075, 1.0 KiB",
        "1076, 1.1 KiB",
        "1280, 1.3 KiB",
        "1536, 1.5 KiB",
        "1048524, 1023.9 KiB",
        "1048525, 1.0 MiB",
        "1048576, 1.0 MiB",
        "1572864, 1.5 MiB",
        "5368709120, 5.0 GiB",
        "1099511627776, 1.0 TiB",
        "1125899906842624, 1.0 PiB",
        "1152921504606846976, 1.0 EiB",
        "9223372036854775807, 8.0 EiB",
        "-1, -",
        "-9223372036854775808, -",
    })
    void humanSize(long bytes, String expected) {
        assertEquals(expected, DirectoryListing.humanSize(bytes));
    }

    @Test
    void lastModifiedIsAnImfFixdate() {
        String page = DirectoryListing.html("/", List.of(new Entry("f", false, 1, 1_700_000_000_999L)));
        assertTrue(page.contains("<td>Tue, 14 Nov 2023 22:13:20 GMT</td>"), page);
    }

    @Test
    void nullArgumentsOtherThanThePathAreRejected() {
        assertThrows(NullPointerException.class, () -> DirectoryListing.html("/", null));
        assertThrows(NullPointerException.class, () -> DirectoryListing.html("/", Arrays.asList(file("a", 1), null)));
        assertThrows(NullPointerException.class, () -> new Entry(null, false, 0, 0));
    }

    /**
     * Hostile random names never change the page's markup: its tags are the same as for harmless
     * names, and every link decodes back to its entry's name.
     */
    @Test
    void randomNamesNeverInjectMarkupAndLinksDecodeToTheName() {
        String[] pieces = {"a", "Z", " ", "<", ">", "&", "\"", "'", "/", "%", "#", "?", ";", ":", "=", "+", "ü",
            "日", "\uD83D\uDE00", "<a href=\"x\">", "</td>", "&amp;", "%2F", "."};
        Random random = new Random(3986);
        for (int run = 0; run < 1_000; run++) {
            List<Entry> hostile = new ArrayList<>();
            List<Entry> harmless = new ArrayList<>();
            int n = 1 + random.nextInt(5);
            for (int i = 0; i < n; i++) {
                StringBuilder name = new StringBuilder("n");
                int len = random.nextInt(6);
                for (int j = 0; j < len; j++) {
                    name.append(pieces[random.nextInt(pieces.length)]);
                }
                boolean directory = random.nextBoolean();
                hostile.add(new Entry(name.toString(), directory, 1, MTIME));
                harmless.add(new Entry("n" + i, directory, 1, MTIME));
            }
            String page = DirectoryListing.html("/p<&>/", hostile);
            assertEquals(tags(DirectoryListing.html("/p/", harmless)), tags(page), page);

            List<String> expectedNames = hostile.stream()
                    .sorted((x, y) -> x.directory() != y.directory() ? (x.directory() ? -1 : 1)
                            : x.name().compareToIgnoreCase(y.name()) != 0 ? x.name().compareToIgnoreCase(y.name())
                            : x.name().compareTo(y.name()))
                    .map(e -> e.name() + (e.directory() ? "/" : ""))
                    .toList();
            List<String> decoded = new ArrayList<>();
            for (String href : hrefs(page).subList(1, hostile.size() + 1)) {
                String raw = unescapeHtml(href);
                assertTrue(raw.matches("[A-Za-z0-9\\-._~!$&'()*+,=%]*/?"), raw);
                decoded.add(PercentDecoding.decode(raw));
            }
            assertEquals(expectedNames, decoded, page);
        }
    }

    private static List<String> hrefs(String page) {
        List<String> out = new ArrayList<>();
        Matcher m = HREF.matcher(page);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static List<String> sizes(String page) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("</a></td><td>([^<]*)</td>").matcher(page);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static List<String> tags(String page) {
        List<String> out = new ArrayList<>();
        Matcher m = TAG.matcher(page);
        while (m.find()) {
            out.add(m.group().startsWith("<a ") ? "<a>" : m.group());
        }
        return out;
    }

    private static String unescapeHtml(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&amp;", "&");
    }
}
