package dev.sluice.http;

/**
 * The current validators of the selected representation (RFC 9110 Section 8.8).
 *
 * @param etag the entity-tag sent in ETag, or {@code null} if the representation has none
 * @param lastModifiedMillis the modification time sent in Last-Modified, in epoch milliseconds;
 *     comparisons use it truncated to whole seconds, the precision of an HTTP-date
 *     (RFC 9110 Section 8.8.2)
 */
public record Validators(EntityTag etag, long lastModifiedMillis) {

    long lastModifiedSecond() {
        return Math.floorDiv(lastModifiedMillis, 1000L);
    }
}
