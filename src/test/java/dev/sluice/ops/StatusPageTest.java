package dev.sluice.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class StatusPageTest {

    private static final String HTML = new String(StatusPage.html(), StandardCharsets.UTF_8);

    @Test
    void theScriptAndStyleAreTheOnesThePolicyAllows() throws Exception {
        for (String tag : new String[] {"script", "style"}) {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(StatusPage.inner(HTML, tag)
                    .getBytes(StandardCharsets.UTF_8));
            assertTrue(StatusPage.CONTENT_SECURITY_POLICY.contains(tag + "-src 'sha256-"
                    + Base64.getEncoder().encodeToString(digest) + "'"), StatusPage.CONTENT_SECURITY_POLICY);
        }
        assertTrue(StatusPage.CONTENT_SECURITY_POLICY.startsWith("default-src 'none';"));
        assertTrue(StatusPage.CONTENT_SECURITY_POLICY.contains("connect-src 'self'"));
    }

    @Test
    void thePageLoadsNothingFromAnywhere() {
        assertFalse(HTML.contains("http:") || HTML.contains("https:") || HTML.contains("//cdn")
                || HTML.contains("src=") || HTML.contains("@import") || HTML.contains("url("), "a reference out");
        assertFalse(HTML.contains("innerHTML") || HTML.contains("insertAdjacentHTML") || HTML.contains("eval("),
                "data must go in as text, never as markup");
        assertEquals(1, HTML.split("<script>", -1).length - 1);
        assertTrue(HTML.contains("fetch(location.pathname"));
    }
}
