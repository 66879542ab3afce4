package dev.sluice.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An entity-tag (RFC 9110 Section 8.8.3): an opaque validator, optionally marked weak.
 *
 * @param opaque the characters between the double quotes, each an {@code etagc}
 *     ({@code %x21 / %x23-7E / obs-text}); may be empty
 * @param weak whether the tag carries the {@code W/} prefix (RFC 9110 Section 8.8.1)
 */
public record EntityTag(String opaque, boolean weak) {

    /**
     * Validates the components.
     *
     * @param opaque the characters between the double quotes
     * @param weak whether the tag is weak
     * @throws NullPointerException if {@code opaque} is null
     * @throws IllegalArgumentException if {@code opaque} contains a character outside {@code etagc}
     */
    public EntityTag {
        Objects.requireNonNull(opaque, "opaque");
        for (int i = 0; i < opaque.length(); i++) {
            if (!HeaderSyntax.isEtagc(opaque.charAt(i))) {
                throw new IllegalArgumentException("not an etagc at index " + i + ": " + opaque);
            }
        }
    }

    /**
     * Returns a strong tag {@code "<hex size>-<hex mtimeMillis>"} derived only from the file's
     * metadata, so every server holding the same file generates the same tag
     * (RFC 9110 Section 8.8.3.1). The values are written with {@link Long#toHexString(long)}.
     *
     * @param size the representation length in bytes
     * @param mtimeMillis the file's modification time in epoch milliseconds
     * @return the strong entity-tag
     */
    public static EntityTag strong(long size, long mtimeMillis) {
        return new EntityTag(Long.toHexString(size) + "-" + Long.toHexString(mtimeMillis), false);
    }

    /**
     * Returns the field value form, {@code "opaque"} or {@code W/"opaque"} (RFC 9110 Section 8.8.3).
     *
     * @return the serialized entity-tag
     */
    public String toHeaderValue() {
        return (weak ? "W/\"" : "\"") + opaque + '"';
    }

    /**
     * Strong comparison (RFC 9110 Section 8.8.3.2): both tags are strong and their opaque parts are
     * identical.
     *
     * @param other the tag to compare with, possibly {@code null}
     * @return whether the tags match strongly
     */
    public boolean strongMatch(EntityTag other) {
        return other != null && !weak && !other.weak && opaque.equals(other.opaque);
    }

    /**
     * Weak comparison (RFC 9110 Section 8.8.3.2): the opaque parts are identical, whatever either
     * tag's weakness.
     *
     * @param other the tag to compare with, possibly {@code null}
     * @return whether the tags match weakly
     */
    public boolean weakMatch(EntityTag other) {
        return other != null && opaque.equals(other.opaque);
    }

    /**
     * Returns whether a conditional field value is the wildcard {@code "*"} of If-Match or
     * If-None-Match (RFC 9110 Sections 13.1.1 and 13.1.2), ignoring surrounding whitespace.
     *
     * @param headerValue the field value, possibly {@code null}
     * @return whether the value is exactly {@code *}
     */
    public static boolean isAny(String headerValue) {
        return headerValue != null && HeaderSyntax.trimOws(headerValue).equals("*");
    }

    /**
     * Parses a single entity-tag, such as the value of If-Range or ETag (RFC 9110 Section 8.8.3).
     * The {@code W/} prefix is case-sensitive, as the grammar ({@code %s"W/"}) requires.
     *
     * @param headerValue the field value, possibly {@code null}
     * @return the tag, or empty if the value is absent or not exactly one entity-tag
     */
    public static Optional<EntityTag> parse(String headerValue) {
        if (headerValue == null) {
            return Optional.empty();
        }
        String text = HeaderSyntax.trimOws(headerValue);
        List<EntityTag> tags = new ArrayList<>(1);
        return parseTag(text, 0, tags) == text.length() ? Optional.of(tags.get(0)) : Optional.empty();
    }

    /**
     * Parses the list form {@code #entity-tag} of If-Match and If-None-Match
     * (RFC 9110 Sections 13.1.1 and 13.1.2). Optional whitespace around the commas and empty list
     * elements are accepted (RFC 9110 Section 5.6.1.2), so an empty value is an empty list. The
     * wildcard {@code *} is not an entity-tag: test it with {@link #isAny(String)}.
     *
     * @param headerValue the field value, possibly {@code null}
     * @return the tags in order of appearance, or empty if the value is absent or not a
     *     syntactically valid list
     */
    public static Optional<List<EntityTag>> parseList(String headerValue) {
        if (headerValue == null) {
            return Optional.empty();
        }
        List<EntityTag> tags = new ArrayList<>();
        boolean separatorRequired = false;
        int i = 0;
        while (true) {
            i = HeaderSyntax.skipOws(headerValue, i);
            if (i == headerValue.length()) {
                return Optional.of(List.copyOf(tags));
            }
            if (headerValue.charAt(i) == ',') {
                separatorRequired = false;
                i++;
            } else if (separatorRequired) {
                return Optional.empty();
            } else {
                i = parseTag(headerValue, i, tags);
                if (i < 0) {
                    return Optional.empty();
                }
                separatorRequired = true;
            }
        }
    }

    /** Parses {@code entity-tag} at {@code start}, adds it to {@code out} and returns the index after it, or -1. */
    private static int parseTag(String s, int start, List<EntityTag> out) {
        boolean weak = s.startsWith("W/", start);
        int open = weak ? start + 2 : start;
        if (open >= s.length() || s.charAt(open) != '"') {
            return -1;
        }
        int close = open + 1;
        while (close < s.length() && HeaderSyntax.isEtagc(s.charAt(close))) {
            close++;
        }
        if (close >= s.length() || s.charAt(close) != '"') {
            return -1;
        }
        out.add(new EntityTag(s.substring(open + 1, close), weak));
        return close + 1;
    }
}
