package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
