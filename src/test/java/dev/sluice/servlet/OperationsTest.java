package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.http.ResponsePlan;
import dev.sluice.stream.TransferEngine;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

    @TempDir
    Path root;

    /** A request from {@code address} whose user is in the roles {@code roles}; nothing else is asked. */
    private static HttpServletRequest request(String address, String... roles) {
        return (HttpServletRequest) Proxy.newProxyInstance(OperationsTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getRemoteAddr" -> address;
                    case "isUserInRole" -> java.util.List.of(roles).contains((String) args[0]);
                    case "getHeader" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void anAdminRoleOpensThePathsFromAnyAddressAndOnlyThem() {
        SluiceConfig config = SluiceConfig.from(Map.of("root", root.toString(), "statusPath", "/s", "metricsPath",
                "/m", "adminAllow", "10.0.0.0/8", "adminRole", "ops"));
        try (TransferEngine engine = new TransferEngine(config.engine())) {
            Operations operations = Operations.start(config, engine, null, "sluice");
            assertEquals(200, status(operations.answer("/s", request("10.9.8.7"))));
            assertEquals(200, status(operations.answer("/m", request("192.0.2.1", "ops"))));
            assertEquals(404, status(operations.answer("/m", request("192.0.2.1", "users"))));
            assertEquals(404, status(operations.answer("/s", request("127.0.0.1"))), "the list replaced loopback");
            assertEquals(Optional.empty(), operations.answer("/file", request("192.0.2.1")));
            operations.close();
        }
    }

    private static int status(Optional<ResponsePlan> plan) {
        return plan.orElseThrow().status();
    }
}
