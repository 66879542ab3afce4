package dev.sluice.stream;

/** How a transfer ended. Every transfer ends exactly once, with exactly one of these. */
public enum Outcome {
    /** Every byte of the body was written and accepted by the container. */
    COMPLETED,
    /** The client went away, the container reported a write error, or the client stalled. */
    ABORTED,
    /**
     * The server could not keep its promise: the file could not be read, or it shrank below the length that
     * the response headers announced. The response must be cut off, never padded or ended short and "clean".
     */
    FAILED
}
