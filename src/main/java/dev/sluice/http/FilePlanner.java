package dev.sluice.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Decides the answer to a {@code GET} or {@code HEAD} of a file: preconditions first, in the order of
 * RFC 9110 section 13.2.2, then the range (section 14), then the headers every answer about the file carries.
 * Pure: no servlet types, no I/O.
 */
public final class FilePlanner {

    /** Server-wide choices. */
    public record Options(boolean acceptRanges, int maxRanges, String cacheControl) {
    }

    /**
     * What is known about the file (or the precompressed variant) being answered with.
     *
     * @param length bytes in the representation
     * @param lastModifiedMillis its modification time
     * @param etag its entity tag
     * @param contentType the media type to announce (with any charset), never null
     * @param contentEncoding the content coding of a precompressed variant, or null
     * @param varies true when the answer depends on Accept-Encoding (precompressed variants are enabled)
     * @param disposition a Content-Disposition value, or null
     */
    public record Representation(long length, long lastModifiedMillis, EntityTag etag, String contentType,
            String contentEncoding, boolean varies, String disposition) {

        Validators validators() {
            return new Validators(etag, lastModifiedMillis);
        }

        /**
         * This representation with a modification time no later than {@code nowMillis}: a server must not send a
         * Last-Modified later than its Date, and sends the Date instead (RFC 9110 8.8.2.1), for a file whose
         * time lies in the future (a clock set wrong where it was written, an archive unpacked with its times).
         */
        Representation notLaterThan(long nowMillis) {
            return lastModifiedMillis <= nowMillis ? this : new Representation(length, nowMillis, etag, contentType,
                    contentEncoding, varies, disposition);
        }
    }

    /**
     * The parts of the request that matter.
     *
     * @param method the request method, upper case
     * @param conditional the If-* headers
     * @param range the Range header, or null
     */
    public record Request(String method, ConditionalHeaders conditional, String range) {
    }

    private FilePlanner() {
    }

    /** Plans the answer at the current time; see {@link #plan(Request, Representation, Options, Supplier, long)}. */
    public static ResponsePlan plan(Request request, Representation file, Options options,
            Supplier<String> boundaries) {
        return plan(request, file, options, boundaries, System.currentTimeMillis());
    }

    /**
     * Plans the answer; {@code boundaries} supplies a fresh multipart boundary when one is needed. A modification
     * time after {@code nowMillis} is answered, and compared, as {@code nowMillis} (RFC 9110 8.8.2.1): so such a
     * file's date is never a strong validator (If-Range by date sends the whole file).
     */
    public static ResponsePlan plan(Request request, Representation asStored, Options options,
            Supplier<String> boundaries, long nowMillis) {
        Representation file = asStored.notLaterThan(nowMillis);
        boolean getOrHead = request.method().equals("GET") || request.method().equals("HEAD");
        List<ResponsePlan.Header> validators = validatorHeaders(file, options);
        switch (Preconditions.evaluate(file.validators(), request.conditional(), getOrHead)) {
            case NOT_MODIFIED:
                // The length a 200 would have had (RFC 9110 8.6): otherwise Jetty adds a false "0" of its own.
                List<ResponsePlan.Header> notModified = withCacheControl(validators, options);
                notModified.add(new ResponsePlan.Header("Content-Length", Long.toString(file.length())));
                return new ResponsePlan(304, notModified, List.of(), -1);
            case PRECONDITION_FAILED:
                return text(412, "Precondition Failed", validators);
            default:
                break;
        }
        RangeOutcome range = new RangeOutcome.Full();
        if (options.acceptRanges() && request.method().equals("GET") && request.range() != null
                && Preconditions.ifRangeAllows(request.conditional().ifRange(), file.validators(), nowMillis)) {
            range = RangeRequest.evaluate(request.range(), file.length(), options.maxRanges());
        }
        if (file.contentEncoding() != null && range instanceof RangeOutcome.Partial partial
                && partial.ranges().size() > 1) {
            // The whole variant instead (a server may ignore Range, RFC 9110 14.2): a Content-Encoding over a
            // multipart body says the multipart itself is encoded, and clients that decode it (curl --compressed,
            // browsers) fail. One range of the encoded bytes is what nginx's gzip_static sends too.
            range = new RangeOutcome.Full();
        }
        if (range instanceof RangeOutcome.Unsatisfiable) {
            // The body is a line of text: no Content-Encoding or Content-Disposition of the file, which would
            // describe bytes not sent (RFC 9110 8.4), and no Cache-Control, which would let a cache keep the error.
            List<ResponsePlan.Header> refused = new ArrayList<>(validators);
            refused.add(new ResponsePlan.Header("Content-Range", RangeRequest.unsatisfiedContentRange(file.length())));
            return text(416, "Range Not Satisfiable", refused);
        }
        List<ResponsePlan.Header> headers = withCacheControl(validators, options);
        if (file.contentEncoding() != null) {
            headers.add(new ResponsePlan.Header("Content-Encoding", file.contentEncoding()));
        }
        if (file.disposition() != null) {
            headers.add(new ResponsePlan.Header("Content-Disposition", file.disposition()));
        }
        if (range instanceof RangeOutcome.Partial partial && partial.ranges().size() == 1) {
            ByteRange only = partial.ranges().get(0);
            headers.add(new ResponsePlan.Header("Content-Type", file.contentType()));
            headers.add(new ResponsePlan.Header("Content-Range", RangeRequest.contentRange(only, file.length())));
            return new ResponsePlan(206, headers, List.of(new ResponsePlan.FilePart(only.first(), only.length())),
                    only.length());
        }
        if (range instanceof RangeOutcome.Partial partial) {
            MultipartByteranges multipart = MultipartByteranges.of(partial.ranges(), file.length(),
                    file.contentType(), boundaries.get());
            headers.add(new ResponsePlan.Header("Content-Type", multipart.contentType()));
            List<ResponsePlan.Part> body = new ArrayList<>();
            for (MultipartByteranges.Piece piece : multipart.pieces()) {
                if (piece instanceof MultipartByteranges.Piece.Literal literal) {
                    body.add(new ResponsePlan.Bytes(literal.bytes()));
                } else if (piece instanceof MultipartByteranges.Piece.Range part) {
                    body.add(new ResponsePlan.FilePart(part.range().first(), part.range().length()));
                }
            }
            return new ResponsePlan(206, headers, body, multipart.contentLength());
        }
        headers.add(new ResponsePlan.Header("Content-Type", file.contentType()));
        List<ResponsePlan.Part> body = file.length() == 0 ? List.of()
                : List.of(new ResponsePlan.FilePart(0, file.length()));
        return new ResponsePlan(200, headers, body, file.length());
    }

    /**
     * The headers every answer about the file carries (the 412 and 416 too), and a 304 must repeat
     * (RFC 9110 15.4.5) with {@link #withCacheControl Cache-Control}.
     */
    private static List<ResponsePlan.Header> validatorHeaders(Representation file, Options options) {
        List<ResponsePlan.Header> headers = new ArrayList<>();
        headers.add(new ResponsePlan.Header("ETag", file.etag().toHeaderValue()));
        headers.add(new ResponsePlan.Header("Last-Modified", HttpDate.format(file.lastModifiedMillis())));
        headers.add(new ResponsePlan.Header("Accept-Ranges", options.acceptRanges() ? "bytes" : "none"));
        if (file.varies()) {
            headers.add(new ResponsePlan.Header("Vary", "Accept-Encoding"));
        }
        headers.add(new ResponsePlan.Header("X-Content-Type-Options", "nosniff"));
        return headers;
    }

    /**
     * {@code headers} and the configured Cache-Control, for the answers that carry the file or stand for it (200,
     * 206, 304); not for errors, which a cache would otherwise keep for as long as the file.
     */
    private static List<ResponsePlan.Header> withCacheControl(List<ResponsePlan.Header> headers, Options options) {
        List<ResponsePlan.Header> all = new ArrayList<>(headers);
        if (options.cacheControl() != null && !options.cacheControl().isBlank()) {
            all.add(new ResponsePlan.Header("Cache-Control", options.cacheControl()));
        }
        return all;
    }

    /** A short plain-text answer. */
    public static ResponsePlan text(int status, String message, List<ResponsePlan.Header> headers) {
        List<ResponsePlan.Header> all = new ArrayList<>(headers);
        all.add(new ResponsePlan.Header("Content-Type", "text/plain;charset=utf-8"));
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        return new ResponsePlan(status, all, List.of(new ResponsePlan.Bytes(body)), body.length);
    }

    /** The method as the planner expects it. */
    public static String normalizeMethod(String method) {
        return method == null ? "" : method.toUpperCase(Locale.ROOT);
    }
}
