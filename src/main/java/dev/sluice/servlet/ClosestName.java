package dev.sluice.servlet;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The name a misspelt one was probably meant to be: the closest by edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours), ignoring case, and only when it is close enough to be a typo.
 */
public final class ClosestName {

    private ClosestName() {
    }

    /**
     * The candidate closest to {@code name}, the first of equals in the collection's order; empty when none is
     * within a quarter of the name's length (at least 1, at most 3 edits).
     */
    public static Optional<String> among(Collection<String> candidates, String name) {
        int allowed = Math.max(1, Math.min(3, name.length() / 4));
        String best = null;
        int bestDistance = allowed + 1;
        for (String candidate : candidates) {
            int d = distance(name.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Optimal string alignment distance: Levenshtein's, with a swap of two neighbouring characters as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
