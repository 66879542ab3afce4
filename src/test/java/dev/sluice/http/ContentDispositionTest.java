package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

class ContentDispositionTest {

    private static final Pattern VALUE = Pattern.compile(
            "(attachment|inline); filename=\"([^\"]*)\"(?:; filename\\*=UTF-8''((?:[A-Za-z0-9!#$&+\\-.^_`|~]|%[0-9A-F]{2})+))?");

    @ParameterizedTest
    @NullAndEmptySource
    void noNameGivesTheBareDispositionType(String filename) {
        assertEquals("attachment", ContentDisposition.attachment(filename));
        assertEquals("inline", ContentDisposition.inline(filename));
    }

    @Test
    void plainAsciiNameIsSentOnlyAsQuotedString() {
        assertEquals("attachment; filename=\"report.pdf\"", ContentDisposition.attachment("report.pdf"));
        assertEquals("inline; filename=\"report.pdf\"", ContentDisposition.inline("report.pdf"));
    }

    @Test
    void spacesAreKeptAndNeedNoExtendedForm() {
        assertEquals("attachment; filename=\"my annual report.pdf\"",
                ContentDisposition.attachment("my annual report.pdf"));
        assertEquals("attachment; filename=\" \"", ContentDisposition.attachment(" "));
    }

    @Test
    void semicolonIsSafeInsideTheQuotedString() {
        assertEquals("attachment; filename=\"a;b.txt\"", ContentDisposition.attachment("a;b.txt"));
    }

    @Test
    void asciiPunctuationOtherThanQuoteBackslashAndPercentIsPlain() {
        String name = "!#$&'()*+,-./:;<=>?@[]^_`{|}~.txt";
        assertEquals("attachment; filename=\"" + name + "\"", ContentDisposition.attachment(name));
    }

    @Test
    void doubleQuotesAreReplacedAndTheExactNameIsEncoded() {
        assertEquals("attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
                ContentDisposition.attachment("say \"hi\".txt"));
    }

    @Test
    void backslashIsReplacedRatherThanEscaped() {
        assertEquals("attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%5Cb.txt",
                ContentDisposition.attachment("a\\b.txt"));
    }

    @Test
    void percentIsReplacedSoNoUserAgentDecodesIt() {
        assertEquals("attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt",
                ContentDisposition.attachment("100%.txt"));
        assertEquals("inline; filename=\"_41.txt\"; filename*=UTF-8''%2541.txt",
                ContentDisposition.inline("%41.txt"));
    }

    @Test
    void latinLettersOutsideAsciiAreEncodedAsUtf8() {
        assertEquals("attachment; filename=\"Gr__e.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt",
                ContentDisposition.attachment("Grüße.txt"));
        assertEquals("inline; filename=\"_ber.txt\"; filename*=UTF-8''%C3%BCber.txt",
                ContentDisposition.inline("über.txt"));
    }

    @Test
    void cjkNameBecomesOneUnderscorePerCharacter() {
        assertEquals("attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
                ContentDisposition.attachment("日本.txt"));
    }

    @Test
    void surrogatePairIsOneCodePointAndFourUtf8Bytes() {
        assertEquals("attachment; filename=\"_.png\"; filename*=UTF-8''%F0%9F%98%80.png",
                ContentDisposition.attachment("\uD83D\uDE00.png"));
        assertEquals("attachment; filename=\"a__b\"; filename*=UTF-8''a%F0%9F%98%80%F0%9F%8E%89b",
                ContentDisposition.attachment("a\uD83D\uDE00\uD83C\uDF89b"));
    }

    @Test
    void unpairedSurrogateIsEncodedAsReplacementCharacter() {
        assertEquals("attachment; filename=\"_x_\"; filename*=UTF-8''%EF%BF%BDx%EF%BF%BD",
                ContentDisposition.attachment("\uD800x\uDC00"));
    }

    @Test
    void controlCharactersCannotSplitTheHeader() {
        assertEquals("attachment; filename=\"a__Set-Cookie: x=1\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1",
                ContentDisposition.attachment("a\r\nSet-Cookie: x=1"));
        assertEquals("attachment; filename=\"_a_b_\"; filename*=UTF-8''%00a%09b%7F",
                ContentDisposition.attachment("\u0000a\tb\u007f"));
    }

    @Test
    void attrCharsStayLiteralInTheExtendedForm() {
        assertEquals("attachment; filename=\"_!#$&+-.^_`|~AZaz09\"; filename*=UTF-8''%C3%BC!#$&+-.^_`|~AZaz09",
                ContentDisposition.attachment("ü!#$&+-.^_`|~AZaz09"));
    }

    @Test
    void everyOtherAsciiCharacterIsPercentEncodedInTheExtendedForm() {
        assertEquals("attachment; filename=\"_ '()*,/:;<=>?@[]{}\"; "
                        + "filename*=UTF-8''%C3%BC%20%27%28%29%2A%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5D%7B%7D",
                ContentDisposition.attachment("ü '()*,/:;<=>?@[]{}"));
    }

    @ParameterizedTest
    @CsvSource({
        "65, true", "90, true", "97, true", "122, true", "48, true", "57, true", "33, true", "35, true",
        "36, true", "38, true", "43, true", "45, true", "46, true", "94, true", "95, true", "96, true",
        "124, true", "126, true",
        "32, false", "34, false", "37, false", "39, false", "40, false", "42, false", "44, false",
        "47, false", "58, false", "59, false", "61, false", "92, false", "127, false", "0, false",
        "252, false", "26085, false", "128512, false",
    })
    void attrCharSetMatchesRfc8187(int codePoint, boolean expected) {
        assertEquals(expected, ContentDisposition.isAttrChar(codePoint));
    }

    @Test
    void randomNamesAlwaysGiveASafeValueThatDecodesBackToTheName() {
        Random random = new Random(6266);
        int extended = 0;
        for (int run = 0; run < 5_000; run++) {
            String name = randomName(random);
            String value = ContentDisposition.attachment(name);
            for (char c : value.toCharArray()) {
                assertTrue(c >= 0x20 && c <= 0x7E, () -> "unsafe char in " + value);
            }
            Matcher m = VALUE.matcher(value);
            assertTrue(m.matches(), value);
            String fallback = m.group(2);
            assertEquals(name.codePointCount(0, name.length()), fallback.length(), value);
            if (m.group(3) == null) {
                assertEquals(name, fallback, value);
            } else {
                extended++;
                assertFalse(fallback.equals(name), value);
                assertEquals(name, PercentDecoding.decode(m.group(3)), value);
            }
        }
        assertTrue(extended > 1_000 && extended < 4_900, "poor coverage: " + extended);
    }

    private static String randomName(Random random) {
        String[] pieces = {"a", "Z", "7", " ", ".", "\"", "\\", "%", ";", "'", "*", "\r", "\n", "\t", "\u007f",
            "ü", "ß", "日", "\uD83D\uDE00", "~", "|", "!", "=", "é"};
        StringBuilder sb = new StringBuilder();
        int n = 1 + random.nextInt(8);
        for (int i = 0; i < n; i++) {
            String piece = pieces[random.nextInt(pieces.length)];
            sb.append(random.nextInt(3) == 0 ? piece : "a");
        }
        return sb.toString();
    }
}
