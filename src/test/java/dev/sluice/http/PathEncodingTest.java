package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathEncodingTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/a/b.txt|/a/b.txt",
        "/my file.txt|/my%20file.txt",
        "/café|/caf%C3%A9",
        "/100%|/100%25",
        "/a;b?c#d|/a%3Bb%3Fc%23d",
        "/~user/-_.|/~user/-_.",
        "//evil.example|//evil.example"})
    void encodesEverythingButSlashesAndUnreserved(String decoded, String encoded) {
        assertEquals(encoded, PathEncoding.encode(decoded));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a=1&b=2|a=1&b=2",
        "x=%41%2f&y=a+b|x=%41%2f&y=a+b",
        "p=/a/b?c:d@e!$'()*,;=~|p=/a/b?c:d@e!$'()*,;=~",
        "a=<x>|a=%3Cx%3E",
        "q=\"\\^`{}|q=%22%5C%5E%60%7B%7D",
        "100%|100%25",
        "%zz&%4|%25zz&%254",
        "caf\u00e9 ok|caf%C3%A9%20ok",
        "#frag|%23frag"})
    void aQueryKeepsWhatAUriMayHoldAndItsEscapes(String raw, String encoded) {
        assertEquals(encoded, PathEncoding.encodeQuery(raw));
    }

    @Test
    void aLoneSurrogateInAQueryBecomesTheReplacementCharacter() {
        assertEquals("a=%EF%BF%BD", PathEncoding.encodeQuery("a=\ud800"));
        assertEquals("e=%F0%9F%98%80", PathEncoding.encodeQuery("e=\ud83d\ude00"));
        assertEquals("a=%7Cb", PathEncoding.encodeQuery("a=|b"));
    }
}
