package dev.sluice.stream;

import java.time.Duration;
import java.util.Objects;

/**
 * The engine's settings, with their defaults ({@link #defaults()}) and bounds (the constants below). Bounds are
 * checked here so that no engine can be built with settings that break its guarantees; the servlet layer declares
 * its settings with these same constants and checks them earlier, with messages that name the setting and the
 * value.
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
 * @param limitRatePerUser most bytes per second all transfers of one user send together, 0 for no limit
 * @param maxReadThreads most threads doing file reads: the pool grows from {@code readThreads} to this while reads
 *        wait for slow storage (see {@code ReadPool}); at least {@code readThreads}
 */
public record EngineSettings(int chunkSize, int readAhead, long maxBufferMemory, int readThreads,
        Duration stallTimeout, BufferKind bufferKind, long limitRate, long limitRateAfter, int maxTransfers,
        long globalRate, long limitRatePerClient, long limitRatePerUser, int maxReadThreads) {

    /**
     * The values a numeric setting may take, both ends included.
     *
     * @param min the smallest value
     * @param max the largest value
     */
    public record Bounds(long min, long max) {

        /** Whether {@code value} is within the bounds. */
        public boolean contains(long value) {
            return value >= min && value <= max;
        }

        void check(String name, long value) {
            if (!contains(value)) {
                throw new IllegalArgumentException(name + " " + value + " is not within " + min + " to " + max);
            }
        }
    }

    public static final int MIN_CHUNK_SIZE = 1024;
    public static final int MAX_CHUNK_SIZE = 16 * 1024 * 1024;

    /** Byte counts and byte rates stay below this, so that adding two of them never overflows. */
    public static final long MAX_BYTES = Long.MAX_VALUE / 2;

    public static final Bounds CHUNK_SIZE_BOUNDS = new Bounds(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE);
    public static final Bounds READ_AHEAD_BOUNDS = new Bounds(1, 64);
    /** The lower end only; the budget must also hold one chunk. */
    public static final Bounds MAX_BUFFER_MEMORY_BOUNDS = new Bounds(1, MAX_BYTES);
    public static final Bounds READ_THREADS_BOUNDS = new Bounds(1, 1024);
    /** The upper end only; it must also be at least {@code readThreads}. */
    public static final Bounds MAX_READ_THREADS_BOUNDS = READ_THREADS_BOUNDS;
    /** {@code limitRate}, {@code limitRateAfter}, {@code globalRate}, {@code limitRatePerClient} and {@code limitRatePerUser}; 0: none. */
    public static final Bounds RATE_BOUNDS = new Bounds(0, MAX_BYTES);
    public static final Bounds MAX_TRANSFERS_BOUNDS = new Bounds(0, 10_000_000);
    /** The longest stall timeout: a day. Durations are kept in nanoseconds, good for 292 years. */
    public static final Duration MAX_STALL_TIMEOUT = Duration.ofDays(1);

    public EngineSettings {
        Objects.requireNonNull(stallTimeout, "stallTimeout");
        Objects.requireNonNull(bufferKind, "bufferKind");
        CHUNK_SIZE_BOUNDS.check("chunkSize", chunkSize);
        READ_AHEAD_BOUNDS.check("readAhead", readAhead);
        MAX_BUFFER_MEMORY_BOUNDS.check("maxBufferMemory", maxBufferMemory);
        if (maxBufferMemory < chunkSize) {
            throw new IllegalArgumentException("maxBufferMemory " + maxBufferMemory + " is below one chunk");
        }
        READ_THREADS_BOUNDS.check("readThreads", readThreads);
        MAX_READ_THREADS_BOUNDS.check("maxReadThreads", maxReadThreads);
        if (maxReadThreads < readThreads) {
            throw new IllegalArgumentException("maxReadThreads " + maxReadThreads + " is below readThreads "
                    + readThreads);
        }
        if (stallTimeout.isNegative() || stallTimeout.isZero() || stallTimeout.compareTo(MAX_STALL_TIMEOUT) > 0) {
            throw new IllegalArgumentException("stallTimeout " + stallTimeout + " is not positive and at most "
                    + MAX_STALL_TIMEOUT);
        }
        RATE_BOUNDS.check("limitRate", limitRate);
        RATE_BOUNDS.check("limitRateAfter", limitRateAfter);
        MAX_TRANSFERS_BOUNDS.check("maxTransfers", maxTransfers);
        RATE_BOUNDS.check("globalRate", globalRate);
        RATE_BOUNDS.check("limitRatePerClient", limitRatePerClient);
        RATE_BOUNDS.check("limitRatePerUser", limitRatePerUser);
    }

    /**
     * The defaults: the servlet's settings take theirs from here. {@code maxReadThreads} is 64: the pool grows
     * from 8 only while reads wait for the storage, and 64 threads at 5 ms per read are 12,800 reads a second.
     *
     * <p>Why only since 2026-12-06: until then the pool grew also when reads waited for a core or a lock rather than
     * for the storage (2,000 slow clients on 2 busy cores grew it from 8 to 64 threads, and so did 100 clients of a
     * cached file), and a pool that grew never shrank while busy. The {@code StorageGauge} now takes the wait for a
     * core out (Linux) and counts a read that found its bytes in memory as not waiting, and the {@code ReadPool}
     * shrinks back when the reads stop waiting.
     */
    public static EngineSettings defaults() {
        return new EngineSettings(256 * 1024, 2, 256L * 1024 * 1024, 8, Duration.ofSeconds(60), BufferKind.MAPPED,
                0, 0, 0, 0, 0, 0, 64);
    }

    /** A builder that starts from the defaults. */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /** A builder that starts from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public EngineSettings withChunkSize(int value) {
        return toBuilder().chunkSize(value).build();
    }

    public EngineSettings withReadThreads(int value, int max) {
        return toBuilder().readThreads(value).maxReadThreads(max).build();
    }

    public EngineSettings withReadAhead(int value) {
        return toBuilder().readAhead(value).build();
    }

    public EngineSettings withMaxBufferMemory(long value) {
        return toBuilder().maxBufferMemory(value).build();
    }

    public EngineSettings withStallTimeout(Duration value) {
        return toBuilder().stallTimeout(value).build();
    }

    public EngineSettings withLimitRate(long value, long after) {
        return toBuilder().limitRate(value).limitRateAfter(after).build();
    }

    public EngineSettings withMaxTransfers(int value) {
        return toBuilder().maxTransfers(value).build();
    }

    public EngineSettings withBufferKind(BufferKind value) {
        return toBuilder().bufferKind(value).build();
    }

    public EngineSettings withGlobalRate(long value) {
        return toBuilder().globalRate(value).build();
    }

    public EngineSettings withLimitRatePerClient(long value) {
        return toBuilder().limitRatePerClient(value).build();
    }

    public EngineSettings withLimitRatePerUser(long value) {
        return toBuilder().limitRatePerUser(value).build();
    }

    /** Collects settings one by one; {@link #build()} checks them all at once. */
    public static final class Builder {

        private int chunkSize;
        private int readAhead;
        private long maxBufferMemory;
        private int readThreads;
        private Duration stallTimeout;
        private BufferKind bufferKind;
        private long limitRate;
        private long limitRateAfter;
        private int maxTransfers;
        private long globalRate;
        private long limitRatePerClient;
        private long limitRatePerUser;
        private int maxReadThreads;
        /** Whether {@link #maxReadThreads} was called: if not, the maximum follows a larger {@code readThreads}. */
        private boolean maxReadThreadsSet;

        private Builder(EngineSettings from) {
            chunkSize = from.chunkSize;
            readAhead = from.readAhead;
            maxBufferMemory = from.maxBufferMemory;
            readThreads = from.readThreads;
            stallTimeout = from.stallTimeout;
            bufferKind = from.bufferKind;
            limitRate = from.limitRate;
            limitRateAfter = from.limitRateAfter;
            maxTransfers = from.maxTransfers;
            globalRate = from.globalRate;
            limitRatePerClient = from.limitRatePerClient;
            limitRatePerUser = from.limitRatePerUser;
            maxReadThreads = from.maxReadThreads;
        }

        public Builder chunkSize(int value) {
            chunkSize = value;
            return this;
        }

        public Builder readAhead(int value) {
            readAhead = value;
            return this;
        }

        public Builder maxBufferMemory(long value) {
            maxBufferMemory = value;
            return this;
        }

        public Builder readThreads(int value) {
            readThreads = value;
            return this;
        }

        /** Unset, the maximum is the one copied, or {@code readThreads} if that is larger. */
        public Builder maxReadThreads(int value) {
            maxReadThreads = value;
            maxReadThreadsSet = true;
            return this;
        }

        public Builder stallTimeout(Duration value) {
            stallTimeout = value;
            return this;
        }

        public Builder bufferKind(BufferKind value) {
            bufferKind = value;
            return this;
        }

        public Builder limitRate(long value) {
            limitRate = value;
            return this;
        }

        public Builder limitRateAfter(long value) {
            limitRateAfter = value;
            return this;
        }

        public Builder maxTransfers(int value) {
            maxTransfers = value;
            return this;
        }

        public Builder globalRate(long value) {
            globalRate = value;
            return this;
        }

        public Builder limitRatePerClient(long value) {
            limitRatePerClient = value;
            return this;
        }

        public Builder limitRatePerUser(long value) {
            limitRatePerUser = value;
            return this;
        }

        /**
         * The settings collected so far.
         *
         * @throws IllegalArgumentException if one is out of its bounds
         */
        public EngineSettings build() {
            return new EngineSettings(chunkSize, readAhead, maxBufferMemory, readThreads, stallTimeout, bufferKind,
                    limitRate, limitRateAfter, maxTransfers, globalRate, limitRatePerClient, limitRatePerUser,
                    maxReadThreadsSet ? maxReadThreads : Math.max(maxReadThreads, readThreads));
        }
    }
}
