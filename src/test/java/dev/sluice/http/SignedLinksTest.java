package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.SignedLinks.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignedLinksTest {

    private static final byte[] KEY = "sluice-test-key-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OLD_KEY = "the-previous-key-9876543210".getBytes(StandardCharsets.US_ASCII);
    private static final long EXPIRES = 1_700_000_000L;
    private static final long BEFORE = EXPIRES - 60;
    private static final String CLIENT = "127.0.0.1";

    private final SignedLinks links = SignedLinks.of(KEY, null);
    private final LinkSigner signer = links.signer();

    /** Splits a minted link and verifies it as a servlet would see it. */
    private Verdict verify(SignedLinks with, String link, String client, long now) {
        int q = link.indexOf('?');
        return with.verify(q < 0 ? link : link.substring(0, q), q < 0 ? null : link.substring(q + 1), client, now);
    }

    private Verdict verify(String link) {
        return verify(links, link, CLIENT, BEFORE);
    }

    private void assertValid(String path, String link) {
        assertEquals(new Verdict.Valid(path), verify(link), link);
    }

    private void assertForbidden(String link) {
        assertInstanceOf(Verdict.Forbidden.class, verify(link), link);
    }

    /** Vectors computed apart, with python3's hmac, hashlib and base64 modules, not with this code. */
    @Test
    void knownAnswerVectorsComputedWithPythonsHmac() {
        assertEquals("/dir/my%20file.iso?expires=1700000000&sig=qs0pVT9QOreqVl0j46Us9wsjcUbxlDhuhBGuXuW3pHg",
                signer.sign("/dir/my file.iso", EXPIRES));
        assertEquals("/dir/a.txt?expires=1700000000&prefix=/dir&sig=RET7Bn08R_Pfjc31003r0VSCGsionoz8B__liWTTGLQ",
                signer.sign("/dir/a.txt", EXPIRES, "/dir", null));
        assertEquals("/r%C3%A9sum%C3%A9.pdf?expires=1700000000&ip=203.0.113.7"
                        + "&sig=3e64AdviBsBGyCSxQGbjclTlU7-SJNdEZ4vkn2G9Gjo",
                signer.sign("/r\u00e9sum\u00e9.pdf", EXPIRES, null, "203.0.113.7"));
        assertEquals("1700000000\npath\n/dir/my file.iso\n", SignedLinks.stringToSign(EXPIRES, false,
                "/dir/my file.iso", ""));
    }

    @Test
    void theReadmesPythonMintsTheSameLinksAsTheJavaApi() throws Exception {
        Assumptions.assumeTrue(ReadmePython.available(), "python3 is not on the PATH");
        long now = EXPIRES - 3600;
        for (String path : new String[] {"/dir/my file.iso", "/r\u00e9sum\u00e9 (1).pdf", "/a+b/c&d=e?f#g.txt",
            "/~user/x_y-z.tar.gz", "/"}) {
            assertEquals(signer.sign(path, EXPIRES), ReadmePython.sign(KEY, path, 3600, "", "", now), path);
        }
        assertEquals(signer.sign("/dir/sub/a.txt", EXPIRES, "/dir", null),
                ReadmePython.sign(KEY, "/dir/sub/a.txt", 3600, "/dir", "", now));
        assertEquals(signer.sign("/a.txt", EXPIRES, null, "::1"), ReadmePython.sign(KEY, "/a.txt", 3600, "", "::1",
                now));
        String python = ReadmePython.sign(KEY, "/dir/x y.bin", 3600, "/dir", "127.0.0.1", now);
        assertEquals(new Verdict.Valid("/dir/x y.bin"), verify(links, python, "127.0.0.1", now));
    }

    @Test
    void aGenuineLinkIsServedUpToItsExpirySecondThenGone() {
        String link = signer.sign("/dir/my file.iso", EXPIRES);
        assertValid("/dir/my file.iso", link);
        assertEquals(new Verdict.Valid("/dir/my file.iso"), verify(links, link, CLIENT, EXPIRES));
        assertEquals(new Verdict.Expired(EXPIRES), verify(links, link, CLIENT, EXPIRES + 1));
        assertEquals(new Verdict.Expired(EXPIRES), verify(links, link, CLIENT, Long.MAX_VALUE));
    }

    @Test
    void reEncodingsOfTheSamePathVerify() {
        String query = signer.sign("/dir/my file.iso", EXPIRES).substring("/dir/my%20file.iso".length());
        for (String raw : new String[] {"/dir/my%20file.iso", "/%64ir/my%20file.iso", "/dir/my%20fil%65.iso",
            "/dir/my%20fil%65%2eiso", "/dir//my%20file.iso", "//dir/my%20file.iso", "dir/my%20file.iso",
            "/dir/my file.iso"}) {
            assertValid("/dir/my file.iso", raw + query);
        }
        assertValid("/dir/my file.iso", "/dir/my%20file.iso?download&" + query.substring(1) + "&x=1");
    }

    @Test
    void aPathThatResolvesElsewhereNeverCarriesTheSignature() {
        String a = signer.sign("/a", EXPIRES);
        String query = a.substring(2);
        for (String raw : new String[] {"/a/../b", "/a/..", "/a/./", "/./a", "/b/../a", "/a/%2e%2e/b", "/a/%2E%2e",
            "/%2e/a", "/a%2fb", "/a%2F..%2Fb", "/a%5c..%5cb", "/a\\..\\b", "/a;x", "/a;/../b", "/a%00", "/a%0a",
            "/a%", "/a%2", "/a%zz", "/a%C0%AE%C0%AE", "/a%ff", "/A", "/a ", "/a.", "/a+", "/b", "/a/b"}) {
            assertForbidden(raw + query);
        }
        assertForbidden("/a" + query + "&" + SignedLinks.PREFIX + "=/a");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "-1700000000", "+1700000000", "01700000000", "1700000000.0", "1e9", "abc",
        " 1700000000", "1700000000 ", "%31700000000", "1000000000000", "9223372036854775807",
        "9223372036854775808", "99999999999999999999999999", "1700000001", "1699999999", "\u0661\u0667"})
    void anExpiryOtherThanTheSignedOneIsForbiddenNeverGone(String expires) {
        String link = signer.sign("/f", EXPIRES);
        String forged = link.replace("expires=" + EXPIRES, "expires=" + expires);
        assertForbidden(forged);
        assertInstanceOf(Verdict.Forbidden.class, verify(links, forged, CLIENT, Long.MAX_VALUE), forged);
    }

    @Test
    void farFutureLinksAreServedWhenSignedAndNothingPastTwelveDigitsIsEverSigned() {
        assertValid("/f", signer.sign("/f", SignedLinks.MAX_EXPIRES));
        assertThrows(IllegalArgumentException.class, () -> signer.sign("/f", SignedLinks.MAX_EXPIRES + 1));
        assertThrows(IllegalArgumentException.class, () -> signer.sign("/f", 0));
        assertThrows(IllegalArgumentException.class, () -> signer.sign("/f", -1));
    }

    @Test
    void missingTruncatedForgedOrDuplicatedParametersAreForbidden() {
        String link = signer.sign("/f", EXPIRES);
        String sig = link.substring(link.indexOf("sig=") + 4);
        assertForbidden("/f");
        assertForbidden("/f?");
        assertForbidden("/f?expires=" + EXPIRES);
        assertForbidden("/f?sig=" + sig);
        assertForbidden("/f?expires=" + EXPIRES + "&sig");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig.substring(0, 42));
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "=");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "A");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig.replace('-', '+').replace('_', '/') + "X");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig.substring(0, 40) + "%41%41%41");
        assertForbidden("/f?expires=" + EXPIRES + "&Sig=" + sig);
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "&sig=" + sig);
        assertForbidden("/f?expires=" + EXPIRES + "&expires=" + EXPIRES + "&sig=" + sig);
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "&ip=");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "&prefix=");
        assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig + "&prefix=/");
        for (int i = 0; i < sig.length(); i++) {
            char other = sig.charAt(i) == 'A' ? 'B' : 'A';
            assertForbidden("/f?expires=" + EXPIRES + "&sig=" + sig.substring(0, i) + other + sig.substring(i + 1));
        }
        assertValid("/f", "/f?sig=" + sig + "&expires=" + EXPIRES);
        assertValid("/f", "/f?&&sig=" + sig + "&&expires=" + EXPIRES + "&");
    }

    @Test
    void theCurrentOrThePreviousKeyVerifiesAndNoOther() {
        SignedLinks rotating = SignedLinks.of(KEY, OLD_KEY);
        assertTrue(rotating.rotating());
        assertFalse(links.rotating());
        String current = rotating.signer().sign("/f", EXPIRES);
        String old = LinkSigner.of(OLD_KEY).sign("/f", EXPIRES);
        assertEquals(signer.sign("/f", EXPIRES), current, "links are minted with the current key");
        assertEquals(new Verdict.Valid("/f"), verify(rotating, current, CLIENT, BEFORE));
        assertEquals(new Verdict.Valid("/f"), verify(rotating, old, CLIENT, BEFORE));
        assertEquals(new Verdict.Expired(EXPIRES), verify(rotating, old, CLIENT, EXPIRES + 1));
        assertForbidden(old);
        String stranger = LinkSigner.of("yet-another-key-0000000000".getBytes(StandardCharsets.US_ASCII))
                .sign("/f", EXPIRES);
        assertInstanceOf(Verdict.Forbidden.class, verify(rotating, stranger, CLIENT, BEFORE));
        assertInstanceOf(Verdict.Forbidden.class, verify(rotating, stranger, CLIENT, EXPIRES + 1),
                "only a genuine link is ever told it expired");
    }

    @Test
    void aPrefixLinkOpensThePrefixAndWhatIsUnderItAtASlashOnly() {
        String link = signer.sign("/dir/sub/a.txt", EXPIRES, "/dir", null);
        String query = link.substring(link.indexOf('?'));
        assertValid("/dir/sub/a.txt", link);
        assertValid("/dir/b.txt", "/dir/b.txt" + query);
        assertValid("/dir", "/dir/" + query);
        assertValid("/dir", "/dir" + query);
        for (String outside : new String[] {"/dirt/a.txt", "/di", "/", "/other/a.txt", "/dir/../secret",
            "/dir/%2e%2e/secret", "/dir%2f..%2fsecret"}) {
            assertForbidden(outside + query);
        }
        assertForbidden("/dir/b.txt" + query.replace("prefix=/dir", "prefix=/"));
        assertForbidden("/dir/b.txt" + query.replace("&prefix=/dir", ""));
        assertForbidden("/dir/b.txt" + query.replace("prefix=/dir", "prefix=/dir/../dir"));
        assertValid("/dir/b.txt", "/dir/b.txt" + query.replace("prefix=/dir", "prefix=%2Fdi%72"));
        String everything = signer.sign("/x/y", EXPIRES, "/", null);
        assertValid("/z", "/z" + everything.substring(everything.indexOf('?')));
        assertThrows(IllegalArgumentException.class, () -> signer.sign("/dirt/a", EXPIRES, "/dir", null));
        assertThrows(IllegalArgumentException.class, () -> signer.sign("/dir/a", EXPIRES, "/dir/..", null));
    }

    @Test
    void aPrefixAsWrittenWithATrailingSlashIsSignedAsWritten() {
        String message = SignedLinks.stringToSign(EXPIRES, true, "/dir/", "");
        String link = "/dir/a?expires=" + EXPIRES + "&prefix=/dir/&sig=" + signer.signature(message);
        assertValid("/dir/a", link);
        assertForbidden(link.replace("prefix=/dir/", "prefix=/dir"));
    }

    @Test
    void anAddressBoundLinkIsForThatClientOnlyComparedAsAnAddress() {
        String v4 = signer.sign("/f", EXPIRES, null, "203.0.113.7");
        assertEquals(new Verdict.Valid("/f"), verify(links, v4, "203.0.113.7", BEFORE));
        assertEquals(new Verdict.Valid("/f"), verify(links, v4, "::ffff:203.0.113.7", BEFORE));
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v4, "203.0.113.8", BEFORE));
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v4, "203.0.113.8", EXPIRES + 1));
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v4, null, BEFORE));
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v4, "localhost", BEFORE));
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v4.replace("&ip=203.0.113.7", ""), "203.0.113.7",
                BEFORE));
        String v6 = signer.sign("/f", EXPIRES, null, "::1");
        assertTrue(v6.contains("&ip=%3A%3A1&"), v6);
        for (String client : new String[] {"::1", "0:0:0:0:0:0:0:1", "[::1]", "0000::0001"}) {
            assertEquals(new Verdict.Valid("/f"), verify(links, v6, client, BEFORE), client);
        }
        assertInstanceOf(Verdict.Forbidden.class, verify(links, v6, "127.0.0.1", BEFORE));
        for (String notAnAddress : new String[] {"localhost", "example.com", "1.2.3", "1.2.3.4.5", "01.2.3.4",
            "256.1.1.1", "::1%eth0", "", "[::1"}) {
            assertThrows(IllegalArgumentException.class, () -> signer.sign("/f", EXPIRES, null, notAnAddress),
                    notAnAddress);
        }
    }

    @Test
    void keysShorterThanSixteenBytesAreRefusedAndNeverShown() {
        assertThrows(IllegalArgumentException.class, () -> LinkSigner.of(new byte[15]));
        assertThrows(IllegalArgumentException.class, () -> SignedLinks.of(KEY, new byte[0]));
        LinkSigner.of(new byte[16]);
        String key = new String(KEY, StandardCharsets.US_ASCII);
        assertFalse(links.toString().contains(key), links.toString());
        assertFalse(signer.toString().contains(key), signer.toString());
        assertFalse(SignedLinks.of(KEY, OLD_KEY).toString().contains("previous-key"));
    }

    @Test
    void theSignerRefusesPathsThatAreNotCanonicalizable() {
        assertEquals(signer.sign("/a/b", EXPIRES), signer.sign("//a//b/", EXPIRES), "canonicalized");
        for (String bad : new String[] {"a/b", "", "/a/../b", "/a/./b", "/..", "/a\\b", "/a\u0000", "/a\nb"}) {
            assertThrows(IllegalArgumentException.class, () -> signer.sign(bad, EXPIRES), bad);
        }
    }

    @Test
    void canonicalPathsAreDecodedOnceAndNormalized() {
        assertEquals(Optional.of("/"), SignedLinks.canonicalPath(""));
        assertEquals(Optional.of("/"), SignedLinks.canonicalPath("/"));
        assertEquals(Optional.of("/"), SignedLinks.canonicalPath("///"));
        assertEquals(Optional.of("/a b/c+d"), SignedLinks.canonicalPath("/a%20b//c+d/"));
        assertEquals(Optional.of("/%2e"), SignedLinks.canonicalPath("/%252e"), "decoded once");
        assertEquals(Optional.of("/\u00e9"), SignedLinks.canonicalPath("/%C3%A9"));
        assertEquals(Optional.of("/\u00e9"), SignedLinks.canonicalPath("/\u00e9"));
        assertEquals(Optional.empty(), SignedLinks.canonicalPath(null));
        assertEquals(Optional.empty(), SignedLinks.canonicalPath("/a%ED%A0%80"), "encoded surrogate");
        assertEquals(Optional.empty(), SignedLinks.canonicalPath("/a\ud800"), "unpaired surrogate");
        assertEquals(Optional.empty(), SignedLinks.canonicalPath("/" + "a".repeat(SignedLinks.MAX_RAW_LENGTH)));
    }
}
