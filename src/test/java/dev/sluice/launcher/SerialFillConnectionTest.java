package dev.sluice.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/**
 * {@link SerialFillConnection} runs Jetty's {@code onFillable} on one thread at a time, and a call that arrives
 * meanwhile neither waits nor is lost: the thread inside runs it next. Driven by latches, not by timing.
 */
class SerialFillConnectionTest {

    /** Which threads ran {@code fill()}, in order, and how many ran it at once at most. */
    private final List<String> runs = new CopyOnWriteArrayList<>();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger mostInside = new AtomicInteger();
    private final CountDownLatch firstEntered = new CountDownLatch(1);
    private final CountDownLatch firstMayLeave = new CountDownLatch(1);

    @Test
    void anOnFillableWhileAnotherRunsIsRunAfterItByThatThreadAndTheCallerReturnsAtOnce() throws Exception {
        SerialFillConnection connection = connection();
        Thread first = new Thread(connection::onFillable, "first");
        first.start();
        assertTrue(firstEntered.await(10, TimeUnit.SECONDS), "the first call runs fill()");

        Thread second = new Thread(connection::onFillable, "second");
        second.start();
        second.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(second.isAlive(), "the second call returns without waiting for the first");
        assertEquals(List.of("first"), runs, "nothing else ran fill() while the first was inside");

        firstMayLeave.countDown();
        first.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(first.isAlive());
        assertEquals(List.of("first", "first"), runs, "the first thread ran the second call after its own");
        assertEquals(1, mostInside.get());

        Thread third = new Thread(connection::onFillable, "third");
        third.start();
        third.join(TimeUnit.SECONDS.toMillis(10));
        assertEquals(List.of("first", "first", "third"), runs, "a call after the others ran on its own thread");
    }

    private SerialFillConnection connection() {
        ServerConnector connector = new ServerConnector(new Server());
        return new SerialFillConnection(new HttpConfiguration(), connector, new ByteArrayEndPoint()) {
            @Override
            void fill() {
                mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                runs.add(Thread.currentThread().getName());
                try {
                    if (runs.size() == 1) {
                        firstEntered.countDown();
                        firstMayLeave.await(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inside.decrementAndGet();
                }
            }
        };
    }
}
