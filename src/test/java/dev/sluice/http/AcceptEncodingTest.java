package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class AcceptEncodingTest {

    private static final List<String> SERVER = List.of("br", "zstd", "gzip", "identity");

    private static Optional<String> choose(String header) {
        return AcceptEncoding.choose(AcceptEncoding.parse(header), SERVER);
    }

    @Test
    void singleCodingHasWeightOne() {
        AcceptEncoding ae = AcceptEncoding.parse("gzip");
        assertEquals(1.0, ae.quality("gzip"));
        assertTrue(ae.accepts("gzip"));
        assertFalse(ae.accepts("br"));
        assertEquals(0.0, ae.quality("br"));
        assertEquals(0.001, ae.quality("identity"));
        assertTrue(ae.accepts("identity"));
        assertEquals(Optional.of("gzip"), choose("gzip"));
    }

    @Test
    void explicitWeightsAreHonoured() {
        AcceptEncoding ae = AcceptEncoding.parse("br;q=1.0, gzip;q=0.8");
        assertEquals(1.0, ae.quality("br"));
        assertEquals(0.8, ae.quality("gzip"));
        assertEquals(0.001, ae.quality("identity"));
        assertEquals(Optional.of("br"), choose("br;q=1.0, gzip;q=0.8"));
        assertEquals(Optional.of("gzip"), AcceptEncoding.choose(ae, List.of("gzip", "deflate")));
    }

    @Test
    void higherClientWeightBeatsServerOrder() {
        assertEquals(Optional.of("gzip"), choose("br;q=0.5, gzip;q=0.9"));
        assertEquals(Optional.of("identity"), choose("br;q=0.5, gzip;q=0.9, identity"));
    }

    @Test
    void unlistedIdentityLosesToAnyListedCodingButIsStillAcceptable() {
        assertEquals(Optional.of("gzip"), choose("gzip;q=0.001"));
        assertEquals(Optional.of("identity"), choose("deflate;q=0.9"));
        assertEquals(Optional.of("br"),
                AcceptEncoding.choose(AcceptEncoding.parse("br;q=0.2"), List.of("identity", "br")));
    }

    @Test
    void tiesGoToTheServersFirstChoice() {
        assertEquals(Optional.of("br"), choose("gzip, br"));
        assertEquals(Optional.of("zstd"), choose("gzip;q=0.7, zstd;q=0.7, br;q=0.6"));
        assertEquals(Optional.of("gzip"),
                AcceptEncoding.choose(AcceptEncoding.parse("gzip, br"), List.of("gzip", "br")));
    }

    @Test
    void weightZeroMeansNotAcceptable() {
        AcceptEncoding ae = AcceptEncoding.parse("gzip;q=0");
        assertFalse(ae.accepts("gzip"));
        assertEquals(0.0, ae.quality("gzip"));
        assertTrue(ae.accepts("identity"));
        assertEquals(Optional.of("identity"), choose("gzip;q=0"));
        assertEquals(Optional.empty(), AcceptEncoding.choose(ae, List.of("gzip", "br")));
    }

    @Test
    void wildcardGivesItsWeightToUnlistedCodingsIdentityIncluded() {
        AcceptEncoding ae = AcceptEncoding.parse("*;q=0.5");
        assertEquals(0.5, ae.quality("br"));
        assertEquals(0.5, ae.quality("gzip"));
        assertEquals(0.5, ae.quality("some-future-coding"));
        assertEquals(0.5, ae.quality("identity"));
        assertEquals(Optional.of("br"), choose("*;q=0.5"));
    }

    @Test
    void listedCodingOverridesTheWildcard() {
        AcceptEncoding ae = AcceptEncoding.parse("*, gzip;q=0");
        assertTrue(ae.accepts("br"));
        assertTrue(ae.accepts("identity"));
        assertFalse(ae.accepts("gzip"));
        assertFalse(ae.accepts("x-gzip"));
        assertEquals(Optional.of("br"), choose("*, gzip;q=0"));
        assertEquals(Optional.of("identity"),
                AcceptEncoding.choose(ae, List.of("gzip", "identity")));
    }

    @Test
    void wildcardZeroRefusesIdentityUnlessIdentityIsListed() {
        AcceptEncoding refusing = AcceptEncoding.parse("br, *;q=0");
        assertFalse(refusing.accepts("identity"));
        assertFalse(refusing.accepts("gzip"));
        assertTrue(refusing.accepts("br"));
        assertEquals(Optional.empty(), AcceptEncoding.choose(refusing, List.of("gzip", "identity")));

        AcceptEncoding allowing = AcceptEncoding.parse("*;q=0, identity;q=0.1");
        assertEquals(0.1, allowing.quality("identity"));
        assertEquals(Optional.of("identity"), AcceptEncoding.choose(allowing, SERVER));
    }

    @Test
    void identityCanBeRefusedExplicitly() {
        AcceptEncoding ae = AcceptEncoding.parse("gzip, identity;q=0");
        assertFalse(ae.accepts("identity"));
        assertTrue(ae.accepts("gzip"));
    }

    @Test
    void identityAloneAcceptsNoOtherCoding() {
        AcceptEncoding ae = AcceptEncoding.parse("identity");
        assertTrue(ae.accepts("identity"));
        assertFalse(ae.accepts("gzip"));
        assertEquals(Optional.of("identity"), choose("identity"));
        assertEquals(Optional.empty(), AcceptEncoding.choose(ae, List.of("br", "gzip")));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", ",", " , ,\t"})
    void absentOrEmptyFieldAcceptsOnlyIdentity(String header) {
        AcceptEncoding ae = AcceptEncoding.parse(header);
        assertTrue(ae.accepts("identity"));
        assertEquals(0.001, ae.quality("identity"));
        for (String coding : List.of("gzip", "br", "zstd", "deflate", "compress", "*")) {
            assertFalse(ae.accepts(coding), coding);
        }
        assertEquals(Optional.of("identity"), choose(header));
        assertEquals(Optional.empty(), AcceptEncoding.choose(ae, List.of("br", "gzip")));
    }

    @Test
    void malformedElementsAreSkippedAndTheRestCounts() {
        AcceptEncoding ae = AcceptEncoding.parse(";;;q=abc,br");
        assertTrue(ae.accepts("br"));
        assertFalse(ae.accepts("gzip"));
        assertEquals(Optional.of("br"), choose(";;;q=abc,br"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "gzip;q=abc", "gzip;q=", "gzip;q", "gzip;", "gzip;;q=1", "gzip;q=1.5", "gzip;q=2", "gzip;q=1.001",
        "gzip;q=0.0001", "gzip;q=0.5001", "gzip;q=1.0000", "gzip;q=.5", "gzip;q=-0", "gzip;q= 0.5", "gzip;q =0.5", "gzip;level=9",
        "gzip;q=0.5;q=0.5", "gzip q=1", "gzip gzip", "\"gzip\"", "gz\u00efp", "gzip;q=0.5x", "gzip;q=+1",
        "gzip;q=1e0",
    })
    void malformedElementIsSkippedWholly(String element) {
        AcceptEncoding ae = AcceptEncoding.parse(element + ", br;q=0.3");
        assertFalse(ae.accepts("gzip"), element);
        assertEquals(0.0, ae.quality("gzip"), element);
        assertEquals(0.3, ae.quality("br"), element);
    }

    @Test
    void skippedElementLeavesTheCodingToTheWildcard() {
        AcceptEncoding ae = AcceptEncoding.parse("gzip;q=1.5, *;q=0.2");
        assertEquals(0.2, ae.quality("gzip"));
    }

    @ParameterizedTest
    @CsvSource({
        "gzip;q=0.001, 0.001",
        "gzip;q=0.999, 0.999",
        "gzip;q=0.5, 0.5",
        "gzip;q=0.25, 0.25",
        "gzip;q=0., 0.0",
        "gzip;q=0.000, 0.0",
        "gzip;q=1., 1.0",
        "gzip;q=1.000, 1.0",
        "gzip;q=1, 1.0",
        "gzip;q=0, 0.0",
    })
    void qvaluesUpToThreeDecimalsAreExact(String header, double expected) {
        assertEquals(expected, AcceptEncoding.parse(header).quality("gzip"));
    }

    @Test
    void smallestPositiveWeightIsStillAcceptable() {
        assertTrue(AcceptEncoding.parse("gzip;q=0.001").accepts("gzip"));
        assertEquals(Optional.of("gzip"),
                AcceptEncoding.choose(AcceptEncoding.parse("gzip;q=0.001"), List.of("br", "gzip")));
    }

    @Test
    void codingsAndTheWeightNameAreCaseInsensitive() {
        AcceptEncoding ae = AcceptEncoding.parse("GZIP;Q=0.4, Br");
        assertEquals(0.4, ae.quality("gzip"));
        assertEquals(0.4, ae.quality("GZip"));
        assertEquals(1.0, ae.quality("br"));
        assertEquals(1.0, ae.quality("BR"));
        assertEquals(Optional.of("br"), choose("GZIP;Q=0.4, Br"));
    }

    @Test
    void chosenCodingIsReturnedAsTheServerSpelledIt() {
        assertEquals(Optional.of("GZip"),
                AcceptEncoding.choose(AcceptEncoding.parse("gzip"), List.of("Br", "GZip")));
    }

    @Test
    void whitespaceAroundElementsAndSemicolonsIsAllowed() {
        AcceptEncoding ae = AcceptEncoding.parse(" \tgzip ;\tq=0.7 ,br ; q=0.2\t, ,deflate ");
        assertEquals(0.7, ae.quality("gzip"));
        assertEquals(0.2, ae.quality("br"));
        assertEquals(1.0, ae.quality("deflate"));
    }

    @Test
    void xGzipAndXCompressAreAliases() {
        AcceptEncoding ae = AcceptEncoding.parse("x-gzip;q=0.6, X-Compress");
        assertEquals(0.6, ae.quality("gzip"));
        assertEquals(0.6, ae.quality("x-gzip"));
        assertEquals(1.0, ae.quality("compress"));
        assertEquals(1.0, AcceptEncoding.parse("gzip").quality("x-gzip"));
        assertEquals(Optional.of("gzip"),
                AcceptEncoding.choose(AcceptEncoding.parse("x-gzip"), List.of("br", "gzip")));
    }

    @Test
    void firstValidElementForACodingWins() {
        assertEquals(0.5, AcceptEncoding.parse("gzip;q=0.5, gzip;q=1").quality("gzip"));
        assertEquals(0.0, AcceptEncoding.parse("gzip;q=0, gzip").quality("gzip"));
        assertEquals(0.0, AcceptEncoding.parse("x-gzip;q=0, gzip").quality("gzip"));
        assertEquals(0.9, AcceptEncoding.parse("gzip;q=9, gzip;q=0.9").quality("gzip"));
    }

    @Test
    void typicalBrowserHeaders() {
        assertEquals(Optional.of("br"), choose("gzip, deflate, br, zstd"));
        assertEquals(Optional.of("gzip"), choose("gzip, deflate"));
        assertEquals(Optional.of("br"), choose("gzip, deflate, br"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "gz ip", "gzip;q=1", "gz\u00efp"})
    void queryingSomethingThatIsNotACodingGivesZero(String coding) {
        AcceptEncoding ae = AcceptEncoding.parse("*");
        assertEquals(0.0, ae.quality(coding));
        assertFalse(ae.accepts(coding));
        assertFalse(ae.accepts(null));
        assertEquals(1.0, ae.quality("anything"));
    }

    @Test
    void nullServerChoicesAreSkipped() {
        assertEquals(Optional.of("gzip"),
                AcceptEncoding.choose(AcceptEncoding.parse("*"), Arrays.asList(null, "gzip")));
        assertEquals(Optional.empty(), AcceptEncoding.choose(AcceptEncoding.parse("*"), List.of()));
    }

    @Test
    void chooseRequiresItsArguments() {
        assertThrows(NullPointerException.class, () -> AcceptEncoding.choose(null, SERVER));
        assertThrows(NullPointerException.class, () -> AcceptEncoding.choose(AcceptEncoding.parse("gzip"), null));
    }

    @Test
    void randomFieldValuesNeverThrowAndWeightsStayInRange() {
        String[] pieces = {"gzip", "br", "*", "identity", ",", ";", "q=", "Q=", "0", "1", ".", "5", "999", " ", "\t",
            "=", "\"", "x-gzip", "\u00e9", "\u0000", "-", "abc"};
        Random random = new Random(12_5_3);
        int accepted = 0;
        for (int run = 0; run < 20_000; run++) {
            StringBuilder header = new StringBuilder();
            int n = random.nextInt(14);
            for (int i = 0; i < n; i++) {
                header.append(pieces[random.nextInt(pieces.length)]);
            }
            AcceptEncoding ae = assertDoesNotThrow(() -> AcceptEncoding.parse(header.toString()), header::toString);
            for (String coding : SERVER) {
                double q = ae.quality(coding);
                assertTrue(q >= 0 && q <= 1, header::toString);
                assertEquals(q > 0, ae.accepts(coding), header::toString);
            }
            Optional<String> chosen = AcceptEncoding.choose(ae, SERVER);
            if (chosen.isPresent()) {
                accepted++;
                double best = ae.quality(chosen.get());
                assertTrue(best > 0, header::toString);
                for (String coding : SERVER.subList(0, SERVER.indexOf(chosen.get()))) {
                    assertTrue(ae.quality(coding) < best, header::toString);
                }
                for (String coding : SERVER) {
                    assertTrue(ae.quality(coding) <= best, header::toString);
                }
            } else {
                SERVER.forEach(coding -> assertFalse(ae.accepts(coding), header::toString));
            }
        }
        assertTrue(accepted > 1_000, "too few accepted: " + accepted);
    }
}
