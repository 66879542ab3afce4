package dev.sluice.http;

import java.util.List;

/**
 * What a server does with a Range header field (RFC 9110 Section 14.2), as decided by
 * {@link RangeRequest#evaluate(String, long, int)}.
 */
public sealed interface RangeOutcome {

    /**
     * Ignore the Range header field and send the whole representation with 200 (OK)
     * (RFC 9110 Section 14.2).
     */
    record Full() implements RangeOutcome {
    }

    /**
     * Send the ranges with 206 (Partial Content) (RFC 9110 Section 15.3.7).
     *
     * @param ranges one or more ranges, sorted by offset, neither overlapping nor adjacent
     */
    record Partial(List<ByteRange> ranges) implements RangeOutcome {

        /**
         * Copies the ranges.
         *
         * @param ranges one or more ranges, sorted, neither overlapping nor adjacent
         * @throws IllegalArgumentException if {@code ranges} is empty
         */
        public Partial {
            ranges = List.copyOf(ranges);
            if (ranges.isEmpty()) {
                throw new IllegalArgumentException("a partial response needs at least one range");
            }
        }

        /**
         * Returns the number of representation bytes the ranges select.
         *
         * @return the sum of the range lengths
         */
        public long totalBytes() {
            return ranges.stream().mapToLong(ByteRange::length).sum();
        }
    }

    /**
     * Answer 416 (Range Not Satisfiable) with {@code Content-Range: bytes *&#47;LENGTH}
     * (RFC 9110 Sections 14.4 and 15.5.17).
     */
    record Unsatisfiable() implements RangeOutcome {
    }
}
