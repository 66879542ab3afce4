package dev.sluice.stream;

/**
 * A snapshot of the engine's counters: what an operator watches, and what tests use to prove that nothing
 * leaks.
 *
 * @param activeTransfers transfers started and not yet ended
 * @param bytesSent body bytes handed to the container since start
 * @param completed transfers that sent every byte
 * @param aborted transfers ended by the client (gone, write error, stalled) or by shutdown
 * @param failed transfers ended by the server (read error, file shrank)
 * @param bufferBytesInUse chunk-buffer bytes held by transfers now
 * @param bufferBytesHighWater the most chunk-buffer bytes ever held at once
 * @param bufferWaits times a transfer had to wait for a buffer because the budget was spent
 * @param readQueueLength reads waiting for a read thread
 * @param reads file reads started since start: a chunk read into a buffer, or a span of a mapping made resident
 * @param handedOff bodies handed to the container to send by itself (Tomcat's sendfile); they are in no other
 *        counter, and how they ended is known only to the container
 * @param bytesHandedOff the planned lengths of those bodies (not necessarily sent: a client may leave early)
 * @param bufferBytesBudget the most chunk-buffer bytes all transfers may hold ({@code maxBufferMemory})
 * @param clientRateGroups clients with a {@code limitRatePerClient} group now
 * @param userRateGroups users with a {@code limitRatePerUser} group now
 * @param mappedWindows windows of files mapped now ({@code bufferKind=mapped})
 * @param readThreads read threads alive now: {@code readThreads}, and more, up to {@code maxReadThreads}, while
 *        reads wait for the storage (the first-read lane's one thread not counted)
 * @param spanLoads spans of mapped files being read from the storage now (a span found in memory is not loaded)
 * @param parked time all transfers have spent parked, by what they awaited, since start (ended transfers'
 *        whole waits, running ones' up to their last resume)
 * @param durations seconds from start to end of every ended transfer
 * @param sizes body bytes sent by every ended transfer
 */
public record TransferMetrics(long activeTransfers, long bytesSent, long completed, long aborted, long failed,
        long bufferBytesInUse, long bufferBytesHighWater, long bufferWaits, long readQueueLength, long reads, long handedOff,
        long bytesHandedOff, long bufferBytesBudget, long clientRateGroups, long userRateGroups,
        long mappedWindows, long readThreads, long spanLoads, Waits parked, Histogram.Snapshot durations,
        Histogram.Snapshot sizes) {
}
