package dev.sluice.http;

/**
 * A satisfiable byte range of a representation, both ends inclusive (RFC 9110 Section 14.1.2).
 *
 * @param first offset of the first byte
 * @param last offset of the last byte, not less than {@code first}
 */
public record ByteRange(long first, long last) {

    /**
     * Validates the offsets.
     *
     * @param first offset of the first byte
     * @param last offset of the last byte
     * @throws IllegalArgumentException unless {@code 0 <= first <= last < Long.MAX_VALUE}
     */
    public ByteRange {
        if (first < 0 || last < first || last == Long.MAX_VALUE) {
            throw new IllegalArgumentException("invalid byte range " + first + "-" + last);
        }
    }

    /**
     * Returns the number of bytes in the range.
     *
     * @return {@code last - first + 1}
     */
    public long length() {
        return last - first + 1;
    }
}
