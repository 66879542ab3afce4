package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README is what a newcomer reads first, so it must stay short enough to finish, and the pages it sends them
 * to must be there: every relative link in the README and the other documentation pages leads to an existing file
 * (and, when it names a heading, to a heading of that file).
 */
class DocsTest {

    /** The README's budget: about 250 lines, with a little slack. */
    static final int README_MAX_LINES = 260;

    /** {@code [text](target)} or {@code ![alt](target)}; the target ends at the first space or closing parenthesis. */
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

    @Test
    void theReadmeIsShortEnoughToFinish() throws IOException {
        int lines = Files.readAllLines(Path.of("README.md")).size();
        assertTrue(lines <= README_MAX_LINES,
                "README.md has " + lines + " lines, more than " + README_MAX_LINES + ": move reference to docs/");
    }

    @Test
    void everyRelativeLinkLeadsToAFileThatExists() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            for (String target : relativeLinks(page)) {
                String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                if (!file.isEmpty() && !Files.exists(page.resolveSibling(file).normalize())) {
                    broken.add(page + ": " + target);
                }
            }
        }
        assertTrue(broken.isEmpty(), "links to files that do not exist: " + broken);
    }

    @Test
    void everyLinkToAHeadingLeadsToAHeadingThatExists() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            for (String target : relativeLinks(page)) {
                int hash = target.indexOf('#');
                if (hash < 0) {
                    continue;
                }
                String file = target.substring(0, hash);
                Path linked = file.isEmpty() ? page : page.resolveSibling(file).normalize();
                if (linked.toString().endsWith(".md") && Files.isRegularFile(linked)
                        && !anchors(linked).contains(target.substring(hash + 1))) {
                    broken.add(page + ": " + target);
                }
            }
        }
        assertTrue(broken.isEmpty(), "links to headings that do not exist: " + broken);
    }

    /** README.md, docs/*.md, bench/*.md and jetty-base/README.md. */
    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(Path.of("README.md"));
        for (String dir : List.of("docs", "bench")) {
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(pages::add);
            }
        }
        pages.add(Path.of("jetty-base", "README.md"));
        assertTrue(pages.contains(Path.of("docs", "performance.md")), "docs/ is missing its pages: " + pages);
        return pages;
    }

    /** Targets of the page's links that are neither absolute URLs nor bare scheme links; code is left out. */
    static List<String> relativeLinks(Path page) throws IOException {
        List<String> targets = new ArrayList<>();
        Matcher m = LINK.matcher(prose(page));
        while (m.find()) {
            String target = m.group(1);
            if (target.startsWith("<") && target.endsWith(">")) {
                target = target.substring(1, target.length() - 1);
            }
            if (!SCHEME.matcher(target).find() && !target.startsWith("//")) {
                targets.add(target);
            }
        }
        return targets;
    }

    /** The page without fenced code blocks and inline code, where brackets and parentheses are not links. */
    private static String prose(Path page) throws IOException {
        StringBuilder prose = new StringBuilder();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (!fenced) {
                prose.append(line.replaceAll("`[^`]*`", "``")).append('\n');
            }
        }
        return prose.toString();
    }

    /** The anchors GitHub makes for the page's headings: lower case, punctuation dropped, spaces to hyphens. */
    static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new HashSet<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            Matcher m = HEADING.matcher(line);
            if (!fenced && m.matches()) {
                String slug = m.group(1).toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N}\\s_-]", "")
                        .replace(' ', '-');
                String anchor = slug;
                for (int n = 1; !anchors.add(anchor); n++) {
                    anchor = slug + "-" + n;
                }
            }
        }
        return anchors;
    }
}
