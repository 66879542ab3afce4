package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.http.ResponsePlan;
import dev.sluice.stream.FileChangedException;
import dev.sluice.stream.Outcome;
import dev.sluice.stream.TransferEngine;
import dev.sluice.stream.TransferSummary;
import dev.sluice.stream.Waits;
import java.io.IOException;
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

    /** What the access log says a download's client was answered, by how its body ended and why. */
    @Test
    void theStatusLoggedIsTheOneTheClientWasAnswered() {
        java.util.function.BiFunction<Outcome, Throwable, Integer> unsent = (outcome, cause) ->
                Operations.answeredStatus(206, new TransferSummary(outcome, 0, 10, cause, 1, Waits.NONE));
        assertEquals(206, unsent.apply(Outcome.COMPLETED, null));
        assertEquals(503, unsent.apply(Outcome.FAILED, new FileChangedException("modified in place")));
        assertEquals(500, unsent.apply(Outcome.FAILED, new IOException("Input/output error")));
        assertEquals(500, unsent.apply(Outcome.ABORTED, new IllegalStateException("the application's own")));
        assertEquals(206, unsent.apply(Outcome.ABORTED, new IOException("Broken pipe")), "a client gone");
        assertEquals(206, Operations.answeredStatus(206, new TransferSummary(Outcome.FAILED, 1, 10,
                new FileChangedException("modified in place"), 1, Waits.NONE)), "a byte went: the head's status");
        assertEquals(403, unsent.apply(Outcome.ABORTED, new SluiceSender.AnsweredAfterSend(403)),
                "the application's sendError after send");

        java.util.function.Function<Throwable, Integer> sent = cause ->
                Operations.sentStatus(206, new TransferSummary(Outcome.ABORTED, 0, 10, cause, 1, Waits.NONE));
        assertEquals(403, sent.apply(new SluiceSender.AnsweredAfterSend(403)), "Tomcat's head of the sendError");
        assertEquals(404, sent.apply(new ContainerEnds.CompletedEarly(404)), "Jetty's page for the sendError");
        assertEquals(206, sent.apply(new ContainerEnds.CompletedEarly(0)), "not known: the head's");
        assertEquals(206, sent.apply(new IOException("Broken pipe")));
    }

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
