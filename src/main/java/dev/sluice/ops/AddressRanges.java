package dev.sluice.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A set of IP addresses and CIDR ranges, IPv4 and IPv6, as {@code adminAllow} lists them: {@code 127.0.0.0/8},
 * {@code ::1}, {@code 10.1.2.3}, {@code 2001:db8::/32}, {@code ::ffff:192.0.2.0/120}. Parsing is pure: no name is
 * ever looked up, so a host name is refused rather than resolved.
 *
 * <p>Every address is compared as 16 bytes, an IPv4 address as its IPv4-mapped IPv6 form ({@code ::ffff:a.b.c.d}):
 * a client that reaches a dual-stack socket as {@code ::ffff:127.0.0.1} is the client {@code 127.0.0.1}, and a
 * range written either way matches both.
 */
public final class AddressRanges {

    /** Loopback only: what {@code adminAllow} allows by default. */
    public static final List<String> LOOPBACK = List.of("127.0.0.0/8", "::1");

    private final List<Range> ranges;
    private final List<String> items;

    private AddressRanges(List<Range> ranges, List<String> items) {
        this.ranges = List.copyOf(ranges);
        this.items = List.copyOf(items);
    }

    /** One range: the first {@code prefix} bits of {@code address} (16 bytes). */
    private record Range(byte[] address, int prefix) {

        boolean contains(byte[] other) {
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != other[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (other[full] & mask);
        }
    }

    /**
     * The ranges {@code items} name, each an address or {@code address/prefix}.
     *
     * @throws IllegalArgumentException naming the first item that is neither
     */
    public static AddressRanges of(List<String> items) {
        List<Range> ranges = new ArrayList<>();
        for (String item : items) {
            ranges.add(range(item).orElseThrow(() -> new IllegalArgumentException("'" + item
                    + "' is not an IP address or CIDR range")));
        }
        return new AddressRanges(ranges, items);
    }

    /** Whether {@code item} is an address or a CIDR range that {@link #of} takes. */
    public static boolean isRange(String item) {
        return range(item).isPresent();
    }

    /**
     * Whether {@code address} (as {@code getRemoteAddr()} gives it: {@code 127.0.0.1}, {@code 0:0:0:0:0:0:0:1},
     * {@code [::1]}, {@code fe80::1%eth0}) is in one of the ranges; false for anything that is not an address.
     */
    public boolean contains(String address) {
        if (address == null) {
            return false;
        }
        String text = address.trim();
        if (text.startsWith("[") && text.endsWith("]")) {
            text = text.substring(1, text.length() - 1);
        }
        int zone = text.indexOf('%');
        if (zone > 0 && text.indexOf(':') >= 0) {
            text = text.substring(0, zone);
        }
        byte[] bytes = address(text);
        if (bytes == null) {
            return false;
        }
        for (Range range : ranges) {
            if (range.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    private static Optional<Range> range(String item) {
        String text = item.trim();
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = address(host);
        if (bytes == null) {
            return Optional.empty();
        }
        boolean v4 = host.indexOf(':') < 0;
        int prefix = 128;
        if (slash >= 0) {
            String digits = text.substring(slash + 1);
            if (digits.isEmpty() || digits.length() > 3 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.empty();
            }
            int bits = Integer.parseInt(digits);
            if (bits > (v4 ? 32 : 128)) {
                return Optional.empty();
            }
            prefix = v4 ? bits + 96 : bits;
        }
        return Optional.of(new Range(bytes, prefix));
    }

    /** The 16 bytes of an IPv4 or IPv6 literal (IPv4 as IPv4-mapped), or null when it is not one. */
    static byte[] address(String text) {
        if (text.indexOf(':') >= 0) {
            return ipv6(text);
        }
        byte[] v4 = ipv4(text);
        if (v4 == null) {
            return null;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        return mapped;
    }

    /** Exactly four decimal parts of 0 to 255, no leading zeros (which some readers take as octal). */
    private static byte[] ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')
                    || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int value = Integer.parseInt(part);
            if (value > 255) {
                return null;
            }
            bytes[i] = (byte) value;
        }
        return bytes;
    }

    /** RFC 4291 text forms: eight groups, one {@code ::}, an IPv4 tail in place of the last two groups. */
    private static byte[] ipv6(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        int[] groups = new int[8];
        int doubleColon = lower.indexOf("::");
        if (doubleColon >= 0 && lower.indexOf("::", doubleColon + 1) >= 0) {
            return null;
        }
        List<String> head;
        List<String> tail;
        if (doubleColon >= 0) {
            head = split(lower.substring(0, doubleColon));
            tail = split(lower.substring(doubleColon + 2));
        } else {
            head = split(lower);
            tail = List.of();
        }
        if (head == null || tail == null) {
            return null;
        }
        List<Integer> values = new ArrayList<>();
        List<Integer> tailValues = new ArrayList<>();
        if (!groups(head, values, doubleColon < 0) || !groups(tail, tailValues, true)) {
            return null;
        }
        int count = values.size() + tailValues.size();
        if (doubleColon >= 0 ? count > 7 : count != 8) {
            return null;
        }
        for (int i = 0; i < values.size(); i++) {
            groups[i] = values.get(i);
        }
        for (int i = 0; i < tailValues.size(); i++) {
            groups[8 - tailValues.size() + i] = tailValues.get(i);
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[2 * i] = (byte) (groups[i] >> 8);
            bytes[2 * i + 1] = (byte) groups[i];
        }
        return bytes;
    }

    /** The colon-separated parts of one side of {@code ::}; null for an empty part. */
    private static List<String> split(String side) {
        if (side.isEmpty()) {
            return List.of();
        }
        List<String> parts = Arrays.asList(side.split(":", -1));
        return parts.stream().anyMatch(String::isEmpty) ? null : parts;
    }

    /** Hex groups of 1-4 digits; the last part may be an IPv4 address (two groups) when {@code last}. */
    private static boolean groups(List<String> parts, List<Integer> into, boolean last) {
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            if (part.indexOf('.') >= 0) {
                byte[] v4 = last && i == parts.size() - 1 ? ipv4(part) : null;
                if (v4 == null) {
                    return false;
                }
                into.add(((v4[0] & 0xff) << 8) | (v4[1] & 0xff));
                into.add(((v4[2] & 0xff) << 8) | (v4[3] & 0xff));
                continue;
            }
            if (part.length() > 4 || !part.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return false;
            }
            into.add(Integer.parseInt(part, 16));
        }
        return true;
    }

    @Override
    public String toString() {
        return String.join(",", items);
    }
}
