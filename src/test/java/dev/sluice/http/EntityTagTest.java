package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class EntityTagTest {

    private static final EntityTag STRONG_A = new EntityTag("a", false);
    private static final EntityTag WEAK_A = new EntityTag("a", true);

    @Test
    void strongTagIsHexSizeDashHexMtime() {
        EntityTag tag = EntityTag.strong(0x1234, 0xabcdef);
        assertEquals(new EntityTag("1234-abcdef", false), tag);
        assertEquals("\"1234-abcdef\"", tag.toHeaderValue());
    }

    @Test
    void strongTagHandlesLargeFilesAndIsDeterministic() {
        long fiveGiB = 5L << 30;
        EntityTag tag = EntityTag.strong(fiveGiB, 1_700_000_000_123L);
        assertEquals("140000000-18bcfe5687b", tag.opaque());
        assertEquals(tag, EntityTag.strong(fiveGiB, 1_700_000_000_123L));
        assertNotEquals(tag, EntityTag.strong(fiveGiB + 1, 1_700_000_000_123L));
        assertNotEquals(tag, EntityTag.strong(fiveGiB, 1_700_000_000_124L));
    }

    @Test
    void strongTagOfNegativeMtimeIsStillAValidTag() {
        EntityTag tag = EntityTag.strong(0, -1);
        assertEquals("0-ffffffffffffffff", tag.opaque());
        assertEquals(Optional.of(tag), EntityTag.parse(tag.toHeaderValue()));
    }

    @Test
    void weakTagSerializesWithPrefix() {
        assertEquals("W/\"a\"", WEAK_A.toHeaderValue());
        assertEquals("\"\"", new EntityTag("", false).toHeaderValue());
    }

    @Test
    void constructorRejectsCharactersOutsideEtagc() {
        assertThrows(IllegalArgumentException.class, () -> new EntityTag("a\"b", false));
        assertThrows(IllegalArgumentException.class, () -> new EntityTag("a b", false));
        assertThrows(IllegalArgumentException.class, () -> new EntityTag("\u0100", false));
        assertThrows(IllegalArgumentException.class, () -> new EntityTag("\u007f", false));
        assertThrows(NullPointerException.class, () -> new EntityTag(null, false));
    }

    @Test
    void parsesAListWithOptionalWhitespaceAndWeakTags() {
        assertEquals(Optional.of(List.of(new EntityTag("x", false), new EntityTag("y", true), new EntityTag("z", false))),
                EntityTag.parseList("\"x\" ,W/\"y\",\t \"z\""));
    }

    @Test
    void ignoresEmptyListElements() {
        assertEquals(Optional.of(List.of(STRONG_A, WEAK_A)), EntityTag.parseList(" , \"a\",, W/\"a\" ,"));
    }

    @Test
    void anEmptyValueIsAnEmptyList() {
        assertEquals(Optional.of(List.of()), EntityTag.parseList(""));
        assertEquals(Optional.of(List.of()), EntityTag.parseList(" , "));
    }

    @Test
    void acceptsObsTextAndAnEmptyOpaqueTag() {
        assertEquals(Optional.of(List.of(new EntityTag("caf\u00e9", false), new EntityTag("", false))),
                EntityTag.parseList("\"caf\u00e9\", \"\""));
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {
        "a",
        "\"a",
        "\"a\"\"b\"",
        "\"a\" \"b\"",
        "\"a\"b",
        "w/\"a\"",
        "W/ \"a\"",
        "W/a",
        "W/",
        "*",
        "\"a\", *",
        "\"a b\"",
        "\"a\u0001\"",
        "\"a\u0100\"",
        "'a'",
    })
    void rejectsInvalidLists(String value) {
        assertEquals(Optional.empty(), EntityTag.parseList(value));
    }

    @Test
    void parsesASingleTag() {
        assertEquals(Optional.of(WEAK_A), EntityTag.parse(" W/\"a\" "));
        assertEquals(Optional.of(STRONG_A), EntityTag.parse("\"a\""));
        assertEquals(Optional.empty(), EntityTag.parse("\"a\", \"b\""));
        assertEquals(Optional.empty(), EntityTag.parse(""));
        assertEquals(Optional.empty(), EntityTag.parse(null));
    }

    @Test
    void parseInvertsToHeaderValue() {
        for (EntityTag tag : List.of(STRONG_A, WEAK_A, EntityTag.strong(42, 42), new EntityTag("!#~\u00ff", true))) {
            assertEquals(Optional.of(tag), EntityTag.parse(tag.toHeaderValue()));
        }
    }

    @Test
    void recognisesOnlyTheBareWildcard() {
        assertTrue(EntityTag.isAny("*"));
        assertTrue(EntityTag.isAny(" \t* "));
        assertFalse(EntityTag.isAny("\"*\""));
        assertFalse(EntityTag.isAny("*, *"));
        assertFalse(EntityTag.isAny("**"));
        assertFalse(EntityTag.isAny(""));
        assertFalse(EntityTag.isAny(null));
    }

    /** The comparison table of RFC 9110 Section 8.8.3.2. */
    @ParameterizedTest
    @CsvSource({
        "W/%1%, W/%1%, false, true",
        "W/%1%, W/%2%, false, false",
        "W/%1%, %1%,   false, true",
        "%1%,   %1%,   true,  true",
        "%1%,   %2%,   false, false",
    })
    void comparesAsRfc9110Table(String left, String right, boolean strong, boolean weak) {
        EntityTag a = EntityTag.parse(left.replace('%', '"')).orElseThrow();
        EntityTag b = EntityTag.parse(right.replace('%', '"')).orElseThrow();
        assertEquals(strong, a.strongMatch(b));
        assertEquals(strong, b.strongMatch(a));
        assertEquals(weak, a.weakMatch(b));
        assertEquals(weak, b.weakMatch(a));
    }

    @Test
    void nothingMatchesNull() {
        assertFalse(STRONG_A.strongMatch(null));
        assertFalse(STRONG_A.weakMatch(null));
    }
}
