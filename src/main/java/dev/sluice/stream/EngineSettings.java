package dev.sluice.stream;

import java.time.Duration;
import java.util.Objects;

/**
 * The engine's settings. Bounds are checked here so that no engine can be built with settings that break its
 * guarantees; the servlet layer checks them earlier, with messages that name the setting and the value.
 *
 * @param chunkSize bytes per read and per write
 * @param readAhead pooled buffers one transfer may hold (being read, read, or being written)
 * @param maxBufferMemory bytes of chunk buffers all transfers together may hold
 * @param readThreads threads doing file reads
 * @param stallTimeout how long a client may accept no byte before its transfer ends
 * @param bufferKind where chunk buffers live
 * @param limitRate most bytes per second one transfer sends, 0 for no limit
 * @param limitRateAfter bytes one transfer sends at full speed before {@code limitRate} applies
 * @param maxTransfers most transfers running at once, 0 for no limit
 * @param globalRate most bytes per second all transfers together send, shared fairly, 0 for no limit
 * @param limitRatePerClient most bytes per second all transfers of one client send together, 0 for no limit
 */
public record EngineSettings(int chunkSize, int readAhead, long maxBufferMemory, int readThreads,
        Duration stallTimeout, BufferKind bufferKind, long limitRate, long limitRateAfter, int maxTransfers,
        long globalRate, long limitRatePerClient) {

    public static final int MIN_CHUNK_SIZE = 1024;
    public static final int MAX_CHUNK_SIZE = 16 * 1024 * 1024;

    public EngineSettings {
        Objects.requireNonNull(stallTimeout, "stallTimeout");
        Objects.requireNonNull(bufferKind, "bufferKind");
        if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunkSize out of range: " + chunkSize);
        }
        if (readAhead < 1 || readAhead > 64) {
            throw new IllegalArgumentException("readAhead out of range: " + readAhead);
        }
        if (maxBufferMemory < chunkSize) {
            throw new IllegalArgumentException("maxBufferMemory " + maxBufferMemory + " is below one chunk");
        }
        if (readThreads < 1 || readThreads > 1024) {
            throw new IllegalArgumentException("readThreads out of range: " + readThreads);
        }
        if (stallTimeout.isNegative() || stallTimeout.isZero()) {
            throw new IllegalArgumentException("stallTimeout must be positive: " + stallTimeout);
        }
        if (maxTransfers < 0) {
            throw new IllegalArgumentException("negative maxTransfers");
        }
        if (limitRate < 0 || limitRateAfter < 0) {
            throw new IllegalArgumentException("negative limitRate or limitRateAfter");
        }
        if (globalRate < 0 || limitRatePerClient < 0) {
            throw new IllegalArgumentException("negative globalRate or limitRatePerClient");
        }
    }

    public static EngineSettings defaults() {
        return new EngineSettings(256 * 1024, 2, 256L * 1024 * 1024, 8, Duration.ofSeconds(60), BufferKind.MAPPED,
                0, 0, 0, 0, 0);
    }

    public EngineSettings withChunkSize(int value) {
        return new EngineSettings(value, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withReadAhead(int value) {
        return new EngineSettings(chunkSize, value, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withMaxBufferMemory(long value) {
        return new EngineSettings(chunkSize, readAhead, value, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withStallTimeout(Duration value) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, value, bufferKind,
                limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withLimitRate(long value, long after) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                value, after, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withMaxTransfers(int value) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, value, globalRate, limitRatePerClient);
    }

    public EngineSettings withBufferKind(BufferKind value) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, value,
                limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient);
    }

    public EngineSettings withGlobalRate(long value) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, maxTransfers, value, limitRatePerClient);
    }

    public EngineSettings withLimitRatePerClient(long value) {
        return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                limitRate, limitRateAfter, maxTransfers, globalRate, value);
    }
}
