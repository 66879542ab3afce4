package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MethodRegistryTest {

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "TRACE", "CONNECT", "PATCH",
        "PROPFIND", "MKCOL", "QUERY", "VERSION-CONTROL"})
    void registeredMethodsAreKnown(String method) {
        assertTrue(MethodRegistry.isRegistered(method));
    }

    @ParameterizedTest
    @ValueSource(strings = {"get", "Get", "FOO", "BREW", "", "GET ", "PROPFIND2"})
    void otherNamesAreNotKnownForMethodsAreCaseSensitive(String method) {
        assertFalse(MethodRegistry.isRegistered(method));
    }
}
