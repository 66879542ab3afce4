package dev.sluice.stream;

/**
 * One transfer in flight, as seen at one moment: for a live status page.
 *
 * @param label what is being sent
 * @param clientKey the client it was started for, or {@code null}
 * @param userKey the user it was started for, or {@code null}
 * @param bytesSent body bytes handed to the container so far
 * @param length body bytes it is to send
 * @param state what it is doing or waiting for
 * @param elapsedNanos since it started
 */
public record TransferView(TransferLabel label, Object clientKey, Object userKey, long bytesSent, long length,
        Transfer.State state, long elapsedNanos) {
}
