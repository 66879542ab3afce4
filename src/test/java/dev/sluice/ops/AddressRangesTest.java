package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AddressRangesTest {

    private static AddressRanges of(String... items) {
        return AddressRanges.of(List.of(items));
    }

    @Test
    void loopbackByDefaultInEveryFormAContainerGivesIt() {
        AddressRanges loopback = AddressRanges.of(AddressRanges.LOOPBACK);
        for (String address : List.of("127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1", "[::1]",
                "::ffff:127.0.0.1", "0:0:0:0:0:ffff:7f00:1", "[0:0:0:0:0:0:0:1]")) {
            assertTrue(loopback.contains(address), address);
        }
        for (String address : List.of("128.0.0.1", "10.0.0.1", "126.255.255.255", "::2", "::", "fe80::1",
                "::ffff:10.0.0.1", "::127.0.0.1", "localhost", "", "garbage", "1.2.3", "1.2.3.4.5")) {
            assertFalse(loopback.contains(address), address);
        }
        assertFalse(loopback.contains(null));
    }

    @Test
    void cidrRangesCutAtAnyBit() {
        AddressRanges ranges = of("10.0.0.0/8", "192.168.4.0/22", "203.0.113.7", "2001:db8::/32", "fe80::/10");
        assertTrue(ranges.contains("10.200.3.4"));
        assertFalse(ranges.contains("11.0.0.0"));
        assertTrue(ranges.contains("192.168.4.0"));
        assertTrue(ranges.contains("192.168.7.255"));
        assertFalse(ranges.contains("192.168.8.0"));
        assertFalse(ranges.contains("192.168.3.255"));
        assertTrue(ranges.contains("203.0.113.7"));
        assertFalse(ranges.contains("203.0.113.8"));
        assertTrue(ranges.contains("2001:db8:ffff::1"));
        assertTrue(ranges.contains("2001:DB8::"));
        assertFalse(ranges.contains("2001:db9::1"));
        assertTrue(ranges.contains("febf:ffff::1"));
        assertTrue(ranges.contains("fe80::1%eth0"));
        assertFalse(ranges.contains("fec0::1"));
        assertTrue(of("0.0.0.0/0").contains("8.8.8.8"));
        assertFalse(of("0.0.0.0/0").contains("2001:db8::1"), "IPv4's /0 is all of IPv4, not all of IPv6");
        assertTrue(of("::/0").contains("2001:db8::1"));
        assertTrue(of("::/0").contains("8.8.8.8"));
    }

    @Test
    void oneHostRangeIsThatHostOnly() {
        AddressRanges one = of("127.0.0.1/32");
        assertTrue(one.contains("127.0.0.1"));
        assertTrue(one.contains("::ffff:127.0.0.1"));
        assertFalse(one.contains("127.0.0.2"));
        assertFalse(one.contains("::1"));
    }

    @Test
    void ipv4MappedRangesAndAddressesAreTheirIpv4Selves() {
        AddressRanges mapped = of("::ffff:192.0.2.0/120");
        assertTrue(mapped.contains("192.0.2.77"));
        assertTrue(mapped.contains("::ffff:192.0.2.77"));
        assertTrue(mapped.contains("::FFFF:C000:024D"));
        assertFalse(mapped.contains("192.0.3.1"));
        assertTrue(of("::ffff:c000:0201").contains("192.0.2.1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "example.org", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4/33",
        "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/8/8", "::1/129", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":1", "1:",
        "::g", "1.2.3.4::", "::1.2.3", "", " ", "::1%eth0", "[::1]", "1.2.3.4/ 8", "0x7f.0.0.1"})
    void whatIsNotAnAddressOrRangeIsRefused(String item) {
        assertFalse(AddressRanges.isRange(item), item);
        assertThrows(IllegalArgumentException.class, () -> of(item));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0/0", "10.0.0.0/8", "::", "::/0", "::1", "1::", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "2001:db8::/32", "::ffff:1.2.3.4", "64:ff9b::1.2.3.4/96",
        "FE80::/10"})
    void everyTextFormIsTaken(String item) {
        assertTrue(AddressRanges.isRange(item), item);
    }
}
