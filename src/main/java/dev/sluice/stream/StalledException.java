package dev.sluice.stream;

import java.io.IOException;
import java.time.Duration;

/** The client accepted no byte for longer than the stall timeout. */
public final class StalledException extends IOException {

    public StalledException(Duration stallTimeout) {
        super("client accepted no byte for " + stallTimeout.toMillis() + " ms");
    }
}
