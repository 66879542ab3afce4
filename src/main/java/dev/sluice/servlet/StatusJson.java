package dev.sluice.servlet;

import dev.sluice.stream.TransferMetrics;

/** The counters as the status path sends them: one flat JSON object of whole numbers. */
final class StatusJson {

    private StatusJson() {
    }

    static String of(TransferMetrics m) {
        return "{\"activeTransfers\":" + m.activeTransfers()
                + ",\"bytesSent\":" + m.bytesSent()
                + ",\"completed\":" + m.completed()
                + ",\"aborted\":" + m.aborted()
                + ",\"failed\":" + m.failed()
                + ",\"bufferBytesInUse\":" + m.bufferBytesInUse()
                + ",\"bufferBytesHighWater\":" + m.bufferBytesHighWater()
                + ",\"bufferWaits\":" + m.bufferWaits()
                + ",\"readQueueLength\":" + m.readQueueLength()
                + ",\"handedOff\":" + m.handedOff()
                + ",\"bytesHandedOff\":" + m.bytesHandedOff()
                + "}\n";
    }
}
