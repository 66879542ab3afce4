package dev.sluice.http;

import java.util.Set;

/**
 * The request methods HTTP knows: those of IANA's HTTP Method Registry (RFC 9110 Section 16.1), by their exact,
 * case-sensitive names.
 *
 * <p>Why: RFC 9110 Section 9.1 answers a method that is recognized but not allowed for the resource with 405
 * (Method Not Allowed) and one that is not recognized with 501 (Not Implemented). A file server allows only a few
 * methods; which of the others it "recognizes" is the registry's list, the one every client and proxy shares.
 */
public final class MethodRegistry {

    private static final Set<String> REGISTERED = Set.of("ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT",
            "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LABEL", "LINK", "LOCK", "MERGE", "MKACTIVITY", "MKCALENDAR",
            "MKCOL", "MKREDIRECTREF", "MKWORKSPACE", "MOVE", "OPTIONS", "ORDERPATCH", "PATCH", "POST", "PRI",
            "PROPFIND", "PROPPATCH", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "TRACE", "UNBIND", "UNCHECKOUT",
            "UNLINK", "UNLOCK", "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL");

    private MethodRegistry() {
    }

    /** Whether {@code method} is a registered method, compared case-sensitively as methods are. */
    public static boolean isRegistered(String method) {
        return REGISTERED.contains(method);
    }
}
