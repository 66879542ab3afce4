package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class EngineSettingsTest {

    @Test
    void eachWitherChangesItsOwnFieldsOnly() {
        EngineSettings d = EngineSettings.defaults();
        assertEquals(new EngineSettings(d.chunkSize(), 4, d.maxBufferMemory(), d.readThreads(), d.stallTimeout(),
                d.bufferKind(), 0, 0, 0, 0, 0, 0, d.maxReadThreads()), d.withReadAhead(4));
        EngineSettings all = d.withChunkSize(65536).withReadAhead(3).withMaxBufferMemory(1 << 20)
                .withStallTimeout(Duration.ofSeconds(5)).withBufferKind(BufferKind.HEAP).withLimitRate(1000, 2000)
                .withMaxTransfers(7).withGlobalRate(3000).withLimitRatePerClient(4000).withLimitRatePerUser(5000);
        assertEquals(new EngineSettings(65536, 3, 1 << 20, d.readThreads(), Duration.ofSeconds(5), BufferKind.HEAP,
                1000, 2000, 7, 3000, 4000, 5000, d.maxReadThreads()), all);
        assertEquals(all.withReadAhead(5), all.toBuilder().readAhead(5).build());
    }

    @Test
    void theBuilderStartsFromTheDefaultsAndSetsEveryField() {
        assertEquals(EngineSettings.defaults(), EngineSettings.builder().build());
        assertEquals(new EngineSettings(2048, 1, 4096, 2, Duration.ofMillis(10), BufferKind.DIRECT, 1, 2, 3, 4, 5, 6,
                7), EngineSettings.builder().chunkSize(2048).readAhead(1).maxBufferMemory(4096).readThreads(2)
                        .stallTimeout(Duration.ofMillis(10)).bufferKind(BufferKind.DIRECT).limitRate(1)
                        .limitRateAfter(2).maxTransfers(3).globalRate(4).limitRatePerClient(5)
                        .limitRatePerUser(6).maxReadThreads(7).build());
        assertEquals(new EngineSettings(2048, 1, 4096, 2, Duration.ofMillis(10), BufferKind.DIRECT, 1, 2, 3, 4, 5, 6,
                7).withReadThreads(3, 9), EngineSettings.builder().chunkSize(2048).readAhead(1).maxBufferMemory(4096)
                        .readThreads(3).stallTimeout(Duration.ofMillis(10)).bufferKind(BufferKind.DIRECT).limitRate(1)
                        .limitRateAfter(2).maxTransfers(3).globalRate(4).limitRatePerClient(5)
                        .limitRatePerUser(6).maxReadThreads(9).build());
    }

    @Test
    void settingsOutOfTheirBoundsAreRefused() {
        assertEquals("chunkSize 512 is not within 1024 to 16777216", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.builder().chunkSize(512).build()).getMessage());
        assertEquals("readAhead 65 is not within 1 to 64", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.defaults().withReadAhead(65)).getMessage());
        assertEquals("readThreads 0 is not within 1 to 1024", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.builder().readThreads(0).build()).getMessage());
        assertEquals("maxReadThreads 1025 is not within 1 to 1024", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.builder().maxReadThreads(1025).build()).getMessage());
        assertEquals("maxReadThreads 4 is below readThreads 8", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.defaults().withReadThreads(8, 4)).getMessage());
        assertEquals(100, EngineSettings.defaults().toBuilder().readThreads(100).build().maxReadThreads(),
                "an unset maximum follows a larger readThreads");
        assertEquals(64, EngineSettings.defaults().toBuilder().readThreads(2).build().maxReadThreads());
        assertEquals("maxTransfers -1 is not within 0 to 10000000", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.defaults().withMaxTransfers(-1)).getMessage());
        assertEquals("globalRate -1 is not within 0 to 4611686018427387903", assertThrows(
                IllegalArgumentException.class, () -> EngineSettings.defaults().withGlobalRate(-1)).getMessage());
        assertEquals("maxBufferMemory 1024 is below one chunk", assertThrows(IllegalArgumentException.class,
                () -> EngineSettings.defaults().withChunkSize(2048).withMaxBufferMemory(1024)).getMessage());
        assertEquals("stallTimeout PT24H0.001S is not positive and at most PT24H", assertThrows(
                IllegalArgumentException.class, () -> EngineSettings.defaults().withStallTimeout(
                        Duration.ofDays(1).plusMillis(1))).getMessage());
        assertEquals("stallTimeout PT0S is not positive and at most PT24H", assertThrows(
                IllegalArgumentException.class, () -> EngineSettings.defaults().withStallTimeout(Duration.ZERO))
                .getMessage());
        assertEquals(Duration.ofDays(1), EngineSettings.defaults().withStallTimeout(Duration.ofDays(1)).stallTimeout());
    }
}
