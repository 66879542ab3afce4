package dev.sluice.stream;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * One finished transfer, for JDK Flight Recorder: what was sent, how it ended, and where the time went. The
 * event's duration is the whole transfer; the four waits say how much of it the transfer spent parked, and on
 * what, so an operator can tell a slow client (socket) from a slow disk (read), a spent memory budget (buffer)
 * or a speed limit (throttle). Committed once, when the transfer ends; see {@link TransferRecording}.
 */
@Name(TransferEvent.NAME)
@Label("Sluice Transfer")
@Category("Sluice")
@Description("One download: file, range, bytes sent, outcome and the time it waited for socket, disk, buffer and throttle")
@StackTrace(false) // the thread that happens to end a transfer says nothing about it
public final class TransferEvent extends Event {

    /** The event's name in a recording, e.g. for {@code jfr print --events dev.sluice.Transfer}. */
    public static final String NAME = "dev.sluice.Transfer";

    @Label("File")
    @Description("The file's path under the served root")
    String file;

    @Label("Range")
    @Description("What part of the file was asked for: full, a byte range or the number of multipart ranges")
    String range;

    @Label("Bytes")
    @Description("Body bytes handed to the container")
    @DataAmount
    long bytes;

    @Label("Outcome")
    @Description("COMPLETED, ABORTED (the client went away or stalled) or FAILED (the file could not be read)")
    String outcome;

    @Label("Socket Wait")
    @Description("Time parked because the client's socket took no more data")
    @Timespan
    long socketWait;

    @Label("Read Wait")
    @Description("Time parked waiting for a disk read of the next chunk")
    @Timespan
    long readWait;

    @Label("Buffer Wait")
    @Description("Time parked because the shared buffer budget (maxBufferMemory) was spent")
    @Timespan
    long bufferWait;

    @Label("Throttle Wait")
    @Description("Time parked by the speed limits (limitRate, globalRate, limitRatePerClient, limitRatePerUser)")
    @Timespan
    long throttleWait;

    @Label("Start Chunk")
    @Description("The chunk size it started at: 16 KiB, or more when an earlier download on the same connection proved the client fast")
    @DataAmount
    int startChunk;

    @Label("Earned Chunk")
    @Description("The chunk size its client had proven it drains at the end (0: never proven); the next download on the connection starts there")
    @DataAmount
    int earnedChunk;
}
