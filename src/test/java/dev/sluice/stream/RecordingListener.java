package dev.sluice.stream;

import java.util.ArrayList;
import java.util.List;

/** Records every end a transfer reports; a correct transfer reports exactly one. */
final class RecordingListener implements TransferListener {

    record End(Outcome outcome, long bytesWritten, Throwable cause) {
    }

    final List<End> ends = new ArrayList<>();
    final List<TransferSummary> summaries = new ArrayList<>();

    @Override
    public void ended(TransferSummary summary) {
        synchronized (this) {
            summaries.add(summary);
        }
        TransferListener.super.ended(summary);
    }

    @Override
    public synchronized void ended(Outcome outcome, long bytesWritten, Throwable cause) {
        ends.add(new End(outcome, bytesWritten, cause));
    }

    synchronized End only() {
        if (ends.size() != 1) {
            throw new AssertionError("expected exactly one end, got " + ends);
        }
        return ends.get(0);
    }

    synchronized boolean ended() {
        return !ends.isEmpty();
    }
}
