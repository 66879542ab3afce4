package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import dev.sluice.it.Await;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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
        AsyncEnd end = new AsyncEnd(async(null, null), null);
        end.end(AsyncContext::dispatch);
        end.containerEnding();
        end.end(AsyncContext::complete);

        assertEquals(List.of("dispatch on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void theContainersErrorCompletesWhenTheTransferHasNotEnded() {
        AsyncEnd end = new AsyncEnd(async(null, null), null);
        end.containerEnding();
        end.end(AsyncContext::dispatch); // the transfer's end, later: the request may be another's by now

        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void aContainerThatThrowsBecauseItEndedTheRequestIsNotAnError() {
        AsyncEnd end = new AsyncEnd(async(null, null), null);
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
        AsyncEnd end = new AsyncEnd(async(inComplete, letCompleteReturn), null);
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

    /** A response stream whose isReady() answers what the test says, counting the calls; it takes no write. */
    private static final class Stream extends ServletOutputStream {
        volatile boolean ready;
        volatile RuntimeException fails;
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public boolean isReady() {
            asked.incrementAndGet();
            if (fails != null) {
                throw fails;
            }
            return ready;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write(int b) {
            throw new AssertionError("an end writes nothing");
        }
    }

    @Test
    void anEndThatWaitsForSentBytesHappensNowWhenTheStreamIsReady() {
        Stream stream = new Stream();
        stream.ready = true;
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.endOnceSent(AsyncContext::dispatch);
        end.writePossible();

        assertEquals(List.of("dispatch on " + Thread.currentThread().getName()), calls);
        assertEquals(1, stream.asked.get());
    }

    @Test
    void anEndThatWaitsForSentBytesHappensAtTheNextWritePossible() {
        Stream stream = new Stream();
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.endOnceSent(AsyncContext::dispatch);
        assertEquals(List.of(), calls);

        end.writePossible();
        end.writePossible();
        end.containerEnding();
        assertEquals(List.of("dispatch on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void theContainersErrorEndsARequestThatWaitsForSentBytes() {
        Stream stream = new Stream();
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.endOnceSent(AsyncContext::dispatch);
        end.containerEnding();
        end.writePossible();

        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }

    /** A write-possible while the transfer was still ending finds nothing to end; the stream is ready afterwards. */
    @Test
    void aWritePossibleBeforeTheEndDoesNothingAndTheEndSeesTheStreamReady() {
        Stream stream = new Stream();
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.writePossible();
        assertEquals(List.of(), calls);

        stream.ready = true;
        end.endOnceSent(AsyncContext::complete);
        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void aStreamThatThrowsInIsReadyDoesNotKeepTheRequest() {
        Stream stream = new Stream();
        stream.fails = new IllegalStateException("closed");
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.endOnceSent(AsyncContext::complete);

        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void withoutAStreamToWaitForAnEndHappensNow() {
        AsyncEnd end = new AsyncEnd(async(null, null), null);
        end.endOnceSent(AsyncContext::dispatch);

        assertEquals(List.of("dispatch on " + Thread.currentThread().getName()), calls);
    }

    @Test
    void anEndedRequestDoesNotAskTheStream() {
        Stream stream = new Stream();
        AsyncEnd end = new AsyncEnd(async(null, null), stream);
        end.containerEnding();
        end.endOnceSent(AsyncContext::dispatch);

        assertEquals(0, stream.asked.get());
        assertEquals(List.of("complete on " + Thread.currentThread().getName()), calls);
    }
}
