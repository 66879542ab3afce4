package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.AsyncContext;
import dev.sluice.it.Await;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AsyncEndTest {

    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    /** An AsyncContext that records complete() and dispatch(), and lets a test hold complete() in progress. */
    private AsyncContext async(CountDownLatch inComplete, CountDownLatch letCompleteReturn) {
        return (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {AsyncContext.class},
                (proxy, method, args) -> {
                    calls.add(method.getName() + " on " + Thread.currentThread().getName());
                    if (method.getName().equals("complete") && inComplete != null) {
                        inComplete.countDown();
                        letCompleteReturn.await();
                    }
                    return null;
                });
    }

    @Test
    void theFirstEndStandsAndTheOthersDoNothing() {
        AsyncEnd end = new AsyncEnd(async(null, null));
        end.end(AsyncContext::dispatch);
        end.containerEnding();
        end.end(AsyncContext::complete);

        assertEquals(List.of("dispatch on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void theContainersErrorCompletesWhenTheTransferHasNotEnded() {
        AsyncEnd end = new AsyncEnd(async(null, null));
        end.containerEnding();
        end.end(AsyncContext::dispatch); // the transfer's end, later: the request may be another's by now

        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void aContainerThatThrowsBecauseItEndedTheRequestIsNotAnError() {
        AsyncEnd end = new AsyncEnd(async(null, null));
        end.end(a -> {
            throw new IllegalStateException("already completed");
        });
        end.containerEnding();

        assertEquals(List.of(), calls);
    }

    /**
     * The transfer's thread is inside complete() when the container reports an error: onError (containerEnding)
     * must not return before that complete() has, since the container recycles the request once it returns.
     */
    @Test
    void theContainersErrorWaitsForAnEndInProgress() throws Exception {
        CountDownLatch inComplete = new CountDownLatch(1);
        CountDownLatch letCompleteReturn = new CountDownLatch(1);
        AsyncEnd end = new AsyncEnd(async(inComplete, letCompleteReturn));
        Thread transfer = new Thread(() -> end.end(AsyncContext::complete), "read-thread");
        transfer.start();
        assertTrue(inComplete.await(10, TimeUnit.SECONDS));

        Thread container = new Thread(end::containerEnding, "container-thread");
        container.start();
        Await.untilBlocked(container, "onError's end, while complete() is in progress", Duration.ofSeconds(10));
        letCompleteReturn.countDown();
        container.join(10_000);
        transfer.join(10_000);

        assertEquals(List.of("complete on read-thread"), calls);
    }
}
