package dev.sluice.http;

/**
 * The raw conditional request field values (RFC 9110 Section 13.1); {@code null} means absent.
 *
 * @param ifMatch the If-Match value (RFC 9110 Section 13.1.1)
 * @param ifNoneMatch the If-None-Match value (RFC 9110 Section 13.1.2)
 * @param ifModifiedSince the If-Modified-Since value (RFC 9110 Section 13.1.3)
 * @param ifUnmodifiedSince the If-Unmodified-Since value (RFC 9110 Section 13.1.4)
 * @param ifRange the If-Range value (RFC 9110 Section 13.1.5)
 */
public record ConditionalHeaders(
        String ifMatch, String ifNoneMatch, String ifModifiedSince, String ifUnmodifiedSince, String ifRange) {

    private static final ConditionalHeaders NONE = new ConditionalHeaders(null, null, null, null, null);

    /**
     * Returns a request without conditional fields.
     *
     * @return headers whose values are all {@code null}
     */
    public static ConditionalHeaders none() {
        return NONE;
    }
}
