package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * globalRate and limitRatePerClient on the transfer state machine: several transfers, fake sockets, reads and
 * timers run by hand on a manual clock. Shares are counted in bytes that reached each fake socket.
 */
class RateGroupTest {

    private static final int CHUNK = 4096;
    private static final long RATE = 8L * CHUNK; // eight chunks a second for the whole group

    @TempDir
    Path dir;

    private final ManualExecutor reads = new ManualExecutor();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final ManualScheduler timers = new ManualScheduler(clock);

    /** One client of the engine: its socket, its listener, and the transfer. */
    private record Client(FakeOutputStream out, RecordingListener listener, Transfer transfer, FileChannel channel) {
    }

    private TransferEngine engine(EngineSettings settings) {
        return new TransferEngine(settings, reads, clock::get, true, timers);
    }

    private static EngineSettings settings() {
        return EngineSettings.defaults().withBufferKind(BufferKind.DIRECT).withChunkSize(CHUNK).withMaxBufferMemory(256 * CHUNK)
                .withStallTimeout(Duration.ofHours(1));
    }

    private byte[] file(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(dir.resolve(name), data);
        return data;
    }

    private Client start(TransferEngine engine, String name, long length, Object clientKey) throws IOException {
        return startWith(engine, name, length, request -> request.withClientKey(clientKey));
    }

    private Client startWith(TransferEngine engine, String name, long length, UnaryOperator<TransferRequest> with)
            throws IOException {
        FakeOutputStream out = new FakeOutputStream();
        RecordingListener listener = new RecordingListener();
        FileChannel channel = FileChannel.open(dir.resolve(name), StandardOpenOption.READ);
        Transfer transfer = engine.start(with.apply(TransferRequest.of(out, channel,
                List.of(new Segment.FileRegion(0, length)), listener))).orElseThrow();
        out.start();
        reads.runAll();
        return new Client(out, listener, transfer, channel);
    }

    /** Lets time pass timer by timer until the clock reaches {@code until}, running every read on the way. */
    private void runUntil(long until) {
        reads.runAll();
        while (timers.pending() > 0 && timers.nextDueNanos() <= until) {
            timers.fireNext();
            reads.runAll();
        }
        clock.set(Math.max(clock.get(), until));
    }

    private static void assertReleased(TransferEngine engine) {
        assertEquals(0, engine.metrics().bufferBytesInUse(), "buffer bytes still in use");
        assertEquals(0, engine.metrics().activeTransfers(), "transfers still active");
    }

    @Test
    void transfersUnderOneGlobalRateGetEqualShares() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withGlobalRate(RATE));
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(start(engine, "big.bin", 400 * CHUNK, null));
        }
        long begin = clock.get();
        runUntil(begin + Duration.ofSeconds(10).toNanos());

        long total = 0;
        for (Client client : clients) {
            total += client.out().sent().length;
        }
        // 10 s at 8 chunks/s plus the 50 ms burst and one chunk of debt: 80 or 81 chunks.
        assertTrue(total >= 80L * CHUNK && total <= 82L * CHUNK, "total " + total / CHUNK + " chunks");
        for (Client client : clients) {
            long sent = client.out().sent().length;
            assertEquals(total / 4.0, sent, CHUNK + 1, "one transfer's share");
            assertEquals(Transfer.State.WAITING_FOR_THROTTLE, client.transfer().state());
        }
    }

    @Test
    void aTransferParkedOnItsSocketLeavesItsShareToTheOthers() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withGlobalRate(RATE));
        Client slow = start(engine, "big.bin", 400 * CHUNK, null);
        Client a = start(engine, "big.bin", 400 * CHUNK, null);
        Client b = start(engine, "big.bin", 400 * CHUNK, null);
        slow.out().fillOnNextWrite(); // its next chunk fills its socket, which then stays full
        long begin = clock.get();
        runUntil(begin + Duration.ofSeconds(10).toNanos());

        assertEquals(Transfer.State.WAITING_FOR_SOCKET, slow.transfer().state());
        assertTrue(slow.out().sent().length + (slow.out().hasPendingWrite() ? CHUNK : 0) <= 2 * CHUNK,
                "the slow client took more than the chunks its socket accepted");
        long others = a.out().sent().length + b.out().sent().length;
        assertTrue(others >= 77L * CHUNK, "the others did not get the slow client's share: " + others / CHUNK);
        assertEquals(a.out().sent().length, b.out().sent().length, CHUNK + 1);

        // The client catches up and asks again: from then on the three share the rate, the returning one neither
        // queued behind the others nor ahead of them with service banked while its socket was full.
        slow.out().setWritable(true);
        reads.runAll();
        long slowBefore = slow.out().sent().length;
        long aBefore = a.out().sent().length;
        long bBefore = b.out().sent().length;
        runUntil(clock.get() + Duration.ofSeconds(3).toNanos()); // 24 chunks at the group's rate: 8 each
        long slowGot = (slow.out().sent().length - slowBefore) / CHUNK;
        long aGot = (a.out().sent().length - aBefore) / CHUNK;
        long bGot = (b.out().sent().length - bBefore) / CHUNK;
        String shares = "returning " + slowGot + ", others " + aGot + " and " + bGot + " chunks";
        assertTrue(slowGot >= 7 && slowGot <= 9, "the returning client's share: " + shares);
        assertTrue(aGot >= 7 && bGot >= 7, "the others' shares: " + shares);
    }

    @Test
    void aNewSmallTransferIsGrantedBeforeLongRunningOnes() throws IOException {
        file("big.bin", 400 * CHUNK);
        byte[] small = file("small.bin", 2 * CHUNK);
        TransferEngine engine = engine(settings().withGlobalRate(RATE));
        Client a = start(engine, "big.bin", 400 * CHUNK, null);
        Client b = start(engine, "big.bin", 400 * CHUNK, null);
        runUntil(clock.get() + Duration.ofSeconds(5).toNanos());
        long bigBefore = a.out().sent().length + b.out().sent().length;

        Client late = start(engine, "small.bin", small.length, null);
        // The next two grants go to the newcomer: its two chunks are worth 250 ms at the group's rate.
        runUntil(clock.get() + Duration.ofMillis(260).toNanos());

        assertEquals(Outcome.COMPLETED, late.listener().only().outcome());
        assertArrayEquals(small, late.out().sent());
        assertTrue(a.out().sent().length + b.out().sent().length - bigBefore <= CHUNK,
                "the long-running transfers went first");
    }

    @Test
    void aNewLongTransferGoesFirstForItsWholeHeadStart() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withGlobalRate(RATE));
        Client a = start(engine, "big.bin", 400 * CHUNK, null);
        Client b = start(engine, "big.bin", 400 * CHUNK, null);
        runUntil(clock.get() + Duration.ofSeconds(5).toNanos());
        long before = a.out().sent().length + b.out().sent().length;

        Client late = start(engine, "big.bin", 400 * CHUNK, null);
        // Half a second of the group's rate is four chunks: the newcomer's, one after another, not only its first.
        runUntil(clock.get() + Duration.ofMillis(490).toNanos());

        assertEquals(4L * CHUNK, late.out().sent().length, "the newcomer's chunks in its first half second");
        assertTrue(a.out().sent().length + b.out().sent().length - before <= CHUNK,
                "the long-running transfers went first");
    }

    @Test
    void oneClientsTransfersShareOneBudgetAndAnotherClientHasItsOwn() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerClient(RATE));
        List<Client> sameClient = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sameClient.add(start(engine, "big.bin", 400 * CHUNK, "10.0.0.1"));
        }
        Client other = start(engine, "big.bin", 400 * CHUNK, "10.0.0.2");
        assertEquals(2, engine.clientRateGroups());
        runUntil(clock.get() + Duration.ofSeconds(10).toNanos());

        long together = sameClient.stream().mapToLong(c -> c.out().sent().length).sum();
        assertTrue(together >= 80L * CHUNK && together <= 82L * CHUNK,
                "three connections of one client: " + together / CHUNK + " chunks");
        long alone = other.out().sent().length;
        assertTrue(alone >= 80L * CHUNK && alone <= 82L * CHUNK, "the other client: " + alone / CHUNK + " chunks");
    }

    /** {@code limitRatePerUser}: one user's downloads share one budget whatever their addresses. */
    @Test
    void oneUsersTransfersShareOneBudgetFromAnyAddressAndAnotherUserHasItsOwn() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerUser(RATE));
        List<Client> alice = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String address = "10.0.0." + i;
            alice.add(startWith(engine, "big.bin", 400 * CHUNK, r -> r.withClientKey(address).withUserKey("alice")));
        }
        Client bob = startWith(engine, "big.bin", 400 * CHUNK, r -> r.withClientKey("10.0.0.1").withUserKey("bob"));
        Client anonymous = startWith(engine, "big.bin", 400 * CHUNK, r -> r.withClientKey("10.0.0.1"));
        assertEquals(2, engine.userRateGroups());
        runUntil(clock.get() + Duration.ofSeconds(10).toNanos());

        long together = alice.stream().mapToLong(c -> c.out().sent().length).sum();
        assertTrue(together >= 80L * CHUNK && together <= 82L * CHUNK,
                "three downloads of one user: " + together / CHUNK + " chunks");
        long alone = bob.out().sent().length;
        assertTrue(alone >= 80L * CHUNK && alone <= 82L * CHUNK, "the other user: " + alone / CHUNK + " chunks");
        assertArrayEquals(Files.readAllBytes(dir.resolve("big.bin")), anonymous.out().sent(),
                "a download of no user is not limited");

        alice.forEach(c -> c.out().error(new IOException("gone")));
        bob.out().error(new IOException("gone"));
        runUntil(clock.get() + Duration.ofSeconds(10).toNanos());
        assertEquals(0, engine.userRateGroups(), "users' groups outlived their downloads");
        assertReleased(engine);
    }

    /** A transfer's own {@code RateLimit} replaces the engine's {@code limitRate} and {@code limitRateAfter}. */
    @Test
    void aTransfersOwnRateLimitReplacesTheEngines() throws IOException {
        byte[] data = file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRate(RATE / 2, 0));
        Client limited = startWith(engine, "big.bin", 400 * CHUNK,
                r -> r.withRate(new TransferRequest.RateLimit(RATE, 4 * CHUNK)));
        Client unlimited = startWith(engine, "big.bin", 400 * CHUNK,
                r -> r.withRate(new TransferRequest.RateLimit(0, 0)));
        Client engines = startWith(engine, "big.bin", 400 * CHUNK, r -> r);
        runUntil(clock.get() + Duration.ofSeconds(10).toNanos());

        long sent = limited.out().sent().length;
        assertTrue(sent >= 83L * CHUNK && sent <= 85L * CHUNK, "4 free chunks and 10 s at 8 chunks/s: "
                + sent / CHUNK + " chunks");
        assertArrayEquals(data, unlimited.out().sent(), "a transfer with no limit of its own was throttled");
        long halved = engines.out().sent().length;
        assertTrue(halved >= 40L * CHUNK && halved <= 41L * CHUNK, "the engine's limit: " + halved / CHUNK);
    }

    @Test
    void aTransferWhoseListenerTheContainerRefusesLeavesNothingBehind() throws IOException {
        byte[] data = file("small.bin", 3 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerClient(RATE).withMaxTransfers(1));
        FakeOutputStream refusing = new FakeOutputStream();
        IllegalStateException refusal = new IllegalStateException("not an async request");
        refusing.refuseListener(refusal);
        FileChannel channel = FileChannel.open(dir.resolve("small.bin"));

        assertSame(refusal, assertThrows(IllegalStateException.class, () -> engine.start(TransferRequest.of(
                refusing, channel, List.of(new Segment.FileRegion(0, data.length)), new RecordingListener())
                .withClientKey("10.0.0.1"))));
        assertEquals(0, engine.metrics().activeTransfers());
        assertEquals(0, engine.clientRateGroups(), "the client's group outlived a transfer that never started");
        assertTrue(channel.isOpen(), "the channel stays the caller's");
        channel.close();
        Client next = start(engine, "small.bin", data.length, "10.0.0.1"); // maxTransfers=1: the slot is free
        runUntil(clock.get() + Duration.ofSeconds(5).toNanos());
        assertArrayEquals(data, next.out().sent());
    }

    @Test
    void aClientsGroupIsRemovedOnceItsLastTransferHasEndedAndIsPaidFor() throws IOException {
        byte[] data = file("small.bin", 3 * CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerClient(RATE));
        Client a = start(engine, "small.bin", data.length, "10.0.0.1");
        Client b = start(engine, "small.bin", data.length, "10.0.0.1");
        Client c = start(engine, "small.bin", data.length, "10.0.0.2");
        assertEquals(2, engine.clientRateGroups());

        c.out().error(new IOException("gone"));
        reads.runAll();
        assertEquals(2, engine.clientRateGroups(), "a group went before what its client took was paid for");
        runUntil(clock.get() + Duration.ofSeconds(5).toNanos());

        assertArrayEquals(data, a.out().sent());
        assertArrayEquals(data, b.out().sent());
        assertEquals(0, engine.clientRateGroups());
        for (int i = 0; i < 100; i++) { // clients come and go: the map does not grow
            Client passing = start(engine, "small.bin", data.length, "10.0.1." + i);
            runUntil(clock.get() + Duration.ofSeconds(1).toNanos());
            assertEquals(Outcome.COMPLETED, passing.listener().only().outcome());
        }
        assertEquals(0, engine.clientRateGroups());
        assertReleased(engine);
    }

    /** Runs timers and reads until {@code client}'s transfer has ended; fails if it waits for nothing. */
    private void runUntilEnded(Client client) {
        reads.runAll();
        while (!client.listener().ended()) {
            assertTrue(timers.fireNext(), "the transfer waits, but no timer is set");
            reads.runAll();
        }
    }

    @Test
    void aClientFetchingOneRequestAfterAnotherMeetsTheDebtOfTheLastOne() throws IOException {
        byte[] data = file("one-chunk.bin", CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerClient(RATE));
        long begin = clock.get();
        for (int i = 0; i < 40; i++) { // a file fetched in 40 short ranges, one at a time
            Client client = start(engine, "one-chunk.bin", data.length, "10.0.0.1");
            runUntilEnded(client);
            assertArrayEquals(data, client.out().sent());
            assertEquals(1, timers.pending(), "one recheck of the idle group, no more");
        }
        double seconds = (clock.get() - begin) / 1e9;
        // 40 chunks at 8 a second, less the first (debt) and the 50 ms burst: 4.825 s; not slower than the rate
        assertEquals(4.825, seconds, 0.01, "40 one-chunk requests took " + seconds + " s");

        runUntil(clock.get() + Duration.ofSeconds(1).toNanos());
        assertEquals(0, engine.clientRateGroups(), "the group outlived its debt");
        assertEquals(0, timers.pending());
        assertReleased(engine);
    }

    @Test
    void aClientThatComesBackAfterPayingItsDebtStartsAsNew() throws IOException {
        byte[] data = file("one-chunk.bin", CHUNK);
        TransferEngine engine = engine(settings().withLimitRatePerClient(RATE));
        runUntilEnded(start(engine, "one-chunk.bin", data.length, "10.0.0.1"));
        assertEquals(1, engine.clientRateGroups());
        runUntil(clock.get() + Duration.ofSeconds(1).toNanos());
        assertEquals(0, engine.clientRateGroups());

        long before = clock.get();
        Client back = start(engine, "one-chunk.bin", data.length, "10.0.0.1");
        assertTrue(back.listener().ended(), "a fresh client waited");
        assertArrayEquals(data, back.out().sent());
        assertEquals(before, clock.get());
    }

    @Test
    void aTransferAbortedWhileItWaitsForAGrantLeavesTheQueueAndReleasesEverything() throws IOException {
        file("big.bin", 400 * CHUNK);
        TransferEngine engine = engine(settings().withGlobalRate(RATE).withLimitRatePerClient(RATE));
        Client a = start(engine, "big.bin", 400 * CHUNK, "10.0.0.1");
        Client b = start(engine, "big.bin", 400 * CHUNK, "10.0.0.2");
        runUntil(clock.get() + Duration.ofSeconds(1).toNanos());
        assertEquals(Transfer.State.WAITING_FOR_THROTTLE, b.transfer().state());
        int waitingBefore = engine.globalRateGroup().waiting();
        assertTrue(waitingBefore >= 1);

        b.out().error(new IOException("gone"));
        reads.runAll();

        assertEquals(Outcome.ABORTED, b.listener().only().outcome());
        assertFalse(b.channel().isOpen());
        assertEquals(1, engine.clientRateGroups());
        long aBefore = a.out().sent().length;
        runUntil(clock.get() + Duration.ofSeconds(2).toNanos());
        assertTrue(engine.globalRateGroup().waiting() <= 1, "the aborted transfer still waits in the group");
        // a alone now takes the whole rate: 16 chunks in 2 s (one of debt either way)
        assertEquals(16.0 * CHUNK, a.out().sent().length - aBefore, CHUNK + 1);

        a.out().error(new IOException("gone too"));
        reads.runAll();
        runUntil(clock.get() + Duration.ofSeconds(1).toNanos());
        assertEquals(0, engine.globalRateGroup().waiting());
        assertEquals(0, engine.clientRateGroups());
        assertReleased(engine);
    }
}
