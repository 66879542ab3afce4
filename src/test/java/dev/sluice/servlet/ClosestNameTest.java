package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClosestNameTest {

    private static final List<String> KEYS = Setting.values().stream().map(Setting::key).toList();

    @ParameterizedTest
    @CsvSource(nullValues = "NONE", value = {
        "chunksize, chunkSize", "CHUNKSIZE, chunkSize", "chunkSzie, chunkSize", "chunkSizes, chunkSize",
        "readahaed, readAhead", "rot, root", "roots, root", "cache-control, cacheControl", "dir_listing, dirListing",
        "maxTransfer, maxTransfers", "stallTimout, stallTimeout", "welcomeFile, welcomeFiles",
        "limitRatePerClien, limitRatePerClient", "foo, NONE", "colour, NONE", "bufferType, NONE",
        "limitRatePerIp, NONE", "x, NONE", "maxRangez, maxRanges", "limitrateafter, limitRateAfter"})
    void suggestsTheClosestSettingOnlyWhenItIsClose(String name, String expected) {
        assertEquals(Optional.ofNullable(expected), ClosestName.among(KEYS, name));
    }

    @ParameterizedTest
    @CsvSource({"abc, abc, 0", "abc, acb, 1", "abc, ab, 1", "abc, abcd, 1", "abc, xbc, 1", "kitten, sitting, 3",
        "'', abc, 3", "ca, abc, 3"})
    void distanceCountsInsertionsDeletionsSubstitutionsAndSwaps(String a, String b, int distance) {
        assertEquals(distance, ClosestName.distance(a, b));
        assertEquals(distance, ClosestName.distance(b, a));
    }
}
