package dev.sluice.http;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Evaluates conditional request fields against an existing representation
 * (RFC 9110 Sections 13.1 and 13.2).
 *
 * <p>Callers evaluate preconditions only when the response without them would be 2xx or 412
 * (RFC 9110 Section 13.2.1), that is for a resource that exists.
 */
public final class Preconditions {

    /** The result of precondition evaluation (RFC 9110 Section 13.2.2). */
    public enum Decision {
        /** Perform the request: every present precondition holds. */
        CONTINUE,
        /** Answer 304 (Not Modified) (RFC 9110 Section 15.4.5). */
        NOT_MODIFIED,
        /** Answer 412 (Precondition Failed) (RFC 9110 Section 15.5.13). */
        PRECONDITION_FAILED
    }

    private static final long ONE_SECOND_MILLIS = 1000L;

    private Preconditions() {
    }

    /**
     * Evaluates the preconditions in the order of RFC 9110 Section 13.2.2.
     *
     * <ol>
     *   <li>If-Match present: {@code *} holds because the representation exists; otherwise the
     *       condition holds only if a listed tag strongly matches the current one
     *       (RFC 9110 Section 13.1.1). If it fails: 412. A value that is not a valid list also
     *       fails, as in Apache httpd: the client asked for a condition and the server cannot
     *       show that it holds.</li>
     *   <li>Otherwise If-Unmodified-Since with a valid HTTP-date: 412 if the representation was
     *       modified after that date. An invalid date is ignored (RFC 9110 Section 13.1.4).</li>
     *   <li>If-None-Match present: if it is {@code *} or a listed tag weakly matches the current one
     *       (RFC 9110 Section 13.1.2), 304 for GET and HEAD, 412 for other methods. A value that
     *       is not a valid list matches nothing, so the full response is sent.</li>
     *   <li>Otherwise, for GET and HEAD only, If-Modified-Since with a valid HTTP-date: 304 if the
     *       representation was not modified after that date. An invalid date is ignored
     *       (RFC 9110 Section 13.1.3).</li>
     *   <li>Otherwise continue. If-Range is evaluated separately, by
     *       {@link #ifRangeAllows(String, Validators)}.</li>
     * </ol>
     *
     * <p>A field is present when its value is non-null, even if empty; an empty list matches no
     * tag. Dates compare with whole-second precision.
     *
     * @param validators the current validators of the representation
     * @param headers the conditional fields of the request
     * @param isGetOrHead whether the request method is GET or HEAD
     * @return the decision, never {@code null}
     */
    public static Decision evaluate(Validators validators, ConditionalHeaders headers, boolean isGetOrHead) {
        Objects.requireNonNull(validators, "validators");
        Objects.requireNonNull(headers, "headers");
        long lastModified = validators.lastModifiedSecond();
        if (headers.ifMatch() != null) {
            if (!EntityTag.isAny(headers.ifMatch()) && !anyMatches(headers.ifMatch(), validators.etag(), true)) {
                return Decision.PRECONDITION_FAILED;
            }
        } else {
            OptionalLong date = HttpDate.parse(headers.ifUnmodifiedSince());
            if (date.isPresent() && lastModified > date.getAsLong() / 1000L) {
                return Decision.PRECONDITION_FAILED;
            }
        }
        if (headers.ifNoneMatch() != null) {
            if (EntityTag.isAny(headers.ifNoneMatch()) || anyMatches(headers.ifNoneMatch(), validators.etag(), false)) {
                return isGetOrHead ? Decision.NOT_MODIFIED : Decision.PRECONDITION_FAILED;
            }
        } else if (isGetOrHead) {
            OptionalLong date = HttpDate.parse(headers.ifModifiedSince());
            if (date.isPresent() && lastModified <= date.getAsLong() / 1000L) {
                return Decision.NOT_MODIFIED;
            }
        }
        return Decision.CONTINUE;
    }

    /**
     * Evaluates the preconditions for a representation that has neither an entity-tag nor a modification date (a
     * generated page such as a directory listing): If-Match holds only as {@code *}, else 412 (no tag can match,
     * RFC 9110 Section 13.1.1); If-None-Match {@code *} gives 304 for GET and HEAD, 412 for other methods (RFC 9110
     * Section 13.1.2), and a list of tags matches nothing; the date fields are ignored, as a recipient must for a
     * resource without a modification date (RFC 9110 Sections 13.1.3 and 13.1.4).
     *
     * @param headers the conditional fields of the request
     * @param isGetOrHead whether the request method is GET or HEAD
     * @return the decision, never {@code null}
     */
    public static Decision evaluateWithoutValidators(ConditionalHeaders headers, boolean isGetOrHead) {
        Objects.requireNonNull(headers, "headers");
        if (headers.ifMatch() != null && !EntityTag.isAny(headers.ifMatch())) {
            return Decision.PRECONDITION_FAILED;
        }
        if (headers.ifNoneMatch() != null && EntityTag.isAny(headers.ifNoneMatch())) {
            return isGetOrHead ? Decision.NOT_MODIFIED : Decision.PRECONDITION_FAILED;
        }
        return Decision.CONTINUE;
    }

    /**
     * Evaluates If-Range (RFC 9110 Section 13.1.5) at the current time; see
     * {@link #ifRangeAllows(String, Validators, long)}.
     *
     * @param ifRange the If-Range value, possibly {@code null}
     * @param validators the current validators of the representation
     * @return whether the Range header field may be honoured
     */
    public static boolean ifRangeAllows(String ifRange, Validators validators) {
        return ifRangeAllows(ifRange, validators, System.currentTimeMillis());
    }

    /**
     * Evaluates If-Range (RFC 9110 Section 13.1.5): whether a Range field may be honoured, or
     * the whole representation must be sent instead.
     *
     * <ul>
     *   <li>Absent: true.</li>
     *   <li>An entity-tag (the value starts with {@code "} or {@code W/}): true only if it is
     *       strong and strongly matches the current tag, so a weak tag never matches.</li>
     *   <li>An HTTP-date: true only if it equals Last-Modified to the second and Last-Modified is a
     *       strong validator, meaning at least one second before {@code nowMillis}
     *       (RFC 9110 Section 8.8.2.2); a file modified within the last second may change again
     *       within the same second, so the date cannot identify it.</li>
     *   <li>Anything else: false.</li>
     * </ul>
     *
     * @param ifRange the If-Range value, possibly {@code null}
     * @param validators the current validators of the representation
     * @param nowMillis the current time in epoch milliseconds
     * @return whether the Range header field may be honoured
     */
    public static boolean ifRangeAllows(String ifRange, Validators validators, long nowMillis) {
        Objects.requireNonNull(validators, "validators");
        if (ifRange == null) {
            return true;
        }
        String value = HeaderSyntax.trimOws(ifRange);
        if (value.startsWith("\"") || value.startsWith("W/")) {
            Optional<EntityTag> tag = EntityTag.parse(value);
            return tag.isPresent() && tag.get().strongMatch(validators.etag());
        }
        OptionalLong date = HttpDate.parse(value);
        return date.isPresent()
                && date.getAsLong() / 1000L == validators.lastModifiedSecond()
                && nowMillis >= Long.MIN_VALUE + ONE_SECOND_MILLIS
                && validators.lastModifiedMillis() <= nowMillis - ONE_SECOND_MILLIS;
    }

    private static boolean anyMatches(String listValue, EntityTag current, boolean strong) {
        if (current == null) {
            return false;
        }
        Optional<List<EntityTag>> tags = EntityTag.parseList(listValue);
        return tags.isPresent() && tags.get().stream()
                .anyMatch(tag -> strong ? tag.strongMatch(current) : tag.weakMatch(current));
    }
}
