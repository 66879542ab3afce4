package dev.sluice.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SymlinkPolicyTest {

    @Test
    void parsesCaseInsensitively() {
        assertEquals(SymlinkPolicy.INSIDE_ROOT, SymlinkPolicy.parse("inside-root"));
        assertEquals(SymlinkPolicy.INSIDE_ROOT, SymlinkPolicy.parse("INSIDE-Root"));
        assertEquals(SymlinkPolicy.NEVER, SymlinkPolicy.parse("never"));
        assertEquals(SymlinkPolicy.NEVER, SymlinkPolicy.parse(" Never "));
    }

    @Test
    void settingValueRoundTrips() {
        assertEquals("inside-root", SymlinkPolicy.INSIDE_ROOT.settingValue());
        assertEquals("never", SymlinkPolicy.NEVER.settingValue());
        for (SymlinkPolicy p : SymlinkPolicy.values()) {
            assertEquals(p, SymlinkPolicy.parse(p.settingValue()));
        }
    }

    @Test
    void rejectsUnknownValuesNamingThem() {
        for (String bad : new String[] {"always", "INSIDE_ROOT", "", "inside root"}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> SymlinkPolicy.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SymlinkPolicy.parse(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }
}
