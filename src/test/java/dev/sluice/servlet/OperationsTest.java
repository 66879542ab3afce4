package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OperationsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "null", value = {
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8|true",
        "text/html|true",
        "TEXT/HTML; charset=utf-8|true",
        "application/json|false",
        "*/*|false",
        "null|false",
        "''|false",
        "application/json, text/html|false",
        "text/html;q=0, */*|false",
        "text/html; q=0.0|false",
        "application/json;q=0, text/html|true",
        "text/plain|false"})
    void aBrowserGetsThePageAndEveryoneElseTheJson(String accept, boolean html) {
        assertEquals(html, Operations.wantsHtml(accept), accept);
    }
}
