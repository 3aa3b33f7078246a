package org.dl4jsr.checkpoint;

import java.io.IOException;

/** A checkpoint file that cannot be loaded: not a checkpoint, truncated, corrupt, or from an unknown format version. */
public final class Bf16CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    Bf16CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
