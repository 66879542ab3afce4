package dev.sluice.stream;

/**
 * What a transfer is, in words, for the flight recorder and the logs. The engine does not interpret it: the
 * caller describes the file and the part of it being sent.
 *
 * @param file the file, e.g. its path under the served root
 * @param range the part being sent, e.g. {@code full} or {@code bytes 0-99/1000}
 */
public record TransferLabel(String file, String range) {

    /** For callers that have nothing to say. */
    public static final TransferLabel NONE = new TransferLabel("", "");
}
